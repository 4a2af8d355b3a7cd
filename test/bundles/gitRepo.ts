/** A real git repository for bundle tests: a bare "remote" reached over file:// and a work tree that commits and pushes to it. */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface TestRepo {
  /** file:// URL of the bare repository. */
  url: string;
  /** Write files (path → text; null deletes), commit them with `message` and push; returns the commit id. */
  commit(files: Record<string, string | null>, message: string): string;
  close(): void;
}

export function createTestRepo(branch = "main"): TestRepo {
  const root = mkdtempSync(join(tmpdir(), "sluice-git-"));
  const bare = join(root, "remote.git");
  const work = join(root, "work");
  const git = (args: string[], cwd = work) =>
    execFileSync("git", ["-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "-c", "init.defaultBranch=" + branch, ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  mkdirSync(work);
  git(["init", "--bare", "--quiet", bare], root);
  git(["init", "--quiet"]);
  git(["remote", "add", "origin", bare]);
  return {
    url: `file://${bare}`,
    commit(files, message) {
      for (const [path, text] of Object.entries(files)) {
        const abs = join(work, path);
        if (text === null) rmSync(abs, { force: true });
        else {
          mkdirSync(dirname(abs), { recursive: true });
          writeFileSync(abs, text);
        }
      }
      git(["add", "-A"]);
      git(["commit", "--quiet", "-m", message]);
      git(["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`]);
      return git(["rev-parse", "HEAD"]);
    },
    close() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * DAG "pipe" of a bundle at `version`: task a waits for the file `gate` (so a test can push a
 * newer commit mid-run), then b reports which version each task ran.
 */
export const gatedPipeDag = (version: string, gate: string): string => `import { existsSync } from "node:fs";
import { dag } from "sluice";
export default dag({ id: "pipe", schedule: null }, (d) => {
  const a = d.task("a", async () => {
    // Waits for the test's gate file so the test can push a new commit mid-run.
    while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 25));
    return "a ${version}";
  });
  d.task("b", async (_ctx, { a: x }) => \`\${x}, b ${version}\`, { upstream: [a] });
});
`;
