/**
 * Datasets in the authoring API: dataset(), task outlets/inlets (validated at
 * import with errors naming the DAG, the task and the URI; normalised and
 * deduplicated into the spec), the version hash over structure and source,
 * ctx.outletExtra() (runtime checks in OutletExtras, and compile-time typing
 * against the built SDK, the way a user's editor sees it).
 */
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { REPO, typecheckFixtures, type FileDiagnostics } from "../helpers/typecheck.js";
import { datasetRefs, dagVersionHash } from "../../src/core/dagSpec.js";
import { ErrorCode, SluiceError, Unrecoverable } from "../../src/core/errors.js";
import { checkDatasetUri, MAX_DATASET_EXTRA_BYTES, MAX_DATASET_URI_LENGTH } from "../../src/core/validateDag.js";
import { OutletExtras } from "../../src/runner/outletExtras.js";
import { dag } from "../../src/sdk/dag.js";
import { dataset } from "../../src/sdk/dataset.js";

const THIS_FILE = fileURLToPath(import.meta.url);
const noop = async () => undefined;

function importError(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.DagInvalid, err.message);
    return err;
  }
  assert.fail("expected the declaration to throw");
}

/** A one-task DAG whose task declares `opts` (outlets/inlets). */
function withTask(opts: Record<string, unknown>, kind: "task" | "shell" = "task") {
  return dag({ id: "ds" }, (d) => {
    if (kind === "task") d.task("produce", noop, opts as never);
    else d.shell("produce", "echo hi", opts as never);
  });
}

