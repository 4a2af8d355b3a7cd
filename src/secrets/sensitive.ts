/**
 * Which names hold secrets, and masking of the values under them. The same
 * rule decides that a variable named "db_password" is secret by default and
 * that `extra.api_key` of a connection is shown as "***" (Airflow's rule, so
 * people moving from it meet no surprise).
 */

/** What a masked value is replaced with in API answers. */
export const MASK = "***";

const SENSITIVE = /password|passwd|passphrase|secret|token|api[_-]?key|private[_-]?key|credential/i;

/** Whether a variable key or an extra field name looks like it holds a secret. */
export function looksSecret(name: string): boolean {
  return SENSITIVE.test(name);
}

/** A copy of `value` where everything under a secret-looking key (at any depth) is "***". */
export function maskSecretFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecretFields);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, looksSecret(k) && v !== null && v !== "" ? MASK : maskSecretFields(v)]));
  }
  return value;
}

/**
 * A client that read a masked object and sends it back edited (the UI's edit
 * form) sends "***" where it never saw the value: keep the stored value there
 * instead of saving the mask. `previous` is the stored (decrypted) object.
 */
export function restoreMasked(next: unknown, previous: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isObj(next)) return next;
  const prev = isObj(previous) ? previous : {};
  return Object.fromEntries(
    Object.entries(next).map(([k, v]) => {
      if (v === MASK && looksSecret(k) && Object.hasOwn(prev, k)) return [k, prev[k]];
      return [k, restoreMasked(v, prev[k])];
    }),
  );
}

/** Whether `value` (a client's object) still contains a mask that restoreMasked would need the stored value for. */
export function containsMask(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsMask);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).some(([k, v]) => (v === MASK && looksSecret(k)) || containsMask(v));
  }
  return false;
}
