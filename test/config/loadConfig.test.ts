import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { defaultConfig, SluiceConfigSchema } from "../../src/config/config.js";
import { describeConfig, loadConfig, maskSecrets, resolveDbUrl } from "../../src/config/loadConfig.js";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";

// Every test gets a fresh directory so config files (and tsx's import cache) never leak between tests.
const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sluice-config-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

/** Resolves to the SluiceError's message after checking it is a ConfigInvalid. */
async function configError(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => assert.fail("expected loadConfig to throw"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SluiceError, `not a SluiceError: ${String(err)}`);
  assert.equal(err.code, ErrorCode.ConfigInvalid);
  return err.message;
}

describe("loadConfig", () => {
  it("uses defaults when there is no file or env, and {} is a valid config", async () => {
    const cwd = await tempDir();
    const { config, sources } = await loadConfig({ cwd, env: { PATH: "/bin", HOME: "/root" } });
    assert.deepEqual(sources, ["defaults"]);
    assert.equal(config.home, path.join(cwd, ".sluice"));
    assert.equal(config.dagsFolder, path.join(cwd, "dags"));
    assert.equal(config.db.url, undefined);
    assert.equal(config.scheduler.parallelism, 32);
    assert.equal(config.scheduler.loopIntervalMs, 1000);
    assert.equal(config.executor.kind, "local");
    assert.equal(config.executor.slots, os.availableParallelism());
    assert.equal(config.tasks.maxResultBytes, 65536);
    assert.equal(config.logging.level, "info");
    assert.deepEqual(SluiceConfigSchema.parse({}), defaultConfig());
  });

  it("ignores SLUICE_TEST_* and empty SLUICE_* variables", async () => {
    const cwd = await tempDir();
    const { sources } = await loadConfig({ cwd, env: { SLUICE_TEST_DB: "x", SLUICE_HOME: "" } });
    assert.deepEqual(sources, ["defaults"]);
  });

  it("applies defaults < file < env < overrides", async () => {
    const cwd = await tempDir({
      "sluice.config.json": JSON.stringify({
        scheduler: { parallelism: 10, loopIntervalMs: 500 },
        executor: { slots: 2 },
        logging: { level: "debug" },
      }),
    });
    const { config, sources } = await loadConfig({
      cwd,
      env: { SLUICE_EXECUTOR__SLOTS: "4", SLUICE_SCHEDULER__LOOP_INTERVAL_MS: "200" },
      overrides: { scheduler: { loopIntervalMs: 50 }, dagsFolder: undefined },
    });
    assert.equal(config.scheduler.parallelism, 10); // file only
    assert.equal(config.logging.level, "debug"); // file only
    assert.equal(config.executor.slots, 4); // env beats file
    assert.equal(config.scheduler.loopIntervalMs, 50); // overrides beat env
    assert.equal(config.dagsFolder, path.join(cwd, "dags")); // undefined override ignored
    assert.deepEqual(sources, [
      "defaults",
      path.join(cwd, "sluice.config.json"),
      "SLUICE_EXECUTOR__SLOTS",
      "SLUICE_SCHEDULER__LOOP_INTERVAL_MS",
      "overrides",
    ]);
  });

  it("loads a TS config file whose default export is a function", async () => {
    const cwd = await tempDir({
      "sluice.config.ts": [
        "interface Ctx { env: Record<string, string | undefined> }",
        "export default ({ env }: Ctx) => ({ executor: { slots: Number(env.SLUICE_TEST_SLOTS) }, home: 'state' });",
      ].join("\n"),
    });
    const { config, sources } = await loadConfig({ cwd, env: { SLUICE_TEST_SLOTS: "7" } });
    assert.equal(config.executor.slots, 7);
    assert.equal(config.home, path.join(cwd, "state"));
    assert.deepEqual(sources, ["defaults", path.join(cwd, "sluice.config.ts")]);
  });

  it("loads a TS config file exporting an object, preferring JSON when both exist", async () => {
    const ts = "const c: { parsing: { processes: number } } = { parsing: { processes: 5 } };\nexport default c;\n";
    const onlyTs = await tempDir({ "sluice.config.ts": ts });
    assert.equal((await loadConfig({ cwd: onlyTs, env: {} })).config.parsing.processes, 5);

    const both = await tempDir({ "sluice.config.ts": ts, "sluice.config.json": '{"parsing":{"processes":3}}' });
    assert.equal((await loadConfig({ cwd: both, env: {} })).config.parsing.processes, 3);
  });

  it("uses an explicit configPath and fails clearly when it is missing", async () => {
    const cwd = await tempDir({ "conf/custom.mjs": "export default { tasks: { maxResultBytes: 2048 } };" });
    const { config } = await loadConfig({ cwd, env: {}, configPath: "conf/custom.mjs" });
    assert.equal(config.tasks.maxResultBytes, 2048);

    const msg = await configError(loadConfig({ cwd, env: {}, configPath: "nope.json" }));
    assert.match(msg, /Config file not found: .*nope\.json/);
  });

  it("reports bad JSON with the file and position", async () => {
    const cwd = await tempDir({ "sluice.config.json": '{\n  "home": "x",\n}\n' });
    const err = await loadConfig({ cwd, env: {} }).catch((e: unknown) => e);
    assert.ok(err instanceof SluiceError);
    assert.equal(err.code, ErrorCode.ConfigInvalid);
    assert.match(err.message, /sluice\.config\.json at line 3, column 1/);
    assert.deepEqual(err.location, { file: path.join(cwd, "sluice.config.json"), line: 3, column: 1 });
  });

  it("names an unknown key in the file, with a suggestion and the file as source", async () => {
    const cwd = await tempDir({ "sluice.config.json": '{"executor":{"slotz":2},"parallelism":3}' });
    const msg = await configError(loadConfig({ cwd, env: {} }));
    const file = path.join(cwd, "sluice.config.json");
    assert.ok(msg.includes(`executor.slotz: unknown key — did you mean "slots"? (from ${file})`), msg);
    // A nested option written at the top level points at its real place.
    assert.ok(msg.includes(`parallelism: unknown key — did you mean "scheduler.parallelism"? (from ${file})`), msg);
  });

  it("names an unknown SLUICE_* variable, with a suggestion", async () => {
    const cwd = await tempDir();
    const msg = await configError(loadConfig({ cwd, env: { SLUICE_EXECUTOR__SLOTZ: "4" } }));
    assert.ok(msg.includes('SLUICE_EXECUTOR__SLOTZ: not a known setting — did you mean "SLUICE_EXECUTOR__SLOTS"?'), msg);
  });

  it("reports every bad env value in one error, ending with what to do", async () => {
    const cwd = await tempDir();
    const msg = await configError(
      loadConfig({
        cwd,
        env: { SLUICE_EXECUTOR__SLOTS: "abc", SLUICE_LOGGING__LEVEL: "loud", SLUICE_PARSING__TIMEOUT_MS: "1.5" },
      }),
    );
    assert.ok(msg.includes('executor.slots: expected an integer >= 1, got "abc" (from SLUICE_EXECUTOR__SLOTS)'), msg);
    assert.ok(msg.includes('logging.level: expected one of "trace", "debug", "info", "warn", "error", got "loud" (from SLUICE_LOGGING__LEVEL)'), msg);
    assert.ok(msg.includes("parsing.timeoutMs: expected an integer >= 1, got 1.5 (from SLUICE_PARSING__TIMEOUT_MS)"), msg);
    assert.match(msg, /sluice config show/);
  });

  it("rejects unsupported database URL schemes without echoing the URL", async () => {
    const cwd = await tempDir();
    const msg = await configError(loadConfig({ cwd, env: { SLUICE_DB_URL: "mysql://u:hunter2@h/db" } }));
    assert.match(msg, /db\.url: .*\(from SLUICE_DB_URL\)/);
    assert.doesNotMatch(msg, /hunter2/);
  });

  it("resolves relative paths against the config file's folder or cwd", async () => {
    const cwd = await tempDir({
      "conf/sluice.config.json": JSON.stringify({ home: "state", db: { url: "sqlite:data/s.db" } }),
    });
    const fromFile = await loadConfig({ cwd, env: {}, configPath: "conf/sluice.config.json" });
    assert.equal(fromFile.config.home, path.join(cwd, "conf", "state"));
    assert.equal(fromFile.config.db.url, `sqlite:${path.join(cwd, "conf", "data", "s.db")}`);
    assert.equal(fromFile.config.dagsFolder, path.join(cwd, "dags")); // default: cwd

    const fromEnv = await loadConfig({
      cwd,
      env: { SLUICE_HOME: "h", SLUICE_DAGS_FOLDER: "../elsewhere/dags", SLUICE_DB_URL: "db/file.db" },
    });
    assert.equal(fromEnv.config.home, path.join(cwd, "h"));
    assert.equal(fromEnv.config.dagsFolder, path.resolve(cwd, "../elsewhere/dags"));
    assert.equal(fromEnv.config.db.url, path.join(cwd, "db", "file.db"));

    const postgres = "postgres://u:p@localhost:5432/sluice";
    const pg = await loadConfig({ cwd, env: {}, overrides: { db: { url: postgres }, home: "/abs/home" } });
    assert.equal(pg.config.db.url, postgres);
    assert.equal(pg.config.home, "/abs/home");
  });
});

