import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { TaskSpec } from "../../src/core/dagSpec.js";
import { checkMapList, decideRun, type RunDecisions, type TiStateView } from "../../src/core/runDecisions.js";
import type { TaskState } from "../../src/core/states.js";
import type { TriggerRule } from "../../src/core/triggerRules.js";

type Graph = Record<string, { up?: string[]; rule?: TriggerRule }>;

function task(id: string, upstream: string[], triggerRule: TriggerRule): TaskSpec {
  return {
    id,
    kind: "function",
    upstream,
    retries: 0,
    retryDelayMs: 1000,
    retryExponentialBackoff: false,
    maxRetryDelayMs: 60_000,
    triggerRule,
    pool: "default_pool",
    poolSlots: 1,
    priorityWeight: 1,
    queue: "default",
  };
}

/**
 * One run of a DAG: the spec's tasks in the given order, and one task instance
 * per task with ids that differ from positions (1000, 1001, ...), so a test
 * notices if decideRun returns anything but task-instance ids.
 */
function runOf(graph: Graph, states: Record<string, TaskState> = {}) {
  const tasks = Object.entries(graph).map(([id, t]) => task(id, t.up ?? [], t.rule ?? "all_success"));
  const tis: TiStateView[] = tasks.map((t, i) => ({ id: 1000 + i * 7, task_id: t.id, state: states[t.id] ?? "none" }));
  const tiId = new Map(tis.map((ti) => [ti.task_id, ti.id]));
  const taskOf = new Map(tis.map((ti) => [ti.id, ti.task_id]));
  return {
    spec: { tasks },
    tis,
    decide: () => named(decideRun({ tasks }, tis), taskOf),
    tiId: (taskId: string) => tiId.get(taskId)!,
  };
}

/** Decisions with task ids instead of task-instance ids, sorted, for readable asserts. */
function named(d: RunDecisions, taskOf: Map<number, string>) {
  const ids = (list: number[]) =>
    list.map((n) => {
      const t = taskOf.get(n);
      assert.ok(t, `decision names task instance ${n}, which is not in the run`);
      return t;
    }).sort();
  return { schedule: ids(d.schedule), skip: ids(d.skip), upstreamFailed: ids(d.upstreamFailed), runState: d.runState };
}

const chain = (...ids: string[]): Graph => Object.fromEntries(ids.map((id, i) => [id, { up: i ? [ids[i - 1]] : [] }]));

