/**
 * Scheduling a DAG on datasets in the authoring API: schedule: [dataset()],
 * anyOf()/allOf() (nested), what the spec stores (schedule null plus the
 * simplified condition, DAG-level consumer refs), the import errors for
 * every way to get it wrong, and the typing users see (against the built SDK).
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { z } from "zod";
import { datasetRefs } from "../../src/core/dagSpec.js";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";
import { dag } from "../../src/sdk/dag.js";
import { allOf, anyOf, dataset } from "../../src/sdk/dataset.js";
import { REPO, typecheckFixtures, type FileDiagnostics } from "../helpers/typecheck.js";

const THIS_FILE = fileURLToPath(import.meta.url);
const noop = async () => undefined;
const A = dataset("s3://lake/a");
const B = dataset("s3://lake/b");
const C = dataset("S3://lake/c");

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

/** A one-task DAG scheduled on `schedule`. */
const on = (schedule: unknown, extra: Record<string, unknown> = {}) => dag({ id: "consumer", schedule: schedule as never, ...extra }, (d) => void d.task("t", noop));

describe("dataset schedules in the spec", () => {
  it("a list means all of them; the spec has schedule null and the condition, and DAG-level consumer refs", () => {
    const spec = on([A, B]).toSpec("consumer.ts");
    assert.equal(spec.schedule, null);
    assert.deepEqual(spec.datasetSchedule, { all: [{ uri: "s3://lake/a" }, { uri: "s3://lake/b" }] });
    assert.deepEqual(datasetRefs(spec), [
      { uri: "s3://lake/a", taskId: null, kind: "consumer" },
      { uri: "s3://lake/b", taskId: null, kind: "consumer" },
    ]);
  });

  it("one dataset, anyOf and allOf, nested, normalised and simplified", () => {
    assert.deepEqual(on([A]).toSpec("x.ts").datasetSchedule, { uri: "s3://lake/a" });
    assert.deepEqual(on(A).toSpec("x.ts").datasetSchedule, { uri: "s3://lake/a" }, "a bare dataset() works too");
    assert.deepEqual(on(anyOf(A, B)).toSpec("x.ts").datasetSchedule, { any: [{ uri: "s3://lake/a" }, { uri: "s3://lake/b" }] });
    assert.deepEqual(on(allOf(A, anyOf(B, C))).toSpec("x.ts").datasetSchedule, {
      all: [{ uri: "s3://lake/a" }, { any: [{ uri: "s3://lake/b" }, { uri: "s3://lake/c" }] }],
    });
    assert.deepEqual(on([A, allOf(B, A)]).toSpec("x.ts").datasetSchedule, { all: [{ uri: "s3://lake/a" }, { uri: "s3://lake/b" }] }, "nested all merged, repeats dropped");
    assert.equal(on(null).toSpec("x.ts").datasetSchedule, undefined, "manual DAGs have none");
    assert.equal("datasetSchedule" in on("@daily").toSpec("x.ts"), false, "time-scheduled DAGs have none");
  });

  it("params need defaults, as for a time schedule: dataset-triggered runs have no conf", () => {
    const params = z.object({ threshold: z.number() });
    const err = importError(() => on([A], { params }));
    assert.match(err.message, /runs triggered by dataset updates are created without conf\. Give every param a default/);
    assert.deepEqual(on([A], { params: z.object({ threshold: z.number().default(3) }) }).toSpec("x.ts").params, { threshold: 3 });
  });
});

