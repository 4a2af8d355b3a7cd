/** Kubernetes quantities as metrics-server and manifests write them. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseQuantity, QuantityError } from "../../src/kube/quantity.js";

describe("parseQuantity", () => {
  it("reads CPU in cores and memory in bytes, with decimal and binary suffixes", () => {
    const cases: [string, number][] = [
      ["250m", 0.25],
      ["1", 1],
      ["1.5", 1.5],
      ["123456789n", 0.123456789],
      ["500000u", 0.5],
      ["2k", 2000],
      ["1G", 1e9],
      ["512Mi", 512 * 2 ** 20],
      ["1048576Ki", 2 ** 30],
      ["2Gi", 2 * 2 ** 30],
      ["1e3", 1000],
      [".5", 0.5],
      ["0", 0],
    ];
    for (const [q, want] of cases) assert.ok(Math.abs(parseQuantity(q) - want) < 1e-9 * Math.max(1, want), `${q} → ${parseQuantity(q)}, want ${want}`);
  });

  it("refuses what is not a quantity, naming it and the expected form", () => {
    for (const bad of ["", "lots", "5 Mi", "1.2.3", "10mb", "Mi"]) {
      assert.throws(() => parseQuantity(bad), (e: unknown) => e instanceof QuantityError && e.message.includes(`"${bad}"`) && /expected e\.g\./.test(e.message), bad);
    }
  });
});