describe("decideRun", () => {
  it("schedules only the roots of a fresh run and leaves the run open", () => {
    const r = runOf({ a: {}, b: { up: ["a"] }, c: { up: ["b"] }, other_root: {} });
    assert.deepEqual(r.decide(), { schedule: ["a", "other_root"], skip: [], upstreamFailed: [], runState: null });
  });

  it("returns task-instance ids, not positions or task ids", () => {
    const r = runOf({ a: {}, b: { up: ["a"] } }, { a: "success" });
    const d = decideRun(r.spec, r.tis);
    assert.deepEqual(d.schedule, [r.tiId("b")]);
  });

  it("schedules a task once its upstream succeeded, and not one that is already scheduled or running", () => {
    const r = runOf({ a: {}, b: { up: ["a"] }, c: { up: ["a"] }, d: { up: ["a"] } }, { a: "success", c: "scheduled", d: "running" });
    assert.deepEqual(r.decide(), { schedule: ["b"], skip: [], upstreamFailed: [], runState: null });
  });

  it("cascades upstream_failed down a whole chain in one call and fails the run", () => {
    const r = runOf(chain("a", "b", "c", "d", "e"), { a: "failed" });
    assert.deepEqual(r.decide(), { schedule: [], skip: [], upstreamFailed: ["b", "c", "d", "e"], runState: "failed" });
  });

  it("cascades a skip down a whole chain in one call; an all-skipped tail still means success", () => {
    const r = runOf(chain("a", "b", "c", "d"), { a: "success", b: "skipped" });
    assert.deepEqual(r.decide(), { schedule: [], skip: ["c", "d"], upstreamFailed: [], runState: "success" });
  });

  it("settles in one call even when the spec lists tasks downstream-first", () => {
    const graph: Graph = { e: { up: ["d"] }, d: { up: ["c"] }, c: { up: ["b"] }, b: { up: ["a"] }, a: {} };
    const r = runOf(graph, { a: "failed" });
    assert.deepEqual(r.decide(), { schedule: [], skip: [], upstreamFailed: ["b", "c", "d", "e"], runState: "failed" });
  });

  it("cascades a skip and then an upstream failure through mixed rules", () => {
    // a skipped -> b (all_success) skipped -> c (none_failed_min_one_success, only b upstream) skipped;
    // x failed -> y upstream_failed -> z (one_success over c and y) upstream_failed, since none succeeded and one failed.
    const r = runOf(
      { a: {}, b: { up: ["a"] }, c: { up: ["b"], rule: "none_failed_min_one_success" }, x: {}, y: { up: ["x"] }, z: { up: ["c", "y"], rule: "one_success" } },
      { a: "skipped", x: "failed" },
    );
    assert.deepEqual(r.decide(), { schedule: [], skip: ["b", "c"], upstreamFailed: ["y", "z"], runState: "failed" });
  });

  it("succeeds the run when every task succeeded", () => {
    const r = runOf(chain("a", "b", "c"), { a: "success", b: "success", c: "success" });
    assert.deepEqual(r.decide(), { schedule: [], skip: [], upstreamFailed: [], runState: "success" });
  });

  it("leaves the run open while any task is queued, running or up for retry", () => {
    for (const pending of ["scheduled", "queued", "running", "up_for_retry"] as const) {
      const r = runOf({ a: {}, b: {} }, { a: "success", b: pending });
      assert.equal(r.decide().runState, null, pending);
    }
  });

  it("fails the run when a task failed even if others are skipped or succeeded", () => {
    const r = runOf({ a: {}, b: {}, c: {} }, { a: "success", b: "skipped", c: "failed" });
    assert.equal(r.decide().runState, "failed");
  });

  it("does not decide a failed run while an independent branch is still running", () => {
    const r = runOf({ a: {}, b: { up: ["a"] }, slow: {} }, { a: "failed", slow: "running" });
    assert.deepEqual(r.decide(), { schedule: [], skip: [], upstreamFailed: ["b"], runState: null });
  });

  describe("all_done cleanup", () => {
    const graph: Graph = { extract: {}, load: { up: ["extract"] }, cleanup: { up: ["load"], rule: "all_done" } };

    it("runs after a failure cascaded to its upstream, in the same call", () => {
      const r = runOf(graph, { extract: "failed" });
      assert.deepEqual(r.decide(), { schedule: ["cleanup"], skip: [], upstreamFailed: ["load"], runState: null });
    });

    it("leaves the run failed after the cleanup succeeded", () => {
      const r = runOf(graph, { extract: "failed", load: "upstream_failed", cleanup: "success" });
      assert.deepEqual(r.decide(), { schedule: [], skip: [], upstreamFailed: [], runState: "failed" });
    });

    it("runs after success too, and the run succeeds", () => {
      assert.deepEqual(runOf(graph, { extract: "success", load: "success" }).decide().schedule, ["cleanup"]);
      assert.equal(runOf(graph, { extract: "success", load: "success", cleanup: "success" }).decide().runState, "success");
    });
  });

  describe("one_failed alert", () => {
    const graph: Graph = { work: {}, alert: { up: ["work"], rule: "one_failed" } };

    it("fires when the upstream fails", () => {
      assert.deepEqual(runOf(graph, { work: "failed" }).decide().schedule, ["alert"]);
    });

    it("is skipped when the upstream succeeds, and the run succeeds", () => {
      assert.deepEqual(runOf(graph, { work: "success" }).decide(), { schedule: [], skip: ["alert"], upstreamFailed: [], runState: "success" });
    });
  });

  describe("diamond a -> (b, c) -> d", () => {
    const diamond = (rule: TriggerRule = "all_success"): Graph => ({ a: {}, b: { up: ["a"] }, c: { up: ["a"] }, d: { up: ["b", "c"], rule } });

    it("schedules both branches after the root, then the join after both", () => {
      assert.deepEqual(runOf(diamond(), { a: "success" }).decide().schedule, ["b", "c"]);
      assert.deepEqual(runOf(diamond(), { a: "success", b: "success", c: "running" }).decide().schedule, []);
      assert.deepEqual(runOf(diamond(), { a: "success", b: "success", c: "success" }).decide().schedule, ["d"]);
    });

    it("fails the join as soon as one branch failed, without waiting for the other", () => {
      const r = runOf(diamond(), { a: "success", b: "failed", c: "running" });
      assert.deepEqual(r.decide(), { schedule: [], skip: [], upstreamFailed: ["d"], runState: null });
    });

    it("marks every branch and the join upstream_failed when the root fails", () => {
      const r = runOf(diamond(), { a: "failed" });
      assert.deepEqual(r.decide(), { schedule: [], skip: [], upstreamFailed: ["b", "c", "d"], runState: "failed" });
    });

    it("joins a skipped branch with none_failed_min_one_success (branching) but skips an all_success join", () => {
      assert.deepEqual(runOf(diamond("none_failed_min_one_success"), { a: "success", b: "skipped", c: "success" }).decide().schedule, ["d"]);
      const strict = runOf(diamond("all_success"), { a: "success", b: "skipped", c: "success" }).decide();
      assert.deepEqual(strict, { schedule: [], skip: ["d"], upstreamFailed: [], runState: "success" });
    });

    it("skips both branches and the join in one call when the root is skipped", () => {
      const r = runOf(diamond(), { a: "skipped" });
      assert.deepEqual(r.decide(), { schedule: [], skip: ["b", "c", "d"], upstreamFailed: [], runState: "success" });
    });
  });

  it("settles a long chain in one call", () => {
    const ids = Array.from({ length: 300 }, (_, i) => `t${String(i).padStart(3, "0")}`);
    // Listed downstream-first: the worst order for a single forward pass.
    const graph = Object.fromEntries(Object.entries(chain(...ids)).reverse());
    const d = runOf(graph, { t000: "failed" }).decide();
    assert.equal(d.upstreamFailed.length, 299);
    assert.equal(d.runState, "failed");
  });
});

