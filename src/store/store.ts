import { sql } from "kysely";
import { openDb, type DbHandle, type DbTarget } from "./db.js";
import { AuthQueries } from "./authQueries.js";
import { AlertQueries } from "./alertQueries.js";
import { AutoscalerQueries } from "./autoscalerQueries.js";
import { BundleQueries } from "./bundleQueries.js";
import { ConnectionQueries } from "./connectionQueries.js";
import { DagQueries } from "./dagQueries.js";
import { DatasetQueries } from "./datasetQueries.js";
import { DatasetTriggerQueries } from "./datasetTriggerQueries.js";
import { JobQueries } from "./jobQueries.js";
import { LogQueries } from "./logQueries.js";
import { assertSchemaCurrent, migrate, type MigrateResult } from "./migrate.js";
import type { Dialect } from "./migrations/index.js";
import { PoolQueries } from "./poolQueries.js";
import { QueueQueries } from "./queueQueries.js";
import { MappedQueries } from "./mappedQueries.js";
import { MetricQueries } from "./metricQueries.js";
import { RunQueries } from "./runQueries.js";
import { SparkAppQueries } from "./sparkAppQueries.js";
import { TaskQueries } from "./taskQueries.js";
import { VariableQueries } from "./variableQueries.js";

/**
 * What the rest of Sluice sees of the metadata database: grouped queries, no
 * driver. Only store/ speaks SQL.
 */
export class Store {
  readonly dags: DagQueries;
  readonly runs: RunQueries;
  readonly tasks: TaskQueries;
  readonly logs: LogQueries;
  readonly jobs: JobQueries;
  readonly pools: PoolQueries;
  readonly auth: AuthQueries;
  readonly variables: VariableQueries;
  readonly connections: ConnectionQueries;
  readonly datasets: DatasetQueries;
  readonly datasetTriggers: DatasetTriggerQueries;
  readonly sparkApps: SparkAppQueries;
  readonly mapped: MappedQueries;
  readonly queue: QueueQueries;
  readonly autoscaler: AutoscalerQueries;
  readonly alerts: AlertQueries;
  readonly bundles: BundleQueries;
  readonly metrics: MetricQueries;

  constructor(readonly handle: DbHandle) {
    this.dags = new DagQueries(handle.db);
    this.runs = new RunQueries(handle.db);
    this.tasks = new TaskQueries(handle.db);
    this.logs = new LogQueries(handle.db);
    this.jobs = new JobQueries(handle.db);
    this.pools = new PoolQueries(handle.db);
    this.auth = new AuthQueries(handle.db);
    this.variables = new VariableQueries(handle.db);
    this.connections = new ConnectionQueries(handle.db);
    this.datasets = new DatasetQueries(handle.db);
    this.datasetTriggers = new DatasetTriggerQueries(handle.db);
    this.sparkApps = new SparkAppQueries(handle.db);
    this.mapped = new MappedQueries(handle.db);
    this.queue = new QueueQueries(handle.db, handle.dialect);
    this.autoscaler = new AutoscalerQueries(handle.db);
    this.alerts = new AlertQueries(handle.db, handle.dialect);
    this.bundles = new BundleQueries(handle.db);
    this.metrics = new MetricQueries(handle.db);
  }

  get dialect(): Dialect {
    return this.handle.dialect;
  }

  get db() {
    return this.handle.db;
  }

  /**
   * Run `fn` in one transaction: its writes commit together (one fsync on
   * PostgreSQL instead of one per statement). On SQLite, start with a write:
   * a transaction that reads first can fail with SQLITE_BUSY when another
   * process commits before it writes. Query methods that need atomicity use a
   * transaction of their own only when not already inside one.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.handle.db.isTransaction) return fn(this);
    return this.handle.db.transaction().execute((trx) => fn(new Store({ ...this.handle, db: trx })));
  }

  /**
   * Run `fn` while holding a cluster-wide lock named `name`, so schedulers
   * sharing a PostgreSQL database take turns at read-then-write decisions
   * (limits: pool slots, max active tasks/runs, parallelism). PostgreSQL: one
   * transaction holding a transaction-scoped advisory lock. SQLite: one
   * database belongs to one scheduler, so `fn` simply runs.
   */
  async exclusive<T>(name: string, fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.dialect !== "postgres" || this.handle.db.isTransaction) return fn(this);
    return this.transaction(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${`sluice:${name}`}))`.execute(tx.db);
      return fn(tx);
    });
  }

  migrate(): Promise<MigrateResult> {
    return migrate(this.handle.db, this.handle.dialect);
  }

  close(): Promise<void> {
    return this.handle.destroy();
  }
}

/**
 * Open the store. `migrate: true` (standalone, scheduler) applies pending
 * migrations; otherwise the schema must already be current. Either way a
 * database newer than the code is refused with SchemaTooNewError.
 */
export async function openStore(target: DbTarget, opts: { migrate?: boolean; poolSize?: number } = {}): Promise<Store> {
  const store = new Store(openDb(target, { poolSize: opts.poolSize }));
  try {
    if (opts.migrate) await store.migrate();
    else await assertSchemaCurrent(store.db);
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
  return store;
}
