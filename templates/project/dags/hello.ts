import { dag } from "sluice";

// A first pipeline: a function task hands its result to a shell task.
export default dag({ id: "hello", schedule: "@daily", start: "2026-01-01", tags: ["example"] }, (d) => {
  const greet = d.task("greet", async (ctx) => {
    ctx.log.info("hello from Sluice", { logicalDate: ctx.logicalDate.toISOString() });
    return { greeting: `Hello for ${ctx.dataInterval.start.toISOString().slice(0, 10)}` };
  });
  const shout = d.task("shout", async (_ctx, { greet: g }) => g.greeting.toUpperCase(), { upstream: [greet] });
  d.shell("done", 'echo "finished $SLUICE_DAG_ID run $SLUICE_RUN_ID"', { upstream: [shout] });
});
