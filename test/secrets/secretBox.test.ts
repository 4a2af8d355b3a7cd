/**
 * Encryption of stored secrets: the key file (created once, 0600, shared by
 * processes that start together), round trips, tamper and wrong-key
 * detection with messages that say what to do and never echo the value, and
 * the `secrets.key` config option (validated, masked by `config show`).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { defaultConfig, describeConfig, maskSecrets } from "../../src/config/config.js";
import { loadConfig } from "../../src/config/loadConfig.js";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { decryptWithKey, encryptWithKey, isEncrypted, KEY_FILE_NAME, SecretBox, SecretKeyError } from "../../src/secrets/secretBox.js";
import { looksSecret, MASK, maskSecretFields, restoreMasked } from "../../src/secrets/sensitive.js";

const tempHome = () => mkdtempSync(join(tmpdir(), "sluice-secrets-"));
const boxFor = (home: string, key?: string) => new SecretBox({ home, secrets: { key } });
const newKey = () => randomBytes(32).toString("base64");

/** The error `fn` throws; fails when it throws nothing. */
async function thrown(fn: () => unknown): Promise<SluiceError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof SecretKeyError, `expected SecretKeyError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.ConfigInvalid);
    return err;
  }
  assert.fail("expected an error");
}

/** Flip one bit of the base64 field `index` (1 = IV, 2 = tag, 3 = ciphertext) of a stored value. */
function tamper(stored: string, index: number): string {
  const parts = stored.split(":");
  const bytes = Buffer.from(parts[index], "base64");
  bytes[0] ^= 1;
  parts[index] = bytes.toString("base64");
  return parts.join(":");
}

describe("SecretBox", () => {
  it("creates <home>/secret.key (mode 0600, base64 of 32 bytes) on the first encrypt, and a second box reads the same key", async () => {
    const home = join(tempHome(), "nested", "home");
    const box = boxFor(home);
    const file = join(home, KEY_FILE_NAME);
    assert.equal(existsSync(file), false, "nothing is created before a secret is stored");
    const stored = await box.encrypt("hunter2");
    assert.ok(existsSync(file));
    if (process.platform !== "win32") assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(Buffer.from(readFileSync(file, "utf8").trim(), "base64").length, 32);
    // A new process (a new box) finds the key and decrypts what the first one wrote.
    assert.equal(await boxFor(home).decrypt(stored), "hunter2");
    const before = readFileSync(file, "utf8");
    await boxFor(home).encrypt("again");
    assert.equal(readFileSync(file, "utf8"), before, "an existing key file is never replaced");
  });

  it("agrees on one key when several boxes create the key file at the same moment", async () => {
    const home = tempHome();
    const boxes = Array.from({ length: 8 }, () => boxFor(home));
    const stored = await Promise.all(boxes.map((b, i) => b.encrypt(`value ${i}`)));
    for (let i = 0; i < boxes.length; i++) {
      assert.equal(await boxes[(i + 1) % boxes.length].decrypt(stored[i]), `value ${i}`);
    }
  });

  it("round-trips any text in the v1 format, with a fresh IV every time", async () => {
    const box = boxFor(tempHome(), newKey());
    for (const text of ["", "p@ss:word/with:colons", "ünïcødé ✓ 鍵", "x".repeat(100_000)]) {
      const stored = await box.encrypt(text);
      assert.match(stored, /^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/);
      assert.ok(isEncrypted(stored));
      assert.equal(await box.decrypt(stored), text);
    }
    const a = await box.encrypt("same");
    const b = await box.encrypt("same");
    assert.notEqual(a, b, "equal plaintexts must not give equal ciphertexts");
  });

  it("uses secrets.key when set, and never creates a key file then", async () => {
    const home = tempHome();
    const key = newKey();
    const stored = await boxFor(home, key).encrypt("s3cr3t");
    assert.equal(existsSync(join(home, KEY_FILE_NAME)), false);
    assert.equal(decryptWithKey(Buffer.from(key, "base64"), stored), "s3cr3t");
  });

  it("detects a changed IV, tag or ciphertext (GCM authentication) with a message that names the secret but not its value", async () => {
    const box = boxFor(tempHome(), newKey());
    const stored = await box.encrypt("the-plaintext");
    for (const index of [1, 2, 3]) {
      const altered = tamper(stored, index);
      const err = await thrown(() => box.decrypt(altered, 'variable "db_password"'));
      assert.match(err.message, /variable "db_password"/);
      assert.match(err.message, /altered/);
      assert.ok(!err.message.includes(altered.split(":")[3]), "the ciphertext is not in the message");
      assert.ok(!err.message.includes("the-plaintext"));
    }
    const err = await thrown(() => box.decrypt("plain text someone wrote by hand", "connection x"));
    assert.match(err.message, /not in Sluice's encrypted format/);
    assert.ok(!err.message.includes("plain text someone"));
    await thrown(() => box.decrypt("v1:AAAA:BBBB:CCCC"));
  });

  it("refuses a wrong key with a message that says the key changed and how to fix it", async () => {
    const stored = await boxFor(tempHome(), newKey()).encrypt("hunter2");
    const err = await thrown(() => boxFor(tempHome(), newKey()).decrypt(stored, 'the password of connection "pg"'));
    assert.match(err.message, /the password of connection "pg"/);
    assert.match(err.message, /secrets key is not the one it was encrypted with/);
    assert.match(err.message, /SLUICE_SECRETS__KEY/);
    assert.match(err.message, /restore the previous key/i);
    assert.ok(!err.message.includes(stored.split(":")[3]));
    // The key file of another home is another key, too.
    const home = tempHome();
    const fromFile = await boxFor(home).encrypt("x");
    await thrown(() => boxFor(tempHome(), newKey()).decrypt(fromFile));
  });

  it("does not invent a key to decrypt with: a missing key file is an error, and is not created", async () => {
    const home = tempHome();
    const stored = encryptWithKey(randomBytes(32), "x");
    const err = await thrown(() => boxFor(home).decrypt(stored));
    assert.match(err.message, /No secrets key/);
    assert.match(err.message, /secret\.key does not exist/);
    assert.equal(existsSync(join(home, KEY_FILE_NAME)), false);
  });

  it("rejects a damaged key file with its path and the fix", async () => {
    const home = tempHome();
    writeFileSync(join(home, KEY_FILE_NAME), "too-short\n", { mode: 0o600 });
    const err = await thrown(() => boxFor(home).encrypt("x"));
    assert.ok(err.message.includes(join(home, KEY_FILE_NAME)));
    assert.match(err.message, /openssl rand -base64 32/);
    assert.equal(readFileSync(join(home, KEY_FILE_NAME), "utf8"), "too-short\n", "the damaged file is left for the admin to look at");
  });
});

describe("secrets.key config option", () => {
  it("comes from SLUICE_SECRETS__KEY, is validated without echoing it, and `config show` masks it", async () => {
    const key = newKey();
    const { config } = await loadConfig({ cwd: tempHome(), env: { SLUICE_SECRETS__KEY: key } });
    assert.equal(config.secrets.key, key);
    const shown = describeConfig(config).find((r) => r.key === "secrets.key");
    assert.ok(shown, "config show lists secrets.key");
    assert.notEqual(shown.value, key);
    assert.equal(shown.value, "****");
    assert.ok(!JSON.stringify(maskSecrets(config)).includes(key), "the JSON form masks it too");
    assert.equal(defaultConfig().secrets.key, undefined);

    const bad = "not-a-key-but-a-password";
    await assert.rejects(
      loadConfig({ cwd: tempHome(), env: { SLUICE_SECRETS__KEY: bad } }),
      (err: SluiceError) => {
        assert.equal(err.code, ErrorCode.ConfigInvalid);
        assert.match(err.message, /secrets\.key: expected the base64 encoding of exactly 32 bytes/);
        assert.match(err.message, /SLUICE_SECRETS__KEY/);
        assert.ok(!err.message.includes(bad));
        return true;
      },
    );
    // 32 bytes is exact: 16 or 48 bytes are refused too.
    for (const n of [16, 48]) {
      await assert.rejects(loadConfig({ cwd: tempHome(), env: { SLUICE_SECRETS__KEY: randomBytes(n).toString("base64") } }), /exactly 32 bytes/);
    }
  });
});

describe("secret-looking names", () => {
  it("follows Airflow's rule for variable keys and extra fields", () => {
    for (const k of ["db_password", "PASSWORD", "aws_secret_access_key", "slack_token", "openai_api_key", "apiKey", "ssh_private_key", "gcp_credentials"]) {
      assert.ok(looksSecret(k), k);
    }
    for (const k of ["region", "bucket", "timeout", "host", "account_id"]) assert.ok(!looksSecret(k), k);
  });

  it("masks values under secret keys at any depth, and restores masks sent back from the stored object", () => {
    const stored = { region: "eu", api_key: "AKIA", nested: { client_secret: "cs", list: [{ token: "t" }] }, empty_token: "" };
    const masked = maskSecretFields(stored) as any;
    assert.deepEqual(masked, { region: "eu", api_key: MASK, nested: { client_secret: MASK, list: [{ token: MASK }] }, empty_token: "" });
    assert.deepEqual(stored.nested.list[0], { token: "t" }, "the input is not modified");
    const edited = { ...masked, region: "us", nested: { client_secret: MASK, list: [] } };
    assert.deepEqual(restoreMasked(edited, stored), { region: "us", api_key: "AKIA", nested: { client_secret: "cs", list: [] }, empty_token: "" });
    // A mask under a key that was not stored before is a literal value, not a hole to fill.
    assert.deepEqual(restoreMasked({ new_token: MASK }, stored), { new_token: MASK });
  });
});