describe("dataset URIs", () => {
  it("accepts URIs with a scheme and lower-cases only the scheme", () => {
    for (const uri of ["s3://bucket/key", "gs://b/p/*.parquet", "file:///data/x.csv", "postgres://db.internal:5432/app/public.users", "sluice://team/name", "my-store+v2://x"]) {
      assert.deepEqual(checkDatasetUri(uri), { ok: true, uri }, uri);
    }
    assert.deepEqual(checkDatasetUri("S3://Bucket/Key"), { ok: true, uri: "s3://Bucket/Key" });
    assert.equal(dataset("GS://Lake/Daily").uri, "gs://Lake/Daily");
    assert.ok(Object.isFrozen(dataset("s3://x/y")));
  });

  it("refuses URIs without a scheme, with whitespace, empty after the scheme, too long, or carrying a password", () => {
    const cases: [unknown, RegExp][] = [
      ["features/daily", /has no scheme/],
      ["/data/x.csv", /has no scheme/],
      ["s3:/bucket", /has no scheme/],
      ["1s3://bucket", /has no scheme/],
      ["s3://my bucket/key", /whitespace/],
      ["s3://bucket/key\n", /whitespace or a control character/],
      ["s3://bucket\u0000", /control character/],
      ["s3://", /nothing after "s3:\/\/"/],
      [`s3://${"k".repeat(MAX_DATASET_URI_LENGTH - 4)}`, /is 1001 characters long; dataset URIs are limited to 1000/],
      ["postgres://ana:secret@db/app", /password/],
      [42, /got number/],
      [null, /got null/],
    ];
    for (const [uri, problem] of cases) {
      const r = checkDatasetUri(uri);
      assert.equal(r.ok, false, `${JSON.stringify(uri)} must be refused`);
      assert.match((r as { problem: string }).problem, problem, JSON.stringify(uri));
    }
    // A user name alone is no secret; exactly 1,000 characters is allowed.
    assert.equal(checkDatasetUri("postgres://ana@db/app").ok, true);
    assert.equal(checkDatasetUri(`s3://${"k".repeat(MAX_DATASET_URI_LENGTH - 5)}`).ok, true);
  });

  it("dataset() with a bad URI fails where it is called, naming the URI", () => {
    const err = importError(() => dataset("features daily"));
    assert.match(err.message, /^dataset\("features daily"\) \(/);
    assert.match(err.message, /whitespace/);
    assert.equal(err.location?.file, THIS_FILE);
  });
});

describe("task outlets and inlets", () => {
  it("are normalised, deduplicated and kept in declaration order in the spec; tasks without them get empty lists", () => {
    const FEATURES = dataset("sluice://ml/features");
    const spec = dag({ id: "ml" }, (d) => {
      const a = d.task("build", noop, { outlets: [FEATURES, "S3://lake/raw", "sluice://ml/features", "s3://lake/raw"], inlets: ["gs://in/a", "GS://in/a"] });
      d.shell("publish", "echo ok", { upstream: [a], inlets: [FEATURES], outlets: ["file:///srv/out.json"] });
      d.task("plain", noop);
    }).toSpec("ml.ts");
    const [build, publish, plain] = spec.tasks;
    assert.deepEqual(build.outlets, ["sluice://ml/features", "s3://lake/raw"]);
    assert.deepEqual(build.inlets, ["gs://in/a"]);
    assert.deepEqual(publish.outlets, ["file:///srv/out.json"]);
    assert.deepEqual(publish.inlets, ["sluice://ml/features"]);
    assert.deepEqual([plain.outlets, plain.inlets], [[], []]);
    assert.deepEqual(datasetRefs(spec), [
      { uri: "sluice://ml/features", taskId: "build", kind: "producer" },
      { uri: "s3://lake/raw", taskId: "build", kind: "producer" },
      { uri: "gs://in/a", taskId: "build", kind: "consumer" },
      { uri: "file:///srv/out.json", taskId: "publish", kind: "producer" },
      { uri: "sluice://ml/features", taskId: "publish", kind: "consumer" },
    ]);
  });

  it("a bad URI fails the import with a message naming the DAG, the task and the URI", () => {
    for (const kind of ["task", "shell"] as const) {
      const err = importError(() => withTask({ outlets: ["s3://ok/one", "features/daily"] }, kind));
      assert.match(err.message, /^DAG "ds" \(/);
      assert.match(err.message, /task "produce": outlets entry "features\/daily" has no scheme/);
      assert.equal(err.location?.file, THIS_FILE);
    }
    const inlet = importError(() => withTask({ inlets: ["s3://bucket/a b"] }));
    assert.match(inlet.message, /task "produce": inlets entry "s3:\/\/bucket\/a b" contains whitespace/);
    const long = importError(() => withTask({ outlets: [`s3://${"x".repeat(2000)}`] }));
    assert.match(long.message, /is 2005 characters long/);
    assert.ok(long.message.length < 600, "a long URI is shortened in the message");
    const notList = importError(() => withTask({ outlets: "s3://bucket/key" }));
    assert.match(notList.message, /task "produce": outlets must be an array of dataset URIs or dataset\(\) values, got string/);
    const notUri = importError(() => withTask({ outlets: [{ uri: 3 }] }));
    assert.match(notUri.message, /outlets entry \{"uri":3\} must be a URI string/);
  });

  it("outlets and inlets are refused as DAG-level options (every task would become a producer)", () => {
    const err = importError(() => dag({ id: "dag_level", outlets: ["s3://x/y"] } as never, (d) => void d.task("t", noop)));
    assert.match(err.message, /"outlets" is a task option, not a DAG option/);
  });
});

describe("version hash", () => {
  const build = (outlets: string[]) => dag({ id: "v" }, (d) => void d.task("t", noop, { outlets })).toSpec("v.ts");

  it("covers outlets and inlets", () => {
    assert.notEqual(dagVersionHash(build(["s3://a/1"])), dagVersionHash(build(["s3://a/2"])));
    assert.equal(dagVersionHash(build(["S3://a/1", "s3://a/1"])), dagVersionHash(build(["s3://a/1"])), "normalised before hashing");
  });

  it("covers the file's source text when given: a code-only edit is a new version, the same text the same version", () => {
    const spec = build([]);
    const text = 'export default dag({ id: "v" }, (d) => d.task("t", async () => 1));';
    const edited = text.replace("=> 1", "=> 2");
    assert.notEqual(dagVersionHash(spec, text), dagVersionHash(spec, edited));
    assert.equal(dagVersionHash(spec, text), dagVersionHash(build([]), text));
    assert.notEqual(dagVersionHash(spec, text), dagVersionHash(spec), "with and without a source differ");
    assert.notEqual(dagVersionHash(spec, ""), dagVersionHash(spec), "an empty file is still a source");
    assert.equal(dagVersionHash(spec, text), dagVersionHash({ ...spec, fileloc: "moved/v.ts" }, text), "the path is not part of it");
    assert.match(dagVersionHash(spec, text), /^[0-9a-f]{16}$/);
  });
});

describe("ctx.outletExtra (OutletExtras)", () => {
  const at = { dagId: "ml", runId: "manual__1", taskId: "build", mapIndex: -1 };

  it("gives one event per outlet, with the metadata attached to it or null; a later call replaces the earlier", () => {
    const x = new OutletExtras("build", ["sluice://ml/features", "s3://lake/raw"]);
    const meta = { rows: 1 };
    x.set(dataset("SLUICE://ml/features"), meta);
    meta.rows = 999; // serialised at the call: later changes are not recorded
    x.set("s3://lake/raw", { rows: 5 });
    x.set("S3://lake/raw", { rows: 6, note: "rerun" });
    assert.deepEqual(x.events(at), [
      { uri: "sluice://ml/features", dag_id: "ml", run_id: "manual__1", task_id: "build", map_index: -1, extra: '{"rows":1}' },
      { uri: "s3://lake/raw", dag_id: "ml", run_id: "manual__1", task_id: "build", map_index: -1, extra: '{"rows":6,"note":"rerun"}' },
    ]);
    assert.deepEqual(new OutletExtras("build", ["s3://a/b"]).events(at).map((e) => e.extra), [null]);
    assert.deepEqual(new OutletExtras("build", []).events(at), []);
  });

  it("throws Unrecoverable for an undeclared outlet, a value that is not a plain JSON object, or one over the size bound", () => {
    const x = new OutletExtras("build", ["s3://lake/raw"]);
    const fails = (fn: () => void, re: RegExp) =>
      assert.throws(fn, (err: Error) => {
        assert.ok(err instanceof Unrecoverable, `${err}`);
        assert.match(err.message, re);
        return true;
      });
    fails(() => x.set("s3://lake/other", {}), /task "build" has no such outlet \(its outlets are "s3:\/\/lake\/raw"\)\. Add the URI to the task's outlets/);
    fails(() => new OutletExtras("t", []).set("s3://a/b", {}), /it declares no outlets/);
    fails(() => x.set("s3://lake/raw", [1, 2] as never), /must be a plain object like \{ rows: 123 \}, got an array/);
    fails(() => x.set("s3://lake/raw", "rows=3" as never), /got string/);
    fails(() => x.set("s3://lake/raw", { n: 1n }), /is not JSON/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    fails(() => x.set("s3://lake/raw", circular), /is not JSON/);
    fails(() => x.set("s3://lake/raw", { blob: "x".repeat(MAX_DATASET_EXTRA_BYTES) }), new RegExp(`at most ${MAX_DATASET_EXTRA_BYTES} are stored per dataset event`));
    assert.deepEqual(x.events(at).map((e) => e.extra), [null], "failed calls attach nothing");
  });
});

describe("outlet typing (compile-time, against the built SDK)", () => {
  const MARK = "// @error";
  const PRELUDE = `import { dag, dataset } from "sluice";\n`;
  const fixtures: Record<string, string> = {
    correct: `${PRELUDE}
const FEATURES = dataset("sluice://ml/features");
export default dag({ id: "typed_ds" }, (d) => {
  const build = d.task("build", async (ctx) => {
    ctx.outletExtra(FEATURES, { rows: 3 });
    ctx.outletExtra("s3://lake/raw", { rows: 3 });
    return { rows: 3 };
  }, { outlets: [FEATURES, "s3://lake/raw"], inlets: ["gs://in/a"] });
  d.task("use", async (_ctx, { b }) => b.rows + 1, { inputs: { b: build }, inlets: [FEATURES] });
  d.shell("ship", "echo ok", { upstream: [build], outlets: [dataset("file:///srv/out")] });
});
`,
    undeclared_outlet: `${PRELUDE}
dag({ id: "w1" }, (d) => {
  d.task("build", async (ctx) => {
    ctx.outletExtra("s3://lake/other", { rows: 3 }); ${MARK}
  }, { outlets: ["s3://lake/raw"] });
});
`,
    no_outlets: `${PRELUDE}
dag({ id: "w2" }, (d) => {
  d.task("build", async (ctx) => {
    ctx.outletExtra(dataset("s3://lake/raw"), {}); ${MARK}
  });
});
`,
    extra_not_object: `${PRELUDE}
dag({ id: "w3" }, (d) => {
  d.task("build", async (ctx) => {
    ctx.outletExtra("s3://lake/raw", 3); ${MARK}
  }, { outlets: ["s3://lake/raw"] });
});
`,
  };
  let dir: string;
  let byFile: Map<string, FileDiagnostics>;

  before(() => {
    // The example pipeline uses datasets too: it must type-check as users will see it.
    ({ dir, byName: byFile } = typecheckFixtures(fixtures, { example: join(REPO, "examples", "dags", "ml_features.ts") }));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("compiles outlets, inlets and ctx.outletExtra on declared outlets, and the ml_features example", () => {
    assert.deepEqual(byFile.get("correct")?.messages, []);
    assert.deepEqual(byFile.get("example")?.messages, []);
    assert.match(readFileSync(join(REPO, "examples", "dags", "ml_features.ts"), "utf8"), /outlets: \[FEATURES\]/);
  });

  const expected: Record<string, RegExp> = {
    undeclared_outlet: /'"s3:\/\/lake\/other"' is not assignable to parameter of type '"s3:\/\/lake\/raw" \| Dataset<"s3:\/\/lake\/raw">'/,
    no_outlets: /not assignable to parameter of type 'Dataset<never>'/,
    extra_not_object: /'number' is not assignable to parameter of type 'Record<string, unknown>'/,
  };
  for (const [name, message] of Object.entries(expected)) {
    it(`refuses ${name.replaceAll("_", " ")} on the marked line only`, () => {
      const marked = fixtures[name].split("\n").flatMap((l, i) => (l.includes(MARK) ? [i + 1] : []));
      const got = byFile.get(name)!;
      assert.deepEqual(got.lines, marked, got.messages.join("\n"));
      assert.match(got.messages.join("\n"), message);
    });
  }
});
