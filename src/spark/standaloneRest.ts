/**
 * The standalone master's REST submission server (spark.master.rest.enabled,
 * port 6066): create a driver, read its state, kill it. This is what
 * `spark-submit --deploy-mode cluster` speaks; PySpark goes through it as a
 * driver whose main class is org.apache.spark.deploy.SparkSubmit with the .py
 * file as its first argument (SparkSubmit then runs the Python driver inside
 * the driver JVM on the worker).
 */
import { z } from "zod";
import { authHeaders, SparkHttpError, sparkFetch } from "./sparkHttp.js";

const CreateResponse = z.object({ success: z.boolean(), submissionId: z.string().optional(), message: z.string().optional(), serverSparkVersion: z.string().optional() });
const StatusResponse = z.object({
  success: z.boolean(),
  driverState: z.string().optional(),
  workerId: z.string().optional(),
  workerHostPort: z.string().optional(),
  message: z.string().optional(),
});
const KillResponse = z.object({ success: z.boolean(), message: z.string().optional() });
export type DriverStatus = z.output<typeof StatusResponse>;

export interface CreateSubmission {
  appResource: string;
  mainClass: string;
  appArgs: string[];
  sparkProperties: Record<string, string>;
  environmentVariables: Record<string, string>;
  clientSparkVersion: string;
}

/** Driver states after which a driver does not run again (DriverState in Spark). */
export const FINAL_DRIVER_STATES = new Set(["FINISHED", "FAILED", "ERROR", "KILLED"]);

function parsed<T>(schema: z.ZodType<T>, body: unknown, url: string, what: string): T {
  const r = schema.safeParse(body);
  if (!r.success) throw new SparkHttpError(`${what} at ${url} answered something that is not a Spark REST response: ${JSON.stringify(body).slice(0, 200)}`, { url });
  return r.data;
}

export class StandaloneRestClient {
  constructor(
    private readonly restUrl: string,
    private readonly token?: string,
  ) {}

  /** Submit a driver; its id (driver-…). */
  async create(req: CreateSubmission, signal?: AbortSignal): Promise<string> {
    const url = `${this.restUrl}/v1/submissions/create`;
    const body = await sparkFetch(url, {
      method: "POST",
      headers: authHeaders(this.token),
      json: { action: "CreateSubmissionRequest", ...req },
      signal,
      timeoutMs: 30_000,
      what: "the Spark REST submission server (is spark.master.rest.enabled=true on the master?)",
    });
    const r = parsed(CreateResponse, body, url, "The Spark REST submission server");
    if (!r.success || !r.submissionId) throw new SparkHttpError(`The Spark master refused the submission: ${r.message ?? "no message"}`, { url });
    return r.submissionId;
  }

  async status(driverId: string, signal?: AbortSignal): Promise<DriverStatus> {
    const url = `${this.restUrl}/v1/submissions/status/${encodeURIComponent(driverId)}`;
    return parsed(StatusResponse, await sparkFetch(url, { headers: authHeaders(this.token), signal, what: "the driver's status" }), url, "The driver's status");
  }

  /** Ask the master to kill the driver; true when it accepted the request. */
  async kill(driverId: string, signal?: AbortSignal): Promise<boolean> {
    const url = `${this.restUrl}/v1/submissions/kill/${encodeURIComponent(driverId)}`;
    const r = parsed(KillResponse, await sparkFetch(url, { method: "POST", headers: authHeaders(this.token), signal, what: "the driver kill request" }), url, "The driver kill request");
    return r.success;
  }
}

/**
 * Kill a (client-mode) application through the master web UI's kill endpoint
 * (spark.ui.killEnabled, on by default): the master marks it KILLED and stops
 * its executors. The UI answers a redirect either way; callers check /json/.
 */
export async function killAppThroughUi(webUiUrl: string, appId: string, token?: string, signal?: AbortSignal): Promise<void> {
  await sparkFetch(`${webUiUrl}/app/kill/`, { method: "POST", headers: authHeaders(token), form: { id: appId, terminate: "true" }, signal, text: true, timeoutMs: 5_000, what: "the master's application kill endpoint" });
}
