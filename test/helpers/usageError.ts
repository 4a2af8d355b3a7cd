import assert from "node:assert/strict";
import { ErrorCode, SluiceError } from "../../src/core/errors.js";

/** `p` must reject with a SluiceError of code USAGE whose message matches `pattern` (the partitioners' bad-input errors). */
export async function rejectsUsage(p: Promise<unknown>, pattern: RegExp): Promise<SluiceError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SluiceError, `expected a SluiceError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.Usage);
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail(`expected a rejection matching ${pattern}`);
}
