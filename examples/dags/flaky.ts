import { dag } from "sluice";

/**
 * Retries: `call_api` fails on its first try (as a flaky service would) and
 * succeeds on the retry, with exponential backoff between tries. `always_fails`
 * uses up its retries and fails; `alert` runs only then (trigger rule one_failed).
 */
export default dag(
  { id: "flaky", description: "Retries with backoff, and a task that fails for good", schedule: null, tags: ["example"], retries: 2, retryDelay: "1s", retryExponentialBackoff: true, maxRetryDelay: "10s" },
  (d) => {
    const api = d.task("call_api", async (ctx) => {
      if (ctx.tryNumber === 1) throw new Error("503 Service Unavailable (simulated): will succeed on retry");
      ctx.log.info("api answered", { try: ctx.tryNumber });
      return { status: 200, try: ctx.tryNumber };
    });
    const broken = d.task("always_fails", async (ctx) => {
      throw new Error(`this task always fails (try ${ctx.tryNumber} of ${ctx.maxTries})`);
    }, { upstream: [api], retries: 1 });
    d.task("alert", async (ctx) => {
      ctx.log.warn("something upstream failed; a real DAG would page someone here");
      return "alerted";
    }, { upstream: [broken], triggerRule: "one_failed" });
  },
);