describe("maskSecrets", () => {
  it("hides the database password and secret-named keys without touching the input", () => {
    const config = { ...defaultConfig(), db: { url: "postgres://user:pw@host/db" } };
    const masked = maskSecrets({ ...config, extra: { apiToken: "t0k", password: "x", clientSecret: "s" } });
    assert.deepEqual(masked.db, { url: "postgres://user:****@host/db" });
    assert.deepEqual(masked.extra, { apiToken: "****", password: "****", clientSecret: "****" });
    assert.equal(config.db.url, "postgres://user:pw@host/db");
    assert.equal((masked.scheduler as { parallelism: number }).parallelism, 32);
  });

  it("shows where a secret is read from (…Env, …File names) but not the secret", () => {
    const masked = maskSecrets({ bundles: [{ name: "p", token: "ghp_x", tokenEnv: "GH_TOKEN", sshKeyFile: "/keys/id" }], n: { kind: "slack", webhookUrl: "https://hooks/x", webhookUrlEnv: "SLACK_URL", passwordEnv: "SMTP_PW" } });
    assert.deepEqual(masked, { bundles: [{ name: "p", token: "****", tokenEnv: "GH_TOKEN", sshKeyFile: "/keys/id" }], n: { kind: "slack", webhookUrl: "****", webhookUrlEnv: "SLACK_URL", passwordEnv: "SMTP_PW" } });
  });

  it("masks passwords containing @ and leaves password-less URLs alone", () => {
    assert.deepEqual(maskSecrets({ url: "postgres://u:p@ss@host/db" }), { url: "postgres://u:****@host/db" });
    assert.deepEqual(maskSecrets({ url: "postgres://u@host/db?password=x" }), { url: "postgres://u@host/db?password=****" });
    assert.deepEqual(maskSecrets({ url: "sqlite:/tmp/a.db" }), { url: "sqlite:/tmp/a.db" });
  });
});

