import { z } from "zod";
import type { AutoscalerDecisionRow } from "../../store/autoscalerQueries.js";
import { errors, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const Decision = z.object({
  id: z.number(),
  queue: z.string(),
  at: Timestamp,
  queued: z.number().describe("Task instances queued in the queue when deciding."),
  running: z.number().describe("Task instances running in the queue when deciding."),
  currentReplicas: z.number().describe("Workers before the decision."),
  proposedReplicas: z.number().describe("The largest rule proposal clamped to [min, max], before stabilisation and rate limits."),
  desiredReplicas: z.number().describe("Workers asked for."),
  cpu: z.number().nullable().describe("Average CPU per worker in cores over the last interval; null when not measured."),
  memoryMb: z.number().nullable().describe("Average resident memory per worker in MiB; null when not measured."),
  networkBytesPerSec: z.number().nullable().describe("Average I/O bytes/s per worker (/proc/<pid>/io rchar + wchar); null when not measured."),
  proposals: z.record(z.string(), z.number()).describe('Each rule\'s proposal, e.g. {"queue": 3, "cpu": 4}.'),
  reason: z.string().describe("Which rule won and what limited it."),
  actuator: z.string().describe('"local" or "kubernetes".'),
});

function decisionJson(r: AutoscalerDecisionRow): z.output<typeof Decision> {
  return {
    id: r.id,
    queue: r.queue,
    at: new Date(r.at).toISOString(),
    queued: r.queued,
    running: r.running,
    currentReplicas: r.current_replicas,
    proposedReplicas: r.proposed_replicas,
    desiredReplicas: r.desired_replicas,
    cpu: r.cpu === null ? null : Number(r.cpu),
    memoryMb: r.memory_mb === null ? null : Number(r.memory_mb),
    networkBytesPerSec: r.network_bps === null ? null : Number(r.network_bps),
    proposals: JSON.parse(r.proposals) as Record<string, number>,
    reason: r.reason,
    actuator: r.actuator,
  };
}

/** The autoscaler's recorded decisions (src/autoscaler/), for the UI chart and "why did it scale?". */
export function autoscalerRoutes(app: ApiApp, { store }: ApiDeps): void {
  app.get(
    "/autoscaler/decisions",
    {
      schema: {
        tags: ["admin"],
        summary: "Autoscaler decisions with their inputs and reason, oldest first (the newest `limit`)",
        querystring: z.strictObject({
          queue: z.string().min(1).max(200).optional().describe("Only this queue."),
          since: Timestamp.optional().describe("Only decisions at or after this time (ISO 8601)."),
          limit: z.coerce.number().int().min(1).max(10_000).default(1000).describe("Most decisions returned (the newest ones)."),
        }),
        response: { 200: z.object({ decisions: z.array(Decision), total: z.number() }), ...errors(400) },
      },
    },
    async (req) => {
      const { queue, since, limit } = req.query;
      const rows = await store.autoscaler.list({ queue, since: since === undefined ? undefined : Date.parse(since), limit });
      return { decisions: rows.map(decisionJson), total: rows.length };
    },
  );
}
