/**
 * DuckDB values as plain JSON: what a DuckDB task returns as rows and what
 * the DuckDB adapter of partitionTable() reads keys with. DuckDB's own JSON
 * converter turns every BIGINT and DECIMAL into a string and timestamps into
 * "2024-01-02 03:04:05" (not ISO); results are read by people and by
 * downstream tasks, so integers become numbers when exact, decimals numbers
 * when a double holds them exactly, and timestamps ISO 8601 in UTC.
 *
 * Loads the DuckDB native module: import it lazily from code that DAG files
 * reach (see sqlClients.ts).
 */
import {
  DuckDBDecimalValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  type DuckDBValue,
  type DuckDBValueConverter,
  type Json,
} from "@duckdb/node-api";
import { jsonSafeInteger } from "./jsonSafe.js";

const MAX_DATE_MS = 8_640_000_000_000_000n;

/**
 * ISO 8601 in UTC with the sub-millisecond digits DuckDB keeps
 * ("2024-01-02T03:04:05.123456Z"); infinity and dates beyond what a
 * JavaScript Date holds fall back to DuckDB's text.
 */
export function isoFromMicros(micros: bigint, fallback: string, subMicroDigits = ""): string {
  let ms = micros / 1000n;
  let rest = micros % 1000n;
  if (rest < 0n) {
    ms -= 1n;
    rest += 1000n;
  }
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS) return fallback;
  const iso = new Date(Number(ms)).toISOString();
  if (rest === 0n && subMicroDigits.replace(/0/g, "") === "") return iso;
  return `${iso.slice(0, -1)}${rest.toString().padStart(3, "0")}${subMicroDigits}`.replace(/0+$/, "") + "Z";
}

function isoTimestamp(value: DuckDBValue): string {
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) return isoFromMicros(value.micros, String(value));
  if (value instanceof DuckDBTimestampSecondsValue) return isoFromMicros(value.seconds * 1_000_000n, String(value));
  if (value instanceof DuckDBTimestampMillisecondsValue) return isoFromMicros(value.millis * 1000n, String(value));
  if (value instanceof DuckDBTimestampNanosecondsValue) {
    const nanos = value.nanos;
    const micros = nanos >= 0n ? nanos / 1000n : -((-nanos + 999n) / 1000n);
    const subNanos = nanos - micros * 1000n;
    return isoFromMicros(micros, String(value), subNanos === 0n ? "" : subNanos.toString().padStart(3, "0"));
  }
  return String(value);
}

/** Largest decimal width whose values a double represents and prints back exactly. */
const EXACT_DECIMAL_DIGITS = 15;

/** DuckDB value converter producing JSON-safe values (see the file comment). */
export const jsonSafeConverter: DuckDBValueConverter<Json> = (value, type, self) => {
  if (value === null || value === undefined) return null;
  switch (type.typeId) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return typeof value === "bigint" ? jsonSafeInteger(value) : String(value);
    case DuckDBTypeId.DECIMAL:
      if (value instanceof DuckDBDecimalValue && value.width <= EXACT_DECIMAL_DIGITS) return value.toDouble();
      return String(value);
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return isoTimestamp(value);
    default:
      // Nested values (lists, structs, maps) call back into `self`, so their elements get the rules above too.
      return JsonDuckDBValueConverter(value, type, self);
  }
};
