/** Field messages of a 400 answer, by field name, for the forms to show next to their inputs. */
import { ApiError } from "../api/client";

export function fieldErrors(err: unknown): Record<string, string> {
  if (!(err instanceof ApiError)) return {};
  const out: Record<string, string> = {};
  for (const f of err.fields) {
    const name = f.field.split(".")[0];
    out[name] = out[name] ? `${out[name]}; ${f.message}` : f.message;
  }
  return out;
}
