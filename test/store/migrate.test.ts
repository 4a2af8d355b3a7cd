import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { describeError, ErrorCode, SchemaTooNewError, SluiceError } from "../../src/core/errors.js";
import { openDb, type DbTarget } from "../../src/store/db.js";
import { migrate, type MigrateResult } from "../../src/store/migrate.js";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "../../src/store/migrations/index.js";
import { openStore } from "../../src/store/store.js";
import { DIALECTS, pgAdminUrl, targetUrl } from "../helpers/db.js";
import { targetTracker } from "./fixtures/targets.js";

const CHILD = fileURLToPath(new URL("./migrateChild.js", import.meta.url));
const BIN = fileURLToPath(new URL("../../../bin/sluice.js", import.meta.url));
const ALL_APPLIED = MIGRATIONS.map((m) => `${m.version}_${m.name}`);
/** Every table of the schema (src/store/schema.ts). */
const TABLES = ["alert", "alert_attempt", "alert_cursor", "alert_delivery", "api_token", "app_session", "app_user", "autoscaler_decision", "bundle", "bundle_commit", "connection", "dag", "dag_file", "dag_run", "dag_version", "dataset_dag_queue", "dataset_event", "dataset_ref", "dataset_run_event", "import_error", "pool", "scheduler_job", "sluice_schema", "spark_app", "task_instance", "task_log", "task_try", "variable", "webhook_delivery"];

