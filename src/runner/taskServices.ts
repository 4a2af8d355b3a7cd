/**
 * What task kinds that reach outside systems (Spark, DuckDB over a database)
 * get from the attempt running them: connections with their secrets
 * decrypted, a record of launched Spark applications, and a scratch folder.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, SluiceError } from "../core/errors.js";
import { SecretBox, type SecretsConfig } from "../secrets/secretBox.js";
import type { Store } from "../store/store.js";
import type { SparkAppInput } from "../store/sparkAppQueries.js";

/** A connection as task code sees it: secrets in clear, extra parsed. */
export interface ConnectionInfo {
  connId: string;
  connType: string;
  host: string | null;
  port: number | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  extra: Record<string, unknown>;
}

/** Fields of a Spark application record the task knows; the attempt's identity is filled in. */
export type SparkAppNote = Pick<SparkAppInput, "connection_id" | "master" | "deploy_mode" | "app_id" | "driver_id" | "state">;

export interface TaskServices {
  /** The connection with this id, decrypted; a clear error naming the fix when it does not exist. */
  connection(connId: string): Promise<ConnectionInfo>;
  /** Record a Spark submission of this attempt; returns a function to update it (app id learned, state). */
  recordSparkApp(app: SparkAppNote): Promise<(patch: Partial<Pick<SparkAppNote, "app_id" | "driver_id" | "state">>) => Promise<void>>;
  /** A private folder for this attempt, removed when it ends. */
  scratchDir(): Promise<string>;
}

export class MissingConnectionError extends SluiceError {
  constructor(connId: string) {
    super(
      ErrorCode.Usage,
      `Connection "${connId}" does not exist. Create it in the web UI (Admin > Connections) or with the API (POST /api/v1/connections), then clear the task.`,
      { details: { connId } },
    );
    this.name = "MissingConnectionError";
  }
}

export interface AttemptIdentity {
  tiId: number;
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
}

/** Services bound to one attempt; call dispose() when it ends (removes the scratch folder). */
export function attemptServices(store: Store, secrets: SecretsConfig | undefined, who: AttemptIdentity, now: () => number = Date.now): TaskServices & { dispose(): Promise<void> } {
  const box = secrets ? new SecretBox(secrets) : undefined;
  let scratch: Promise<string> | undefined;
  const decrypt = async (value: string | null, what: string): Promise<string | null> => {
    if (value === null) return null;
    if (!box) throw new SluiceError(ErrorCode.ConfigInvalid, `${what} is encrypted but this task process has no secrets configuration; run it through the scheduler or \`sluice task run\`.`);
    return box.decrypt(value, what);
  };
  return {
    async connection(connId) {
      const row = await store.connections.get(connId);
      if (!row) throw new MissingConnectionError(connId);
      const extraText = await decrypt(row.extra, `the extra of connection "${connId}"`);
      return {
        connId,
        connType: row.conn_type,
        host: row.host,
        port: row.port,
        login: row.login,
        password: await decrypt(row.password, `the password of connection "${connId}"`),
        schema: row.schema_name,
        extra: extraText ? (JSON.parse(extraText) as Record<string, unknown>) : {},
      };
    },
    async recordSparkApp(app) {
      const id = await store.sparkApps.record(
        { ...app, ti_id: who.tiId, dag_id: who.dagId, run_id: who.runId, task_id: who.taskId, map_index: who.mapIndex, try_number: who.tryNumber },
        now(),
      );
      return (patch) => store.sparkApps.update(id, patch, now());
    },
    scratchDir() {
      scratch ??= mkdtemp(join(tmpdir(), `sluice-${who.taskId.slice(0, 40)}-`));
      return scratch;
    },
    async dispose() {
      if (scratch) await rm(await scratch, { recursive: true, force: true }).catch(() => {});
    },
  };
}