describe("decideRun with mapped tasks", () => {
  const mappedTasks = (rule: TriggerRule = "all_success"): TaskSpec[] => [
    task("src", [], "all_success"),
    { ...task("m", ["src"], "all_success"), expand: { from: "src" } },
    task("reduce", ["m"], rule),
  ];
  const tis = (m: [number, TaskState][], src: TaskState = "success", reduce: TaskState = "none"): TiStateView[] => [
    { id: 1, task_id: "src", map_index: -1, state: src },
    ...m.map(([idx, state], i) => ({ id: 10 + i, task_id: "m", map_index: idx, state })),
    { id: 99, task_id: "reduce", map_index: -1, state: reduce },
  ];

  it("asks to expand a mapped task once its upstream allows it, and not before", () => {
    assert.deepEqual(decideRun({ tasks: mappedTasks() }, tis([[-1, "none"]], "running")).expand, []);
    const d = decideRun({ tasks: mappedTasks() }, tis([[-1, "none"]]));
    assert.deepEqual(d.expand, ["m"]);
    assert.deepEqual(d.schedule, [], "the placeholder itself is not scheduled");
    assert.equal(d.runState, null);
  });

  it("re-expands when every instance was cleared, but only schedules a single cleared instance", () => {
    assert.deepEqual(decideRun({ tasks: mappedTasks() }, tis([[0, "none"], [1, "none"]])).expand, ["m"]);
    const one = decideRun({ tasks: mappedTasks() }, tis([[0, "success"], [1, "none"]]));
    assert.deepEqual(one.expand, []);
    assert.deepEqual(one.schedule, [11]);
  });

  it("the reduce's trigger rule sees every instance: all_success waits for all, one_failed fires on the first failure", () => {
    const waiting = decideRun({ tasks: mappedTasks() }, tis([[0, "success"], [1, "running"], [2, "success"]]));
    assert.deepEqual(waiting.schedule, []);
    const done = decideRun({ tasks: mappedTasks() }, tis([[0, "success"], [1, "success"], [2, "success"]]));
    assert.deepEqual(done.schedule, [99]);
    const alert = decideRun({ tasks: mappedTasks("one_failed") }, tis([[0, "failed"], [1, "running"], [2, "queued"]]));
    assert.deepEqual(alert.schedule, [99]);
    const failed = decideRun({ tasks: mappedTasks() }, tis([[0, "success"], [1, "failed"], [2, "success"]]));
    assert.deepEqual(failed.upstreamFailed, [99]);
    assert.equal(failed.runState, "failed");
  });

  it("skips an unexpanded mapped task (and its downstream) when its upstream is skipped", () => {
    const d = decideRun({ tasks: mappedTasks() }, tis([[-1, "none"]], "skipped"));
    assert.deepEqual(d.skip.sort((a, b) => a - b), [10, 99]);
    assert.equal(d.runState, "success");
  });
});

describe("checkMapList", () => {
  it("accepts a list up to the maximum and refuses anything else with the fix", () => {
    assert.deepEqual(checkMapList("m", "src", [1, 2], 2), { ok: true, length: 2 });
    assert.deepEqual(checkMapList("m", "src", [], 2), { ok: true, length: 0 });
    const long = checkMapList("m", "src", [1, 2, 3], 2);
    assert.ok(!long.ok && /3 elements, more than the maximum of 2/.test(long.error) && /maxMapLength/.test(long.error));
    for (const [value, word] of [[{ a: 1 }, "an object"], ["x", "a string"], [null, "nothing"], [undefined, "nothing"], [3, "a number"]] as const) {
      const r = checkMapList("m", "src", value, 10);
      assert.ok(!r.ok && r.error.includes(`"src" returned ${word}, not a list`), String(value));
    }
  });
});
