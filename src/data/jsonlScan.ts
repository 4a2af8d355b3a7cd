/**
 * Record boundaries in JSON Lines: a newline never occurs inside a JSON value
 * (it must be escaped in strings), so a boundary is found by seeking to the
 * target offset and reading forward to the next newline. Only the bytes near
 * each boundary are read, never the whole file.
 */
import type { FileHandle } from "node:fs/promises";

const PROBE_BYTES = 64 * 1024;
export const SAMPLE_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/** Offset just after the first newline at or after `from` - 1, or `size` when there is none. */
export async function nextLineStart(fh: FileHandle, size: number, from: number): Promise<number> {
  const buf = Buffer.alloc(PROBE_BYTES);
  let pos = Math.max(0, from - 1);
  while (pos < size) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
    if (bytesRead === 0) break;
    const nl = buf.subarray(0, bytesRead).indexOf(NEWLINE);
    if (nl >= 0) return pos + nl + 1;
    pos += bytesRead;
  }
  return size;
}

/**
 * Average bytes per line over the first SAMPLE_BYTES of the file: the basis of
 * targetRows and estimatedRows for JSON Lines (an estimate; files whose line
 * lengths drift along the file give uneven row counts).
 */
export async function sampleBytesPerLine(fh: FileHandle, size: number): Promise<number> {
  if (size === 0) return 1;
  const buf = Buffer.alloc(Math.min(SAMPLE_BYTES, size));
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  let lines = 0;
  let lastEnd = 0;
  for (let i = buf.indexOf(NEWLINE); i >= 0 && i < bytesRead; i = buf.indexOf(NEWLINE, i + 1)) {
    lines++;
    lastEnd = i + 1;
  }
  // No complete line in the sample: a line is at least that long.
  if (lines === 0) return bytesRead;
  return lastEnd / lines;
}

/** Cut [from, size) into ranges of about targetBytes ending at line starts. */
export async function jsonlCuts(fh: FileHandle, size: number, targetBytes: number, from = 0): Promise<Array<{ start: number; end: number }>> {
  if (size <= from) return [{ start: from, end: from }];
  const cuts: Array<{ start: number; end: number }> = [];
  let start = from;
  while (start < size) {
    const end = start + targetBytes >= size ? size : await nextLineStart(fh, size, start + targetBytes);
    cuts.push({ start, end });
    start = end;
  }
  return cuts;
}