const targets = targetTracker();
const children = new Set<ChildProcess>();
const tempDirs: string[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await targets.removeAll();
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function schemaRows(target: DbTarget) {
  const h = openDb(target);
  try {
    return await h.db.selectFrom("sluice_schema").selectAll().orderBy("version").execute();
  } finally {
    await h.destroy();
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

interface ChildRun {
  proc: ChildProcess;
  ready: Promise<void>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** Start a migrateChild process; it waits for a line on stdin before migrating. */
function startMigrator(target: DbTarget): ChildRun {
  const proc = spawn(process.execPath, [CHILD, JSON.stringify(target)], { stdio: ["pipe", "pipe", "pipe"] });
  children.add(proc);
  // A child that died early must not turn our "go" write into an unhandled EPIPE.
  proc.stdin!.on("error", () => {});
  let stdout = "";
  let stderr = "";
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    if (stdout.startsWith("ready\n")) onReady();
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.on("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { proc, ready: Promise.race([ready, done.then(({ stderr: e }) => Promise.reject(new Error(`child exited before it was ready: ${e}`)))]), done };
}

/** Run the real CLI with a clean environment (no SLUICE_* from the outside) in an empty directory. */
async function runCli(args: string[], dbUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cwd = await mkdtemp(path.join(os.tmpdir(), "sluice-migrate-cli-"));
  tempDirs.push(cwd);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SLUICE_") && v !== undefined) env[k] = v;
  env.SLUICE_DB_URL = dbUrl;
  const proc = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(proc);
  let stdout = "";
  let stderr = "";
  proc.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  proc.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const code = await withDeadline(
    new Promise<number | null>((resolve) => proc.on("exit", (c) => resolve(c))),
    30_000,
    `sluice ${args.join(" ")}`,
  );
  return { code, stdout, stderr };
}

/** A migrated database whose sluice_schema says a newer Sluice (version 999) migrated it. */
async function futureDatabase(dialect: (typeof DIALECTS)[number]): Promise<DbTarget> {
  const target = await targets.fresh(dialect, "future");
  const store = await openStore(target, { migrate: true });
  await store.db.insertInto("sluice_schema").values({ version: 999, name: "from_a_newer_sluice", applied_at: 1 }).execute();
  await store.close();
  return target;
}

function isTooNew(err: unknown): boolean {
  assert.ok(err instanceof SchemaTooNewError, `expected SchemaTooNewError, got ${String(err)}`);
  assert.equal(err.code, ErrorCode.SchemaTooNew);
  assert.match(err.message, /version 999/);
  assert.match(err.message, new RegExp(`up to ${LATEST_SCHEMA_VERSION}\\b`));
  assert.match(err.message, /upgrade sluice/i);
  return true;
}

for (const dialect of DIALECTS) {
  describe(`migrations (${dialect})`, () => {
    it("migrate() on an empty database creates the schema and records each version; a second run applies nothing", async () => {
      const target = await targets.fresh(dialect, "migrate");
      const h = openDb(target);
      try {
        const first = await migrate(h.db, h.dialect, 1_700_000_000_000);
        assert.deepEqual(first, { from: 0, to: LATEST_SCHEMA_VERSION, applied: ALL_APPLIED });
        const tables = (await h.db.introspection.getTables()).map((t) => t.name).sort();
        assert.deepEqual(tables, TABLES);

        const second = await migrate(h.db, h.dialect, 1_800_000_000_000);
        assert.deepEqual(second, { from: LATEST_SCHEMA_VERSION, to: LATEST_SCHEMA_VERSION, applied: [] });
      } finally {
        await h.destroy();
      }
      // One row per migration, still stamped with the first run's time.
      assert.deepEqual(
        await schemaRows(target),
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: 1_700_000_000_000 })),
      );
      // The schema is usable without migrating again.
      const store = await openStore(target);
      try {
        await store.pools.upsert("gpu", 2);
        assert.deepEqual(await store.pools.list(), [{ name: "gpu", slots: 2, description: null }]);
      } finally {
        await store.close();
      }
    });

    it("two processes migrating the same fresh database at once both succeed and apply each migration once", async () => {
      const target = await targets.fresh(dialect, "race");
      const a = startMigrator(target);
      const b = startMigrator(target);
      try {
        await withDeadline(Promise.all([a.ready, b.ready]), 20_000, "both migrators to start");
        // Release both at the same moment.
        a.proc.stdin!.end("go\n");
        b.proc.stdin!.end("go\n");
        const outs = await withDeadline(Promise.all([a.done, b.done]), 30_000, "both migrators to exit");
        const results = outs.map((o, i) => {
          const last = o.stdout.trim().split("\n").pop() ?? "";
          assert.equal(o.code, 0, `migrator ${i} failed (exit ${o.code}): ${last} ${o.stderr}`);
          const parsed = JSON.parse(last) as { ok: boolean; result: MigrateResult };
          assert.equal(parsed.ok, true, last);
          return parsed.result;
        });
        for (const r of results) assert.equal(r.to, LATEST_SCHEMA_VERSION);
        // Between them, every migration was applied exactly once.
        assert.deepEqual(results.flatMap((r) => r.applied).sort(), [...ALL_APPLIED].sort());
      } finally {
        for (const c of [a, b]) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGKILL");
      }
      assert.deepEqual(
        (await schemaRows(target)).map((r) => r.version),
        MIGRATIONS.map((m) => m.version),
      );
      const store = await openStore(target);
      await store.close();
    });

    it("a database migrated by a newer Sluice is refused by openStore and migrate(), and left untouched", async () => {
      const target = await futureDatabase(dialect);
      const before = await schemaRows(target);
      assert.equal(before.at(-1)?.version, 999);

      await assert.rejects(openStore(target), isTooNew);
      await assert.rejects(openStore(target, { migrate: true }), isTooNew);
      const h = openDb(target);
      try {
        await assert.rejects(migrate(h.db, h.dialect), isTooNew);
      } finally {
        await h.destroy();
      }
      assert.deepEqual(await schemaRows(target), before);
    });

    it("`sluice db migrate` on a database newer than the code exits with code 3 and says to upgrade", async () => {
      const target = await futureDatabase(dialect);
      const { code, stdout, stderr } = await runCli(["db", "migrate"], targetUrl(target));
      assert.equal(code, 3, `stdout: ${stdout}\nstderr: ${stderr}`);
      assert.match(stderr, /version 999/);
      assert.match(stderr, /upgrade sluice/i);
      // The schema was not "repaired" or touched.
      assert.equal((await schemaRows(target)).at(-1)?.version, 999);
    });

    it("`sluice db migrate` migrates a fresh database and exits 0; running it again applies nothing", async () => {
      const target = await targets.fresh(dialect, "cli");
      const first = await runCli(["db", "migrate", "--json"], targetUrl(target));
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(JSON.parse(first.stdout).applied, ALL_APPLIED);
      const second = await runCli(["db", "migrate", "--json"], targetUrl(target));
      assert.equal(second.code, 0, second.stderr);
      const out = JSON.parse(second.stdout);
      assert.deepEqual(out.applied, []);
      assert.equal(out.to, LATEST_SCHEMA_VERSION);
      assert.deepEqual(
        (await schemaRows(target)).map((r) => r.version),
        MIGRATIONS.map((m) => m.version),
      );
    });

    it("a database that was never migrated is refused with a message to run `sluice db migrate`", async () => {
      const target = await targets.fresh(dialect, "unmigrated");
      await assert.rejects(openStore(target), (err: unknown) => {
        assert.ok(err instanceof SluiceError, String(err));
        assert.ok(!(err instanceof SchemaTooNewError));
        assert.equal(err.code, ErrorCode.SchemaOutdated);
        assert.match(err.message, /run `sluice db migrate`/i);
        return true;
      });
      // After migrating, the same database opens.
      const store = await openStore(target, { migrate: true });
      await store.close();
      const again = await openStore(target);
      await again.close();
    });

    if (dialect === "postgres") {
      it("a database that cannot be opened reports why, instead of asking to run `sluice db migrate`", async () => {
        const url = new URL(pgAdminUrl());
        url.pathname = `/no_such_db_${process.pid}`;
        await assert.rejects(openStore({ dialect: "postgres", url: url.toString() }), (err: unknown) => {
          assert.notEqual((err as SluiceError).code, ErrorCode.SchemaOutdated, String(err));
          assert.match(describeError(err), /database "no_such_db_\d+" does not exist/);
          return true;
        });
      });
    }

    if (dialect === "sqlite") {
      it("opens SQLite in WAL mode (persisted in the database file)", async () => {
        const target = await targets.fresh(dialect, "wal");
        assert.equal(target.dialect, "sqlite");
        const store = await openStore(target, { migrate: true });
        try {
          const raw = new BetterSqlite3(target.path);
          try {
            assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
          } finally {
            raw.close();
          }
        } finally {
          await store.close();
        }
      });
    }
  });
}
