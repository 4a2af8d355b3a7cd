/**
 * Kubernetes resource quantities ("250m", "1500000n", "512Mi", "1G") as
 * numbers, for what metrics-server reports: CPU in cores, memory in bytes.
 * The suffixes are the API's (apimachinery's resource.Quantity): decimal
 * n u m k M G T P E and binary Ki Mi Gi Ti Pi Ei.
 */
const FACTORS: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+)(?:[eE]([+-]?[0-9]+))?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

export class QuantityError extends Error {
  override name = "QuantityError";
}

/** The quantity's value in base units (cores, bytes). */
export function parseQuantity(q: string): number {
  const m = QUANTITY.exec(q.trim());
  if (!m) throw new QuantityError(`"${q}" is not a Kubernetes quantity (expected e.g. "250m", "1.5", "512Mi" or "2G")`);
  const [, num, exp, suffix = ""] = m;
  return Number(num) * (exp ? 10 ** Number(exp) : 1) * FACTORS[suffix];
}
