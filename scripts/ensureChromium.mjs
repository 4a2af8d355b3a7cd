/**
 * The browser the UI tests and the grid benchmark drive: Debian's `chromium`
 * package, driven by playwright-core. Playwright's own browser download is
 * never used (no network access to its CDN here, and a distro package gets
 * security updates), so on a fresh machine this installs the package with
 * apt-get, which is what `npm test` relies on.
 *
 *   node scripts/ensureChromium.mjs      prints the path, installing first if needed
 *
 * $SLUICE_CHROMIUM points at another Chromium binary (then nothing is installed).
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

export const DEFAULT_CHROMIUM = "/usr/bin/chromium";
const INSTALL_HINT = "apt-get update && apt-get install -y --no-install-recommends chromium";

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command) {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => dir && isExecutable(join(dir, command)));
}

function run(command, args) {
  process.stderr.write(`ensureChromium: ${command} ${args.join(" ")}\n`);
  const r = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit code ${r.status}${r.signal ? ` (signal ${r.signal})` : ""}`;
    throw new Error(`Installing Chromium failed: \`${command} ${args.join(" ")}\` ended with ${why}. Install it by hand (as root): ${INSTALL_HINT}`);
  }
}

/**
 * Path of a Chromium executable: $SLUICE_CHROMIUM when set (it must exist),
 * else /usr/bin/chromium, installed with apt-get first when missing and we are
 * root. Throws an error that names the command to run otherwise.
 */
export function ensureChromium() {
  const override = process.env.SLUICE_CHROMIUM;
  if (override) {
    if (isExecutable(override)) return override;
    throw new Error(`SLUICE_CHROMIUM is set to "${override}", which is not an executable file. Point it at a Chromium binary, or unset it to use ${DEFAULT_CHROMIUM}.`);
  }
  if (isExecutable(DEFAULT_CHROMIUM)) return DEFAULT_CHROMIUM;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !onPath("apt-get")) {
    throw new Error(
      `Chromium is not installed (${DEFAULT_CHROMIUM} is missing) and cannot be installed from here (${isRoot ? "apt-get not found" : "not running as root"}). ` +
        `Install it with: sudo sh -c '${INSTALL_HINT}', or set SLUICE_CHROMIUM to a Chromium executable.`,
    );
  }
  process.stderr.write(`ensureChromium: ${DEFAULT_CHROMIUM} is missing; installing Debian's chromium package (the browser tests drive it)…\n`);
  run("apt-get", ["update"]);
  run("apt-get", ["install", "-y", "--no-install-recommends", "chromium"]);
  if (!existsSync(DEFAULT_CHROMIUM)) {
    throw new Error(`apt-get installed "chromium" but ${DEFAULT_CHROMIUM} still does not exist. Check \`dpkg -L chromium\`, or set SLUICE_CHROMIUM to the binary.`);
  }
  return DEFAULT_CHROMIUM;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    console.log(ensureChromium());
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
