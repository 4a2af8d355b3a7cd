import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { z } from "zod";
import { dagVersionHash, type DagSpec, type TaskSpec } from "../../src/core/dagSpec.js";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { dag, Dag, type DagOptions, type TaskHandle } from "../../src/sdk/dag.js";

const THIS_FILE = fileURLToPath(import.meta.url);
const noop = async () => undefined;

function rejected(fn: () => unknown, code: string = ErrorCode.DagInvalid): SluiceError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail("expected dag() to throw");
}

function taskOf(spec: DagSpec, id: string): TaskSpec {
  const t = spec.tasks.find((x) => x.id === id);
  assert.ok(t, `task ${id} is in the spec`);
  return t;
}

/** A small ETL DAG; `tweak` changes one thing to compare versions. */
function etl(opts: Partial<DagOptions> = {}, extraEdge = false) {
  return dag({ id: "etl", schedule: "@daily", start: "2026-01-01", retries: 1, ...opts }, (d) => {
    const extract = d.task("extract", async () => ({ path: "/tmp/x.csv" }));
    const transform = d.task("transform", async (_ctx, { raw }) => raw.path.length, { inputs: { raw: extract } });
    d.task("load", async () => "done", { upstream: extraEdge ? [transform, extract] : [transform] });
  });
}

/** A deep copy with every object's keys in reverse order. */
function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)])) as T;
  }
  return value;
}

