/**
 * The standalone master's state from its web UI's `/json/` endpoint: workers
 * with their cores and memory, running and completed applications and
 * drivers. Parsed with zod so a changed Spark version shows up as one clear
 * error instead of undefined fields further down.
 */
import { z } from "zod";
import { authHeaders, SparkHttpError, sparkFetch } from "./sparkHttp.js";

const Worker = z.object({
  id: z.string(),
  host: z.string(),
  port: z.number(),
  webuiaddress: z.string(),
  cores: z.number(),
  coresused: z.number(),
  memory: z.number().describe("MiB"),
  memoryused: z.number(),
  state: z.string(),
  lastheartbeat: z.number().optional(),
});

const App = z.object({
  id: z.string(),
  name: z.string(),
  starttime: z.coerce.number(),
  cores: z.number(),
  user: z.string().optional(),
  memoryperexecutor: z.number().optional(),
  submitdate: z.string().optional(),
  state: z.string(),
  duration: z.number().optional(),
});

const Driver = z.object({
  id: z.string(),
  starttime: z.coerce.number(),
  state: z.string(),
  cores: z.number(),
  memory: z.number(),
  submitdate: z.string().optional(),
  worker: z.string().optional(),
  mainclass: z.string().optional(),
});

export const MasterJson = z.object({
  url: z.string(),
  workers: z.array(Worker),
  aliveworkers: z.number(),
  cores: z.number(),
  coresused: z.number(),
  memory: z.number(),
  memoryused: z.number(),
  activeapps: z.array(App),
  completedapps: z.array(App),
  activedrivers: z.array(Driver).default([]),
  completeddrivers: z.array(Driver).default([]),
  status: z.string(),
});
export type MasterStatus = z.output<typeof MasterJson>;
export type MasterApp = z.output<typeof App>;
export type MasterDriver = z.output<typeof Driver>;
export type MasterWorker = z.output<typeof Worker>;

/** GET <webUiUrl>/json/; SparkHttpError when the master cannot be reached or answers something else. */
export async function fetchMasterStatus(webUiUrl: string, opts: { token?: string; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<MasterStatus> {
  const url = `${webUiUrl}/json/`;
  const body = await sparkFetch(url, { headers: authHeaders(opts.token), signal: opts.signal, timeoutMs: opts.timeoutMs ?? 5_000, what: "the Spark master's status" });
  const r = MasterJson.safeParse(body);
  if (!r.success) throw new SparkHttpError(`The Spark master's status at ${url} is not what Spark's /json/ returns (${r.error.issues[0]?.path.join(".")}: ${r.error.issues[0]?.message}). Is webUiUrl the master's web UI?`, { url });
  return r.data;
}
