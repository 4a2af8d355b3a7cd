/**
 * The Spark the Spark tests run against: the `pyspark` package from PyPI in a
 * virtualenv at .venv/spark. Its package folder is a complete SPARK_HOME (bin/
 * spark-class, bin/spark-submit, jars/), so the tests start a real standalone
 * master and workers from it with the machine's Java 17 — no Spark download
 * from anywhere but PyPI.
 *
 *   node scripts/ensureSpark.mjs      prints SPARK_HOME and the venv's python, installing first if needed
 *
 * The first install downloads ~450 MB (pyspark is published as a source
 * archive that bundles Spark's jars); later calls only check the version.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Pinned: 4.0.1 runs on Java 17 (Spark 4 needs 17+) and Python 3.9+, and is the
 * version the tests and docs were checked with.
 */
export const PYSPARK_VERSION = "4.0.1";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const SPARK_VENV = join(ROOT, ".venv", "spark");

function say(text) {
  process.stderr.write(`ensureSpark: ${text}\n`);
}

function run(command, args, what) {
  say(`${what}: ${command} ${args.join(" ")}`);
  const started = Date.now();
  // pip's own progress goes to stderr, so CI logs show the download as it happens.
  const r = spawnSync(command, args, { stdio: ["ignore", 2, 2], env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1" } });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit code ${r.status}${r.signal ? ` (signal ${r.signal})` : ""}`;
    throw new Error(`${what} failed: \`${command} ${args.join(" ")}\` ended with ${why}. Remove ${SPARK_VENV} and run \`node scripts/ensureSpark.mjs\` again, or set SLUICE_TEST_SPARK_HOME and SLUICE_TEST_SPARK_PYTHON to an existing Spark.`);
  }
  say(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The installed pyspark's version and folder, or undefined when the venv has none. */
function installed(python) {
  if (!existsSync(python)) return undefined;
  const r = spawnSync(python, ["-c", "import os, pyspark; print(pyspark.__version__); print(os.path.dirname(pyspark.__file__))"], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  const [version, home] = r.stdout.trim().split("\n");
  return version && home ? { version, home } : undefined;
}

function checkJava() {
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin", "java") : "java";
  const r = spawnSync(java, ["-version"], { encoding: "utf8" });
  if (r.error || r.status !== 0) {
    throw new Error(`Spark needs Java 17 or newer, and \`${java} -version\` failed (${r.error?.message ?? `exit code ${r.status}`}). Install it (apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME.`);
  }
  const m = /version "(\d+)/.exec(r.stderr);
  if (m && Number(m[1]) < 17) throw new Error(`Spark ${PYSPARK_VERSION} needs Java 17 or newer; \`${java}\` is Java ${m[1]}. Install Java 17 or point JAVA_HOME at it.`);
}

/**
 * SPARK_HOME (the pyspark package folder) and the Python that runs PySpark
 * jobs: $SLUICE_TEST_SPARK_HOME / $SLUICE_TEST_SPARK_PYTHON when both are set,
 * else .venv/spark, created and filled from PyPI when missing or of another version.
 */
export function ensureSpark() {
  checkJava();
  const { SLUICE_TEST_SPARK_HOME: home, SLUICE_TEST_SPARK_PYTHON: py } = process.env;
  if (home || py) {
    if (!home || !py) throw new Error("Set both SLUICE_TEST_SPARK_HOME and SLUICE_TEST_SPARK_PYTHON (or neither, to use .venv/spark).");
    if (!existsSync(join(home, "bin", "spark-class"))) throw new Error(`SLUICE_TEST_SPARK_HOME is "${home}", which has no bin/spark-class. Point it at a Spark distribution or a pyspark package folder.`);
    return { sparkHome: home, python: py, version: "external" };
  }
  const python = join(SPARK_VENV, "bin", "python");
  let have = installed(python);
  if (have?.version === PYSPARK_VERSION) return { sparkHome: have.home, python, version: have.version };
  if (!existsSync(python)) run("python3", ["-m", "venv", SPARK_VENV], `creating the virtualenv ${SPARK_VENV}`);
  say(have ? `pyspark ${have.version} is installed; replacing it with ${PYSPARK_VERSION}` : `pyspark ${PYSPARK_VERSION} is not installed; installing it from PyPI (about 450 MB, a few minutes the first time)`);
  run(python, ["-m", "pip", "install", "--progress-bar", "off", `pyspark==${PYSPARK_VERSION}`], `installing pyspark ${PYSPARK_VERSION}`);
  have = installed(python);
  if (!have || have.version !== PYSPARK_VERSION) throw new Error(`pip reported success but ${python} cannot import pyspark ${PYSPARK_VERSION}. Remove ${SPARK_VENV} and try again.`);
  if (!existsSync(join(have.home, "bin", "spark-class"))) throw new Error(`The pyspark package at ${have.home} has no bin/spark-class; it cannot start a standalone cluster.`);
  say(`SPARK_HOME is ${have.home}`);
  return { sparkHome: have.home, python, version: have.version };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const s = ensureSpark();
    console.log(`SPARK_HOME=${s.sparkHome}`);
    console.log(`PYSPARK_PYTHON=${s.python}`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