describe("dag()", () => {
  it("builds a spec with documented defaults", () => {
    const spec = dag({ id: "minimal" }, (d) => {
      d.task("only", noop);
    }).toSpec("minimal.ts");
    assert.equal(spec.id, "minimal");
    assert.equal(spec.fileloc, "minimal.ts");
    assert.equal(spec.schedule, null);
    assert.equal(spec.timezone, "UTC");
    assert.equal(spec.catchup, false);
    assert.equal(spec.maxActiveRuns, 16);
    assert.equal(spec.maxActiveTasks, 16);
    assert.deepEqual(spec.tags, []);
    assert.deepEqual(spec.params, {});
    assert.equal(spec.paramsSchema, undefined);
    const t = taskOf(spec, "only");
    assert.deepEqual(
      { kind: t.kind, upstream: t.upstream, retries: t.retries, retryDelayMs: t.retryDelayMs, backoff: t.retryExponentialBackoff, cap: t.maxRetryDelayMs },
      { kind: "function", upstream: [], retries: 0, retryDelayMs: 5 * 60_000, backoff: false, cap: 60 * 60_000 },
    );
    assert.equal(t.timeoutMs, undefined);
    assert.equal(t.triggerRule, "all_success");
    assert.equal(t.pool, "default_pool");
    assert.equal(t.poolSlots, 1);
    assert.equal(t.priorityWeight, 1);
    assert.equal(t.queue, "default");
  });

  it("applies DAG-level task options to every task, with per-task overrides", () => {
    const spec = dag({ id: "defaults", retries: 3, retryDelay: "5s", retryExponentialBackoff: true, pool: "gpu", queue: "big" }, (d) => {
      d.task("inherits", noop);
      d.task("overrides", noop, { retries: 0, retryDelay: "1m", pool: "cpu" });
      d.shell("shell_inherits", "echo hi");
    }).toSpec("defaults.ts");
    for (const id of ["inherits", "shell_inherits"]) {
      const t = taskOf(spec, id);
      assert.equal(t.retries, 3, id);
      assert.equal(t.retryDelayMs, 5_000, id);
      assert.equal(t.retryExponentialBackoff, true, id);
      assert.equal(t.pool, "gpu", id);
      assert.equal(t.queue, "big", id);
    }
    const o = taskOf(spec, "overrides");
    assert.equal(o.retries, 0);
    assert.equal(o.retryDelayMs, 60_000);
    assert.equal(o.pool, "cpu");
    assert.equal(o.retryExponentialBackoff, true, "options not overridden are still inherited");
  });

  it("infers upstream dependencies from inputs, merged with explicit upstream without duplicates", () => {
    const built = dag({ id: "infer" }, (d) => {
      const a = d.task("a", async () => 1);
      const b = d.task("b", async () => 2);
      d.task("c", noop, { inputs: { first: a } });
      d.task("d", noop, { inputs: { first: a, again: a }, upstream: [a, b, "c"] });
    });
    const spec = built.toSpec("infer.ts");
    assert.deepEqual(taskOf(spec, "c").upstream, ["a"]);
    assert.deepEqual([...taskOf(spec, "d").upstream].sort(), ["a", "b", "c"]);
    assert.deepEqual(built.tasks.get("c")?.inputs, { first: "a" });
    assert.deepEqual(built.tasks.get("d")?.inputs, { first: "a", again: "a" });
  });

  it("chain() makes each task depend on the previous one", () => {
    const spec = dag({ id: "chained" }, (d) => {
      const a = d.task("a", noop);
      const b = d.shell("b", "true");
      const c = d.task("c", noop, { upstream: [a] });
      d.chain(a, b, c);
    }).toSpec("chained.ts");
    assert.deepEqual(taskOf(spec, "a").upstream, []);
    assert.deepEqual(taskOf(spec, "b").upstream, ["a"]);
    assert.deepEqual(taskOf(spec, "c").upstream.sort(), ["a", "b"], "existing upstream kept, no duplicate");
  });

  it("chain() rejects a task of another DAG", () => {
    let foreign: TaskHandle | undefined;
    dag({ id: "other" }, (d) => {
      foreign = d.task("elsewhere", noop);
    });
    const err = rejected(() =>
      dag({ id: "mine" }, (d) => {
        const a = d.task("a", noop);
        d.chain(a, foreign!);
      }),
    );
    assert.match(err.message, /DAG "mine".*chain\(\): task "elsewhere" is not declared in this DAG/);
  });

  it("records shell commands and their environment", () => {
    const spec = dag({ id: "sh" }, (d) => {
      d.shell("build", "make all", { env: { TARGET: "x" }, cwd: "/tmp" });
    }).toSpec("sh.ts");
    const t = taskOf(spec, "build");
    assert.equal(t.kind, "shell");
    assert.equal(t.command, "make all");
    assert.deepEqual(t.env, { TARGET: "x" });
    assert.equal(t.cwd, "/tmp");
  });

  it("reads durations like 5s and 1h30m, and plain milliseconds", () => {
    const spec = dag({ id: "durations", runTimeout: "2h", maxRetryDelay: "10m" }, (d) => {
      d.task("a", noop, { timeout: "1h30m", retryDelay: "5s" });
      d.task("b", noop, { timeout: 2_500, retryDelay: 0 });
    }).toSpec("durations.ts");
    assert.equal(spec.runTimeoutMs, 2 * 3_600_000);
    assert.equal(taskOf(spec, "a").timeoutMs, 90 * 60_000);
    assert.equal(taskOf(spec, "a").retryDelayMs, 5_000);
    assert.equal(taskOf(spec, "a").maxRetryDelayMs, 10 * 60_000);
    assert.equal(taskOf(spec, "b").timeoutMs, 2_500);
    assert.equal(taskOf(spec, "b").retryDelayMs, 0, "retryDelay 0 means retry immediately");
  });

  it("rejects a bad duration, naming the DAG, the task and the option", () => {
    const err = rejected(() => dag({ id: "bad_duration" }, (d) => void d.task("slow", noop, { timeout: "5 minutes" })));
    assert.match(err.message, /DAG "bad_duration"/);
    assert.match(err.message, /task "slow": timeout/);
    assert.match(err.message, /"5 minutes"/);
  });

  it("stores dates as ISO timestamps and rejects invalid ones", () => {
    const spec = dag({ id: "dates", start: "2026-01-01", end: new Date(Date.UTC(2026, 5, 30, 12)) }, (d) => void d.task("a", noop)).toSpec("dates.ts");
    assert.equal(spec.start, "2026-01-01T00:00:00.000Z");
    assert.equal(spec.end, "2026-06-30T12:00:00.000Z");
    const err = rejected(() => dag({ id: "bad_dates", start: "next tuesday" }, (d) => void d.task("a", noop)));
    assert.match(err.message, /DAG "bad_dates"/);
    assert.match(err.message, /start "next tuesday" is not a date/);
    rejected(() => dag({ id: "bad_end", end: new Date(Number.NaN) }, (d) => void d.task("a", noop)));
  });

  it("stores params as defaults plus a JSON Schema", () => {
    const spec = dag({ id: "params", params: z.object({ rows: z.number().int().default(100), label: z.string().default("x") }) }, (d) => void d.task("a", noop)).toSpec("p.ts");
    assert.deepEqual(spec.params, { rows: 100, label: "x" });
    const schema = spec.paramsSchema as { type?: string; properties?: Record<string, { type?: string }> };
    assert.equal(schema.type, "object");
    assert.equal(schema.properties?.rows?.type, "integer");
    assert.equal(schema.properties?.label?.type, "string");
  });

  it("returns a Dag that the loader can recognise", () => {
    const built = etl();
    assert.ok(built instanceof Dag);
    assert.ok(Dag.is(built));
    assert.equal(Dag.is({ id: "etl", tasks: new Map() }), false);
    assert.equal(typeof built.tasks.get("transform")?.fn, "function");
  });

  describe("errors", () => {
    it("rejects a duplicate task id", () => {
      const err = rejected(() =>
        dag({ id: "dupes" }, (d) => {
          d.task("load", noop);
          d.shell("load", "true");
        }),
      );
      assert.match(err.message, /DAG "dupes"/);
      assert.match(err.message, /task id "load" is declared twice/);
    });

    it("checks mapped tasks: expand makes a dependency; bad expand values and limits are refused with the fix", () => {
      const ok = dag({ id: "mapped" }, (d) => {
        const parts = d.task("parts", async () => [1, 2]);
        d.task("work", async (_c, { item }) => item, { expand: parts, maxMapLength: 8, maxActiveMapped: 2 });
        d.shell("echo", "echo $SLUICE_MAP_ITEM", { expand: parts });
      }).toSpec("m.ts");
      const work = ok.tasks.find((t) => t.id === "work")!;
      assert.deepEqual(work.upstream, ["parts"]);
      assert.deepEqual(work.expand, { from: "parts", maxLength: 8, maxActive: 2 });
      assert.deepEqual(ok.tasks.find((t) => t.id === "echo")!.expand, { from: "parts", maxLength: undefined, maxActive: undefined });
      assert.equal(ok.tasks.find((t) => t.id === "parts")!.expand, undefined);

      const notHandle = rejected(() => dag({ id: "m1" }, (d) => void d.task("w", noop, { expand: "parts" as never })));
      assert.match(notHandle.message, /task "w": expand must be the handle of an upstream task/);
      const zero = rejected(() =>
        dag({ id: "m2" }, (d) => {
          const p = d.task("p", async () => [1]);
          d.task("w", noop, { expand: p, maxMapLength: 0 });
        }),
      );
      assert.match(zero.message, /maxMapLength must be an integer >= 1, got 0/);
      const limitOnly = rejected(() => dag({ id: "m3" }, (d) => void d.task("w", noop, { maxActiveMapped: 2 })));
      assert.match(limitOnly.message, /only apply to a mapped task; add expand/);
      const clash = rejected(() =>
        dag({ id: "m4" }, (d) => {
          const p = d.task("p", async () => [1]);
          d.task("w", noop, { expand: p, inputs: { item: p } } as never);
        }),
      );
      assert.match(clash.message, /input named "item" clashes with the mapped element/);
    });

    it("checks duckdb and spark task options", () => {
      const spec = dag({ id: "kinds" }, (d) => {
        d.duckdb("q", { sql: "select 1", memoryLimit: "512MB", threads: 2 });
        d.spark("s", { application: "jobs/a.py", args: ["x"], conf: { "spark.sql.shuffle.partitions": "4" }, executorCores: 1 });
      }).toSpec("k.ts");
      assert.deepEqual(spec.tasks[0].duckdb, { memoryLimit: "512MB", threads: 2 });
      assert.equal(spec.tasks[1].spark?.connection, "spark_default");
      assert.deepEqual(spec.tasks[1].spark?.args, ["x"]);
      assert.match(rejected(() => dag({ id: "k1" }, (d) => void d.duckdb("q", { sql: "  " }))).message, /duckdb task "q": sql is empty/);
      assert.match(rejected(() => dag({ id: "k2" }, (d) => void d.duckdb("q", { sql: "select 1", memoryLimit: "lots" }))).message, /memoryLimit "lots" is not a size/);
      assert.match(rejected(() => dag({ id: "k3" }, (d) => void d.spark("s", { application: "job.jar" }))).message, /a JAR application needs mainClass/);
      assert.match(rejected(() => dag({ id: "k4" }, (d) => void d.spark("s", { application: "a.py", conf: { x: 1 as never } }))).message, /conf\["x"\] must be a string/);
      assert.match(rejected(() => dag({ id: "k5" }, (d) => void d.spark("s", { application: "" }))).message, /application must name a PySpark .py file or a .jar/);
    });

    it("rejects an unknown option with a suggestion", () => {
      const err = rejected(() => dag({ id: "typo", retires: 3 } as unknown as DagOptions, (d) => void d.task("a", noop)));
      assert.match(err.message, /DAG "typo"/);
      assert.match(err.message, /unknown option "retires" — did you mean "retries"\?/);
    });

    it("rejects a bad schedule, naming the DAG", () => {
      const err = rejected(() => dag({ id: "nightly", schedule: "0 2 * *" }, (d) => void d.task("a", noop)));
      assert.match(err.message, /^DAG "nightly"/);
      assert.match(err.message, /"0 2 \* \*"/);
      const tz = rejected(() => dag({ id: "zoned", schedule: "@daily", timezone: "Mars/Olympus" }, (d) => void d.task("a", noop)));
      assert.match(tz.message, /DAG "zoned".*Mars\/Olympus/);
    });

    it("rejects an unknown trigger rule with a suggestion and the list of rules", () => {
      const err = rejected(() =>
        dag({ id: "rules" }, (d) => void d.task("a", noop, { triggerRule: "all_sucess" as unknown as "all_success" })),
      );
      assert.match(err.message, /task "a": trigger rule "all_sucess" is unknown — did you mean "all_success"\?/);
      assert.match(err.message, /none_failed_min_one_success/);
    });

    it("rejects a cycle through upstream ids, as a path", () => {
      const err = rejected(
        () =>
          dag({ id: "loop" }, (d) => {
            d.task("a", noop, { upstream: ["c"] });
            d.task("b", noop, { upstream: ["a"] });
            d.task("c", noop, { upstream: ["b"] });
          }),
        ErrorCode.DagCycle,
      );
      assert.ok(["a -> b -> c -> a", "b -> c -> a -> b", "c -> a -> b -> c"].some((p) => err.message.includes(p)), err.message);
    });

    it("rejects a misspelt upstream id with did-you-mean", () => {
      const err = rejected(
        () =>
          dag({ id: "etl" }, (d) => {
            d.task("transform", noop);
            d.task("load", noop, { upstream: ["transfrom"] });
          }),
        ErrorCode.DagUnknownTask,
      );
      assert.match(err.message, /did you mean "transform"\?/);
    });

    it("rejects a DAG without tasks, bad ids and bad numbers", () => {
      assert.match(rejected(() => dag({ id: "empty" }, () => {})).message, /declares no tasks/);
      assert.match(rejected(() => dag({ id: "has space" }, (d) => void d.task("a", noop))).message, /DAG id "has space" is invalid/);
      assert.match(rejected(() => dag({ id: "ids" }, (d) => void d.task("a/b", noop))).message, /task id "a\/b" is invalid/);
      assert.match(rejected(() => dag({ id: "nums", retries: -1 }, (d) => void d.task("a", noop))).message, /retries must be an integer >= 0/);
      assert.match(rejected(() => dag({ id: "runs", maxActiveRuns: 0 }, (d) => void d.task("a", noop))).message, /maxActiveRuns must be an integer >= 1/);
    });

    it("points the error at the file and line that declared the DAG", () => {
      const err = rejected(() => dag({ id: "located", schedule: "whenever" }, (d) => void d.task("a", noop)));
      assert.equal(err.location?.file, THIS_FILE);
      assert.ok((err.location?.line ?? 0) > 0);
      assert.ok(err.message.includes(`(${THIS_FILE}:${err.location?.line})`), err.message);
    });
  });

  describe("spec and version", () => {
    it("toSpec() is plain JSON: it survives a JSON round trip with the same version", () => {
      const spec = dag({ id: "json", params: z.object({ n: z.number().default(1) }), schedule: "15m" }, (d) => {
        const a = d.task("a", async () => ({ ok: true }));
        d.task("b", async (_ctx, { a: r }) => r.ok, { upstream: [a], timeout: "1m" });
        d.shell("c", "echo $X", { env: { X: "1" }, upstream: ["b"] });
      }).toSpec("json.ts");
      const copy = JSON.parse(JSON.stringify(spec)) as DagSpec;
      assert.equal(dagVersionHash(copy), dagVersionHash(spec));
      // Nothing that JSON would drop or mangle: functions, Dates, symbols, undefined-in-arrays.
      const walk = (v: unknown, path: string): void => {
        assert.ok(typeof v !== "function" && typeof v !== "symbol" && typeof v !== "bigint" && !(v instanceof Date), `${path} is not JSON`);
        if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) if (x !== undefined) walk(x, `${path}.${k}`);
      };
      walk(spec, "spec");
      assert.deepEqual(copy.tasks.map((t) => t.id), ["a", "b", "c"]);
    });

    it("gives the same version to the same DAG built twice, whatever the key order or file location", () => {
      const a = etl().toSpec("etl.ts");
      const b = etl().toSpec("moved/etl.ts");
      assert.equal(dagVersionHash(a), dagVersionHash(b));
      assert.equal(dagVersionHash(reverseKeys(a)), dagVersionHash(a));
      assert.match(dagVersionHash(a), /^[0-9a-f]{16}$/);
    });

    it("changes the version when the structure changes", () => {
      const base = dagVersionHash(etl().toSpec("etl.ts"));
      const variants = {
        edge: etl({}, true),
        retries: etl({ retries: 2 }),
        schedule: etl({ schedule: "@hourly" }),
        rule: dag({ id: "etl", schedule: "@daily", start: "2026-01-01", retries: 1 }, (d) => {
          const extract = d.task("extract", async () => ({ path: "/tmp/x.csv" }));
          const transform = d.task("transform", async (_ctx, { raw }) => raw.path.length, { inputs: { raw: extract } });
          d.task("load", async () => "done", { upstream: [transform], triggerRule: "all_done" });
        }),
      };
      const hashes = new Set([base]);
      for (const [what, built] of Object.entries(variants)) {
        const h = dagVersionHash(built.toSpec("etl.ts"));
        assert.notEqual(h, base, `changing the ${what} changes the version`);
        hashes.add(h);
      }
      assert.equal(hashes.size, Object.keys(variants).length + 1, "every variant has its own version");
    });
  });
});

describe("params of scheduled DAGs", () => {
  it("refuses a scheduled DAG whose params need conf, and accepts the same params on a manual DAG", async () => {
    const { z } = await import("zod");
    const params = z.object({ table: z.string(), rows: z.number().default(10) });
    assert.throws(
      () => dag({ id: "needs_conf", schedule: "@daily", params }, (d) => void d.task("t", async () => 1)),
      (err: Error) => /params schema has fields without a default/.test(err.message) && /needs_conf/.test(err.message),
    );
    const manual = dag({ id: "manual_ok", schedule: null, params }, (d) => void d.task("t", async () => 1));
    assert.equal(manual.id, "manual_ok");
  });
});

