/**
 * The parallelData benchmark compares the Spark job's answer with DuckDB's
 * from the RESULT line the driver prints. A run whose log has no such line
 * (or a garbled one) must fail the benchmark, not skip the comparison.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resultOf } from "../../bench/parallelSpark.js";

describe("parallelSpark: the Spark variant's answer", () => {
  it("is read from the driver's RESULT line, sorted by sensor", () => {
    const log = ["26/03/01 INFO SparkContext: Running Spark version 4.0.1", 'RESULT [{"sensor": "s2", "n": 7, "sy": 1.5}, {"sensor": "s1", "n": 3}]', "INFO Shutdown hook called"];
    assert.equal(resultOf(log, "run spark_3"), "s1:3,s2:7");
  });

  it("is an error naming the run when the log has no RESULT line", () => {
    const log = ["INFO a", "ERROR something went wrong"];
    assert.throws(() => resultOf(log, "run spark_3 of bench_spark"), (err: Error) => {
      assert.match(err.message, /run spark_3 of bench_spark succeeded but its log has no "RESULT \[\.\.\.\]" line/);
      assert.match(err.message, /Last lines of the log:\nINFO a\nERROR something went wrong$/);
      return true;
    });
  });

  it("is an error when the RESULT line is not JSON or has no rows", () => {
    assert.throws(() => resultOf(["RESULT [{\"sensor\": "], "run spark_1"), /printed a RESULT line that is not JSON/);
    assert.throws(() => resultOf(["RESULT []"], "run spark_1"), /without rows of \{ sensor, n \}/);
    assert.throws(() => resultOf(['RESULT [{"n": 1}]'], "run spark_1"), /without rows of \{ sensor, n \}/);
  });
});
