/**
 * A random key kept in a file under the Sluice home (the secrets key, the
 * task token key): read it, or create it on first use. Creation is atomic
 * (write a private temp file, then hard-link it into place), so processes
 * starting together agree on one key and none reads a half-written file.
 */
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";

export interface KeyFileOptions {
  bytes: number;
  /** Create the file when it does not exist (else answer undefined). */
  create: boolean;
  /** Parse the file's text; throws the caller's error naming the fix. */
  decode: (text: string, file: string) => Buffer;
  /** The caller's error for a file that exists but cannot be read. */
  unreadable: (file: string, cause: Error) => Error;
}

export async function loadKeyFile(file: string, o: KeyFileOptions): Promise<Buffer | undefined> {
  try {
    return o.decode(await readFile(file, "utf8"), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      // A decode error (a key file with junk in it) is already the caller's error.
      if ((err as NodeJS.ErrnoException).code === undefined) throw err;
      throw o.unreadable(file, err as Error);
    }
  }
  if (!o.create) return undefined;
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(o.bytes);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    // writeFile's mode is filtered by the umask; make sure nobody else can read it.
    await chmod(tmp, 0o600);
    try {
      await link(tmp, file);
      return key;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // Another process created it first: use theirs.
      return o.decode(await readFile(file, "utf8"), file);
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