describe("dataset schedule errors", () => {
  it("an empty list", () => {
    const err = importError(() => on([]));
    assert.match(err.message, /^DAG "consumer" \(/);
    assert.match(err.message, /schedule is an empty list of datasets, so the DAG would never run.*schedule: null/);
    assert.equal(err.location?.file, THIS_FILE);
  });

  it("a URI string in the list, or as the schedule, must be wrapped in dataset()", () => {
    assert.match(importError(() => on([A, "s3://lake/b"])).message, /schedule\[1\] is the string "s3:\/\/lake\/b": wrap it as dataset\("s3:\/\/lake\/b"\)/);
    assert.match(importError(() => on("s3://lake/b")).message, /schedule "s3:\/\/lake\/b" is a dataset URI, not a time schedule: .*schedule: \[dataset\("s3:\/\/lake\/b"\)\]/);
  });

  it("a cron and datasets together are refused, saying so", () => {
    const err = importError(() => on([A, "0 2 * * *"]));
    assert.match(err.message, /schedule\[1\] is the time schedule "0 2 \* \* \*": a DAG runs either on a time schedule or on dataset updates, not both/);
    assert.match(importError(() => anyOf(A, "@daily" as never)).message, /^anyOf\(\) \(.*\): argument 2 is the time schedule "@daily": .* not both/);
  });

  it("entries that are not datasets, named by their place", () => {
    assert.match(importError(() => on([A, 42])).message, /schedule\[1\] is 42, not a dataset: use dataset\("scheme:\/\/location"\), anyOf\(\.\.\.\) or allOf\(\.\.\.\)/);
    assert.match(importError(() => on([{ uri: "s3://x/y" }])).message, /schedule\[0\] is \{"uri":"s3:\/\/x\/y"\}, not a dataset/);
    assert.match(importError(() => on([A, null])).message, /schedule\[1\] is null, not a dataset/);
    // Built by hand (or from JS without the helpers): checked in dag() as well.
    const forged = { kind: "dataset_any", of: [A, { kind: "dataset", uri: "lake/no-scheme" }] };
    assert.match(importError(() => on([forged])).message, /schedule\[0\]\.of\[1\]: the dataset URI "lake\/no-scheme" has no scheme/);
    assert.match(importError(() => on({ kind: "dataset_all", of: [] })).message, /schedule: allOf\(\) needs at least one dataset/);
  });

  it("anyOf()/allOf() check their arguments where they are called", () => {
    const empty = importError(() => allOf());
    assert.match(empty.message, /^allOf\(\) \(.*\): needs at least one dataset, e\.g\. allOf\(dataset\("s3:\/\/lake\/a"\), dataset\("s3:\/\/lake\/b"\)\)\./);
    assert.equal(empty.location?.file, THIS_FILE);
    assert.match(importError(() => anyOf(A, "s3://lake/b" as never)).message, /argument 2 is the string "s3:\/\/lake\/b": wrap it as dataset\("s3:\/\/lake\/b"\)/);
    assert.ok(Object.isFrozen(anyOf(A, B)) && Object.isFrozen(anyOf(A, B).of));
  });
});

describe("dataset schedule typing (compile-time, against the built SDK)", () => {
  const MARK = "// @error";
  const PRELUDE = `import { allOf, anyOf, dag, dataset } from "sluice";\nconst A = dataset("s3://lake/a");\nconst B = dataset("s3://lake/b");\n`;
  const fixtures: Record<string, string> = {
    correct: `${PRELUDE}
dag({ id: "c1", schedule: [A, B] }, (d) => void d.task("t", async () => 1));
dag({ id: "c2", schedule: anyOf(A, allOf(B, dataset("s3://lake/c"))) }, (d) => void d.task("t", async () => 1));
dag({ id: "c3", schedule: "@daily" }, (d) => void d.task("t", async () => 1));
`,
    string_in_list: `${PRELUDE}
dag({ id: "w1", schedule: [A, "s3://lake/b"] }, (d) => void d.task("t", async () => 1)); ${MARK}
`,
    string_in_anyof: `${PRELUDE}
anyOf(A, "s3://lake/b"); ${MARK}
`,
  };
  let dir: string;
  let byFile: Map<string, FileDiagnostics>;

  before(() => {
    // The example scheduled on ml_features' dataset must type-check as users will see it.
    ({ dir, byName: byFile } = typecheckFixtures(fixtures, { example: join(REPO, "examples", "dags", "features_report.ts") }));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("compiles lists, nested anyOf/allOf and the features_report example", () => {
    assert.deepEqual(byFile.get("correct")?.messages, []);
    assert.deepEqual(byFile.get("example")?.messages, []);
  });

  for (const name of ["string_in_list", "string_in_anyof"]) {
    it(`refuses a plain string as a dataset (${name.replaceAll("_", " ")}) on the marked line only`, () => {
      const marked = fixtures[name].split("\n").flatMap((l, i) => (l.includes(MARK) ? [i + 1] : []));
      const got = byFile.get(name)!;
      assert.deepEqual(got.lines, marked, got.messages.join("\n"));
      assert.match(got.messages.join("\n"), /'string' is not assignable to .*'DatasetScheduleItem'/);
    });
  }
});