describe("resolveDbUrl", () => {
  const home = "/srv/sluice";
  it("defaults to <home>/sluice.db", () => {
    assert.deepEqual(resolveDbUrl({ home, db: {} }), { dialect: "sqlite", path: path.join(home, "sluice.db") });
  });
  it("handles postgres URLs, sqlite: URLs and bare paths", () => {
    const pg = "postgres://u:p@db:5432/sluice";
    assert.deepEqual(resolveDbUrl({ home, db: { url: pg } }), { dialect: "postgres", url: pg });
    assert.deepEqual(resolveDbUrl({ home, db: { url: "postgresql://db/x" } }), { dialect: "postgres", url: "postgresql://db/x" });
    assert.deepEqual(resolveDbUrl({ home, db: { url: "sqlite:/var/s.db" } }), { dialect: "sqlite", path: "/var/s.db" });
    assert.deepEqual(resolveDbUrl({ home, db: { url: "sqlite:///var/s.db" } }), { dialect: "sqlite", path: "/var/s.db" });
    assert.deepEqual(resolveDbUrl({ home, db: { url: "/var/s.db" } }), { dialect: "sqlite", path: "/var/s.db" });
  });
});

describe("describeConfig", () => {
  it("lists every option with value, default and doc, masking secrets", () => {
    const config = { ...defaultConfig(), db: { url: "postgres://u:pw@h/db" } };
    config.executor = { ...config.executor, slots: 3 };
    const rows = describeConfig(config);
    const slots = rows.find((r) => r.key === "executor.slots");
    assert.deepEqual(slots && { value: slots.value, default: slots.default }, { value: 3, default: os.availableParallelism() });
    assert.ok(slots?.doc);
    assert.equal(rows.find((r) => r.key === "db.url")?.value, "postgres://u:****@h/db");
    assert.ok(rows.every((r) => r.doc.length > 0), "every option has a doc");
    assert.equal(rows.length, 28 + 16 /* autoscaler.* */ + 15 /* kubernetes.* */ + 3 /* bundles, webhooks.github.* */ + 12 /* alerts.* (11), api.publicUrl */);
    const maxMap = rows.find((r) => r.key === "scheduler.maxMapLength");
    assert.deepEqual(maxMap && { value: maxMap.value, default: maxMap.default }, { value: 1024, default: 1024 });
  });
});
