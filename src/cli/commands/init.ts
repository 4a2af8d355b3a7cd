import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, rename, writeFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { globals } from "../context.js";
import { print } from "../format.js";

/** Root of this Sluice package (dist/src/cli/commands -> package root). */
const PACKAGE_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export function registerInit(program: Command): void {
  program
    .command("init <dir>")
    .description("Scaffold a pipelines project: package.json, dags/ with an example, sluice.config.json")
    .option("--no-install", "do not run npm install afterwards")
    .addHelpText("after", "\nExample:\n  $ npx sluice init my-pipelines && cd my-pipelines && npx sluice standalone")
    .action(async (dir: string, opts: { install: boolean }, cmd: Command) => {
      const g = globals(cmd);
      const target = resolve(dir);
      if (existsSync(target) && (await readdir(target)).length > 0) {
        throw new SluiceError(ErrorCode.Usage, `${target} exists and is not empty; choose a new directory name.`);
      }
      await mkdir(target, { recursive: true });
      await cp(resolve(PACKAGE_ROOT, "templates/project"), target, { recursive: true });
      const name = basename(target).toLowerCase().replace(/[^a-z0-9._-]/g, "-");
      // The SDK is linked from this installation, so the types in the editor match the running Sluice.
      const pkg = {
        name,
        private: true,
        type: "module",
        scripts: { start: "sluice standalone", check: "sluice dags check", test: "sluice dags check" },
        dependencies: { sluice: `file:${PACKAGE_ROOT.replace(/\/$/, "")}` },
      };
      await writeFile(resolve(target, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
      // npm drops files named .gitignore from packages, so the template ships it as "gitignore".
      await rename(resolve(target, "gitignore"), resolve(target, ".gitignore"));
      let installed = false;
      if (opts.install) {
        const r = spawnSync("npm", ["install", "--no-audit", "--no-fund"], { cwd: target, stdio: g.json ? "ignore" : "inherit" });
        installed = r.status === 0;
        if (!installed) process.stderr.write("warning: npm install failed; run it yourself in the new project.\n");
      }
      print(!!g.json, { dir: target, installed }, () =>
        [`Created ${target}`, "", "Next:", `  cd ${dir}`, "  npx sluice standalone     # runs dags/ on SQLite in ./.sluice", "  npx sluice dags test hello"].join("\n"),
      );
    });
}
