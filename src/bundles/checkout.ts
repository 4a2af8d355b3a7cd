/**
 * A bundle on disk, under <home>/bundles/<name>/:
 *   repo.git/         a bare clone, fetched on each sync
 *   versions/<sha>/   one directory per checked-out commit, never changed once there
 *   current ->        symlink to the published commit's directory (for people and tools;
 *                     Sluice itself resolves each run's commit, not "current")
 * Any process that runs tasks (scheduler, task process, worker, pod) calls
 * ensureVersion() for its run's commit: a missing directory is made from the
 * repository (cloned or fetched first if needed), so a pod with an empty disk
 * gets exactly its run's code, and garbage collection can remove directories
 * freely.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readlink, rename, rm, symlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { SluiceConfig } from "../config/config.js";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { git, GitError, type GitAuth } from "./git.js";

export type BundleSettings = SluiceConfig["bundles"][number];

export const bundleRoot = (home: string, name: string) => join(resolve(home), "bundles", name);
export const repoDir = (home: string, name: string) => join(bundleRoot(home, name), "repo.git");
export const versionsDir = (home: string, name: string) => join(bundleRoot(home, name), "versions");
export const versionDir = (home: string, name: string, sha: string) => join(versionsDir(home, name), sha);

const SHA = /^[0-9a-f]{40}$/;

/** The HTTPS token or SSH key of a bundle, from the config (tokenEnv is read from this process's environment). */
export function bundleAuth(b: BundleSettings): GitAuth {
  const token = b.token ?? (b.tokenEnv ? process.env[b.tokenEnv] : undefined);
  if (b.tokenEnv && !token) throw new SluiceError(ErrorCode.ConfigInvalid, `Bundle "${b.name}": the environment variable ${b.tokenEnv} (bundles[].tokenEnv) is not set in this process; set it or remove tokenEnv.`);
  return { token, sshKeyFile: b.sshKeyFile };
}

/** The settings of bundle `name`, or an error naming the configured ones. */
export function bundleSettings(bundles: readonly BundleSettings[], name: string): BundleSettings {
  const b = bundles.find((x) => x.name === name);
  if (!b) {
    const known = bundles.map((x) => x.name).join(", ") || "none";
    throw new SluiceError(ErrorCode.BundleNotFound, `No bundle "${name}" is configured here (configured: ${known}). Every process that runs tasks needs the same bundles setting (SLUICE_BUNDLES).`);
  }
  return b;
}

/** Clone the repository (bare) if this machine has none yet; fetch the branch when `fetch` or when `needSha` is missing. */
export async function updateRepo(home: string, b: BundleSettings, opts: { fetch: boolean; needSha?: string }): Promise<string> {
  const dir = repoDir(home, b.name);
  const auth = bundleAuth(b);
  if (!existsSync(join(dir, "HEAD"))) {
    await mkdir(bundleRoot(home, b.name), { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await git(["clone", "--bare", "--quiet", "--single-branch", "--branch", b.branch, b.repo, tmp], { auth });
    try {
      await rename(tmp, dir);
    } catch (err) {
      // Another process cloned it meanwhile: use theirs.
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(join(dir, "HEAD"))) throw err;
    }
    return dir;
  }
  const has = async (sha: string) => git(["--git-dir", dir, "cat-file", "-e", `${sha}^{commit}`]).then(() => true, () => false);
  if (opts.fetch || (opts.needSha && !(await has(opts.needSha)))) {
    const ref = b.branch;
    await git(["--git-dir", dir, "fetch", "--quiet", "--prune", "--force", "origin", `+refs/heads/${ref}:refs/heads/${ref}`], { auth }).catch(async (err) => {
      // Not a branch: a tag.
      await git(["--git-dir", dir, "fetch", "--quiet", "--force", "origin", `+refs/tags/${ref}:refs/tags/${ref}`], { auth }).catch(() => {
        throw err;
      });
    });
  }
  return dir;
}

/** The commit the followed branch (or tag) points at in the local clone. */
export async function branchHead(home: string, b: BundleSettings): Promise<string> {
  return (await git(["--git-dir", repoDir(home, b.name), "rev-parse", `${b.branch}^{commit}`])).trim();
}

/**
 * The directory of commit `sha` of bundle `b`, created from the repository if
 * missing: `git archive` into a temporary directory renamed into place, so a
 * reader never sees a half-written version (and two processes racing both end
 * up with one complete directory).
 */
export async function ensureVersion(home: string, b: BundleSettings, sha: string): Promise<string> {
  if (!SHA.test(sha)) throw new GitError(`"${sha}" is not a full commit id (40 hex digits).`);
  const dir = versionDir(home, b.name, sha);
  if (existsSync(dir)) return dir;
  const gitDir = await updateRepo(home, b, { fetch: false, needSha: sha });
  await mkdir(versionsDir(home, b.name), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    await extract(gitDir, sha, tmp);
    await rename(tmp, dir).catch(async (err) => {
      if (!existsSync(dir)) throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** `git archive <sha> | tar -x -C <dir>`. */
function extract(gitDir: string, sha: string, dir: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const tar = spawn("tar", ["-x", "-C", dir], { stdio: ["pipe", "ignore", "pipe"] });
    let tarErr = "";
    tar.stderr.on("data", (d: Buffer) => (tarErr += d.toString("utf8")));
    const archive = git(["--git-dir", gitDir, "archive", "--format=tar", sha], { stdoutTo: tar.stdin });
    const tarDone = new Promise<void>((ok, fail) => {
      tar.on("error", fail);
      tar.on("close", (code) => (code === 0 ? ok() : fail(new GitError(`tar could not unpack commit ${sha}: ${tarErr.trim() || `exit ${code}`}`))));
    });
    Promise.all([archive, tarDone]).then(() => resolvePromise(), reject);
  });
}

/** Point <bundle>/current at the published commit: a new symlink renamed over the old one (atomic on POSIX). */
export async function publishCurrent(home: string, name: string, sha: string): Promise<void> {
  const link = join(bundleRoot(home, name), "current");
  if ((await readlink(link).catch(() => "")) === join("versions", sha)) return;
  const tmp = `${link}.tmp-${process.pid}-${Date.now()}`;
  await symlink(join("versions", sha), tmp);
  await rename(tmp, link);
}

/** Where a DAG file lives: "@<bundle>/<path>" in a bundle's commit, otherwise relative to the DAG folder. */
export function parseBundleFileloc(fileloc: string): { bundle: string; path: string } | undefined {
  const m = /^@([^/]+)\/(.+)$/.exec(fileloc);
  return m ? { bundle: m[1], path: m[2] } : undefined;
}
