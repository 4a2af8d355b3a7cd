/**
 * Every example DAG in examples/dags type-checks against the built SDK as a
 * user's project would compile it (strict, NodeNext): the examples are the
 * first code users copy, so a type error there is a bug.
 */
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO, typecheckFixtures, type FileDiagnostics } from "../helpers/typecheck.js";

const EXAMPLES = join(REPO, "examples", "dags");
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".ts"));

describe("example DAGs", () => {
  let dir: string;
  let byName: Map<string, FileDiagnostics>;
  before(() => {
    ({ dir, byName } = typecheckFixtures({}, Object.fromEntries(files.map((f) => [f.replace(/\.ts$/, ""), join(EXAMPLES, f)]))));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("include the data pipelines of issue 4", () => {
    for (const f of ["ml_pipeline.ts", "spark_pipeline.ts", "features_report.ts"]) assert.ok(files.includes(f), f);
  });

  for (const f of files) {
    it(`${f} compiles without type errors`, () => {
      assert.deepEqual(byName.get(f.replace(/\.ts$/, ""))?.messages, []);
    });
  }
});
