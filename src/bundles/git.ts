/**
 * The git command line, for bundles. We shell out to git rather than use a
 * JavaScript implementation: it is what users debug with, it speaks every
 * transport (https with tokens, ssh, file://) and its partial fetches are fast.
 * Credentials never appear in argv (visible in `ps`): an HTTPS token goes in
 * through GIT_CONFIG_* environment variables as an Authorization header, an
 * SSH key through GIT_SSH_COMMAND. Errors are scrubbed of the token.
 */
import { spawn } from "node:child_process";
import { ErrorCode, SluiceError } from "../core/errors.js";

export interface GitAuth {
  token?: string;
  sshKeyFile?: string;
}

export class GitError extends SluiceError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(ErrorCode.GitFailed, message, opts);
    this.name = "GitError";
  }
}

const DEFAULT_TIMEOUT_MS = 120_000;

function gitEnv(auth: GitAuth): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: "0", GIT_ASKPASS: "echo", LC_ALL: "C" };
  let n = 0;
  const add = (key: string, value: string) => {
    env[`GIT_CONFIG_KEY_${n}`] = key;
    env[`GIT_CONFIG_VALUE_${n}`] = value;
    n++;
  };
  // GitHub accepts a token as the password of Basic auth with any user name.
  if (auth.token) add("http.extraHeader", `Authorization: Basic ${Buffer.from(`x-access-token:${auth.token}`).toString("base64")}`);
  // A bare repository's objects only: no hooks, no global templates.
  add("core.hooksPath", "/dev/null");
  env.GIT_CONFIG_COUNT = String(n);
  if (auth.sshKeyFile) env.GIT_SSH_COMMAND = `ssh -i ${JSON.stringify(auth.sshKeyFile)} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new -o BatchMode=yes`;
  return env;
}

/** Run git; resolves with stdout (as a Buffer when `binary`), rejects with a GitError carrying git's stderr. */
export function git(args: readonly string[], opts: { cwd?: string; auth?: GitAuth; timeoutMs?: number; stdoutTo?: NodeJS.WritableStream } = {}): Promise<string> {
  const auth = opts.auth ?? {};
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: opts.cwd, env: gitEnv(auth), stdio: ["ignore", opts.stdoutTo ? "pipe" : "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    if (opts.stdoutTo) child.stdout.pipe(opts.stdoutTo);
    else child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
      reject(new GitError(missing ? "git is not installed on this machine; install it (Debian: apt-get install git) to use git bundles." : `git ${args[0]}: ${e.message}`, { cause: e }));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
      const text = scrub(err.trim() || `exit ${code ?? signal}`, auth);
      reject(new GitError(signal === "SIGKILL" ? `git ${args[0]} took longer than ${opts.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms and was stopped` : `git ${args[0]} failed: ${text}`));
    });
  });
}

function scrub(text: string, auth: GitAuth): string {
  let t = text;
  if (auth.token) t = t.split(auth.token).join("****");
  // URLs with inline credentials (https://user:pass@host).
  return t.replace(/(https?:\/\/)[^/\s:@]+:[^/\s@]+@/g, "$1****@");
}

export interface CommitInfo {
  sha: string;
  author: string;
  committedAt: number;
  message: string;
}

/** The commit's metadata (author "Name <email>", committer time, full message). */
export async function commitInfo(gitDir: string, sha: string): Promise<CommitInfo> {
  const out = await git(["--git-dir", gitDir, "log", "-1", "--format=%H%x00%an <%ae>%x00%ct%x00%B", sha]);
  const [full, author, ct, message] = out.split("\0");
  return { sha: full.trim(), author, committedAt: Number(ct) * 1000, message: message.trim() };
}
