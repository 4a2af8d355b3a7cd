import { dag } from "sluice";

/** The smallest useful pipeline: a function task hands its result to the next, then a shell task. */
export default dag(
  {
    id: "hello",
    description: "Say hello, shout it, print a line from the shell",
    schedule: "@daily",
    start: "2026-01-01",
    tags: ["example"],
    owner: "data-eng",
    docs: "# hello\nThree tasks: `greet` -> `shout` -> `done`.",
  },
  (d) => {
    const greet = d.task("greet", async (ctx) => {
      ctx.log.info("greeting", { day: ctx.dataInterval.start.toISOString().slice(0, 10) });
      return { greeting: `hello for ${ctx.dataInterval.start.toISOString().slice(0, 10)}` };
    });
    const shout = d.task("shout", async (_ctx, { greet: g }) => g.greeting.toUpperCase(), { upstream: [greet] });
    d.shell("done", 'echo "run $SLUICE_RUN_ID of $SLUICE_DAG_ID finished"', { upstream: [shout] });
  },
);
