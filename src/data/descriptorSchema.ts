/**
 * Zod schema of partition descriptors: they travel as JSON (an upstream's
 * result, a mapped instance's item), so whoever consumes one checks it first.
 */
import { z } from "zod";
import type { PartitionDescriptor } from "../core/partitions.js";

const count = z.number().int().nonnegative();
const position = { index: count, of: z.number().int().positive() };
const oneChar = z.string().length(1);

const csv = z.object({
  format: z.literal("csv"),
  path: z.string().min(1),
  start: count,
  end: count,
  header: z.string().optional(),
  delimiter: oneChar,
  quote: oneChar,
  estimatedRows: count.optional(),
  ...position,
});

const jsonl = z.object({
  format: z.literal("jsonl"),
  path: z.string().min(1),
  start: count,
  end: count,
  estimatedRows: count.optional(),
  ...position,
});

const parquet = z.object({
  format: z.literal("parquet"),
  path: z.string().min(1),
  rowGroups: z.tuple([count, z.number().int().min(-1)]),
  rowStart: count,
  rowEnd: count,
  rows: count,
  ...position,
});

const keyValue = z.union([z.number(), z.string()]).nullable();

const sqlRange = z.object({
  format: z.literal("sql-range"),
  engine: z.enum(["postgres", "sqlite", "duckdb"]),
  database: z.string().min(1).optional(),
  schema: z.string().min(1).optional(),
  table: z.string().min(1),
  key: z.string().min(1),
  lo: keyValue,
  hi: keyValue,
  rows: count,
  ...position,
});

export const partitionDescriptorSchema: z.ZodType<PartitionDescriptor> = z
  .discriminatedUnion("format", [csv, jsonl, parquet, sqlRange])
  .refine((d) => !("start" in d) || d.end >= d.start, { message: "end is before start" })
  .refine((d) => d.format !== "parquet" || d.rowEnd >= d.rowStart, { message: "rowEnd is before rowStart" }) as z.ZodType<PartitionDescriptor>;

/** True for a value shaped like a descriptor (an object with a known format), before validating it. */
export function looksLikeDescriptor(v: unknown): v is { format: string } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { format?: unknown }).format === "string";
}
