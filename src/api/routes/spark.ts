/**
 * The Spark cluster view: every Spark connection, and for a standalone master
 * its live state from the master's /json/ (workers, cores and memory, running
 * and completed applications and drivers), each application and driver linked
 * through spark_app to the task instance that launched it. Any signed-in
 * user may read it: it shows no connection secrets.
 */
import { z } from "zod";
import { SecretBox } from "../../secrets/secretBox.js";
import { fetchMasterStatus, type MasterApp, type MasterDriver, type MasterStatus } from "../../spark/masterStatus.js";
import { parseSparkConnection, type SparkConnectionFields, type SparkTarget } from "../../spark/sparkConnection.js";
import type { ConnectionRow } from "../../store/connectionQueries.js";
import type { SparkAppRow } from "../../store/sparkAppQueries.js";
import { ApiProblem } from "../errors.js";
import { ErrorBody, errors, iso, MaybeTimestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";
import { SecretsKeyFailure } from "./adminCommon.js";

const TaskLink = z
  .object({ dagId: z.string(), runId: z.string(), taskId: z.string(), mapIndex: z.number(), tryNumber: z.number() })
  .nullable()
  .describe("The task attempt that submitted it (from Sluice's record of its Spark applications), or null if Sluice did not launch it.");

const Cluster = z.object({
  connId: z.string(),
  kind: z.enum(["standalone", "kubernetes"]).nullable().describe("null when the connection's settings are invalid (see problem)."),
  master: z.string().nullable().describe("Master URL (spark://host:7077 or k8s://https://api:6443)."),
  deployMode: z.enum(["client", "cluster"]).nullable().describe("Default deploy mode of tasks using it."),
  problem: z.string().nullable().describe("Why the connection cannot be used, when it cannot."),
});

const Application = z.object({
  id: z.string(),
  name: z.string(),
  state: z.string().describe("WAITING, RUNNING, FINISHED, FAILED, KILLED, …"),
  cores: z.number(),
  memoryPerExecutorMb: z.number().nullable(),
  user: z.string().nullable(),
  startedAt: MaybeTimestamp,
  durationMs: z.number().nullable(),
  task: TaskLink,
});

const Driver = z.object({
  id: z.string(),
  state: z.string().describe("SUBMITTED, RUNNING, FINISHED, FAILED, ERROR, KILLED, …"),
  cores: z.number(),
  memoryMb: z.number(),
  workerId: z.string().nullable(),
  mainClass: z.string().nullable(),
  startedAt: MaybeTimestamp,
  task: TaskLink,
});

const Worker = z.object({
  id: z.string(),
  host: z.string(),
  port: z.number(),
  webUiUrl: z.string(),
  state: z.string().describe("ALIVE, DEAD, DECOMMISSIONED, UNKNOWN"),
  cores: z.number(),
  coresUsed: z.number(),
  memoryMb: z.number(),
  memoryUsedMb: z.number(),
  lastHeartbeat: MaybeTimestamp,
});

const ClusterStatus = z.object({
  connId: z.string(),
  master: z.string(),
  webUiUrl: z.string(),
  status: z.string().describe("The master's own status: ALIVE, STANDBY, RECOVERING, …"),
  aliveWorkers: z.number(),
  cores: z.object({ total: z.number(), used: z.number() }).describe("Of the alive workers."),
  memoryMb: z.object({ total: z.number(), used: z.number() }),
  workers: z.array(Worker),
  applications: z.object({ running: z.array(Application), completed: z.array(Application) }),
  drivers: z.object({ running: z.array(Driver), completed: z.array(Driver) }).describe("Cluster-mode drivers."),
});

const ConnParams = z.object({ connId: z.string().min(1).describe("Id of a connection of type spark.") });

type Link = z.output<typeof TaskLink>;

function linkOf(row: SparkAppRow | undefined): Link {
  return row ? { dagId: row.dag_id, runId: row.run_id, taskId: row.task_id, mapIndex: row.map_index, tryNumber: row.try_number } : null;
}

/** Latest record per key (a retried lookup could find more than one row for an id). */
function byKey(rows: SparkAppRow[], key: "app_id" | "driver_id"): Map<string, SparkAppRow> {
  const out = new Map<string, SparkAppRow>();
  for (const r of [...rows].sort((a, b) => a.id - b.id)) if (r[key]) out.set(r[key]!, r);
  return out;
}

export function sparkRoutes(app: ApiApp, { store, config }: ApiDeps): void {
  const box = new SecretBox(config);

  /** The connection as the Spark code reads it: extra decrypted; the password only when one is stored (a bearer token). */
  const fields = async (c: ConnectionRow): Promise<SparkConnectionFields> => ({
    connId: c.conn_id,
    connType: c.conn_type,
    host: c.host,
    port: c.port,
    login: c.login,
    password: c.password === null ? null : await box.decrypt(c.password, `the password of connection "${c.conn_id}"`),
    extra: c.extra === null ? {} : (JSON.parse(await box.decrypt(c.extra, `the extra of connection "${c.conn_id}"`)) as Record<string, unknown>),
  });

  const sparkConnections = async (): Promise<ConnectionRow[]> => {
    const out: ConnectionRow[] = [];
    for (let offset = 0; ; offset += 1000) {
      const { rows } = await store.connections.list({ limit: 1000, offset });
      out.push(...rows.filter((r) => r.conn_type === "spark"));
      if (rows.length < 1000) return out;
    }
  };

  app.get(
    "/spark/clusters",
    {
      schema: {
        tags: ["spark"],
        summary: "Spark connections: each master, its kind and default deploy mode",
        response: { 200: z.object({ clusters: z.array(Cluster) }), ...SecretsKeyFailure },
      },
    },
    async () => {
      const clusters = [];
      for (const c of await sparkConnections()) {
        try {
          const t = parseSparkConnection(await fields(c));
          clusters.push({ connId: c.conn_id, kind: t.kind, master: t.master, deployMode: t.deployMode, problem: null });
        } catch (err) {
          if ((err as Error).name === "SecretKeyError") throw err;
          clusters.push({ connId: c.conn_id, kind: null, master: null, deployMode: null, problem: (err as Error).message });
        }
      }
      return { clusters };
    },
  );

  app.get(
    "/spark/clusters/:connId",
    {
      schema: {
        tags: ["spark"],
        summary: "A standalone Spark master's state: workers, cores and memory, applications and drivers linked to the task instances that launched them",
        params: ConnParams,
        response: {
          200: ClusterStatus,
          ...errors(400, 404),
          502: ErrorBody.describe("SPARK_MASTER_UNREACHABLE: the master's web UI did not answer (or not with Spark's /json/)."),
          ...SecretsKeyFailure,
        },
      },
    },
    async (req) => {
      const { connId } = req.params;
      const c = await store.connections.get(connId);
      if (!c || c.conn_type !== "spark") {
        throw new ApiProblem(404, "SPARK_CLUSTER_NOT_FOUND", `No Spark connection "${connId}". GET /api/v1/spark/clusters lists them.`);
      }
      let t: SparkTarget;
      try {
        t = parseSparkConnection(await fields(c));
      } catch (err) {
        if ((err as Error).name === "SecretKeyError") throw err;
        throw new ApiProblem(400, "SPARK_CONNECTION_INVALID", (err as Error).message);
      }
      if (t.kind !== "standalone") {
        throw new ApiProblem(400, "SPARK_CLUSTER_NOT_STANDALONE", `Connection "${connId}" is Spark on Kubernetes (${t.master}); the cluster view reads standalone masters. Use kubectl get sparkapplications for Kubernetes.`);
      }
      let m: MasterStatus;
      try {
        m = await fetchMasterStatus(t.webUiUrl, { token: t.token, timeoutMs: 5_000 });
      } catch (err) {
        throw new ApiProblem(502, "SPARK_MASTER_UNREACHABLE", `${(err as Error).message} (connection "${connId}", extra.webUiUrl)`);
      }
      const apps = [...m.activeapps, ...m.completedapps];
      const drivers = [...m.activedrivers, ...m.completeddrivers];
      const appRows = byKey(await store.sparkApps.byAppIds(apps.map((a) => a.id)), "app_id");
      const driverRows = byKey(await store.sparkApps.byDriverIds(drivers.map((d) => d.id)), "driver_id");
      const application = (a: MasterApp) => ({
        id: a.id,
        name: a.name,
        state: a.state,
        cores: a.cores,
        memoryPerExecutorMb: a.memoryperexecutor ?? null,
        user: a.user ?? null,
        startedAt: iso(a.starttime),
        durationMs: a.duration ?? null,
        task: linkOf(appRows.get(a.id)),
      });
      const driver = (d: MasterDriver) => ({
        id: d.id,
        state: d.state,
        cores: d.cores,
        memoryMb: d.memory,
        workerId: d.worker ?? null,
        mainClass: d.mainclass ?? null,
        startedAt: iso(d.starttime),
        task: linkOf(driverRows.get(d.id)),
      });
      return {
        connId,
        master: t.master,
        webUiUrl: t.webUiUrl,
        status: m.status,
        aliveWorkers: m.aliveworkers,
        cores: { total: m.cores, used: m.coresused },
        memoryMb: { total: m.memory, used: m.memoryused },
        workers: m.workers.map((w) => ({
          id: w.id,
          host: w.host,
          port: w.port,
          webUiUrl: w.webuiaddress,
          state: w.state,
          cores: w.cores,
          coresUsed: w.coresused,
          memoryMb: w.memory,
          memoryUsedMb: w.memoryused,
          lastHeartbeat: iso(w.lastheartbeat),
        })),
        applications: { running: m.activeapps.map(application), completed: m.completedapps.map(application) },
        drivers: { running: m.activedrivers.map(driver), completed: m.completeddrivers.map(driver) },
      };
    },
  );
}
