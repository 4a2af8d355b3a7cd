/** A bigint as a number when it is exact, else as its decimal string (JSON has no 64-bit integers). */
export function jsonSafeInteger(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}
