/**
 * A CSV or JSON Lines partition as a file DuckDB can read on its own: the
 * byte range [start, end) of the original, preceded by the CSV header, copied
 * into the attempt's scratch folder by streaming (memory: one 1 MiB buffer,
 * whatever the partition's size).
 *
 * Why a copy: DuckDB's readers take whole files, and a view over a pipe would
 * be readable once only (DuckDB binds a view by reading the file's start,
 * then reads it again to run the query). Copying costs one sequential write
 * of the partition; the copy is removed with the scratch folder.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PartitionError, type CsvPartition, type FileRangePartition } from "../core/partitions.js";

const COPY_CHUNK_BYTES = 1 << 20;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * The header line as the file writes it: the same line ending as the file
 * (DuckDB's sniffer refuses a "\n" header over "\r\n" records), checked
 * against the descriptor so a file rewritten since partitioning is caught.
 */
async function headerLine(desc: CsvPartition): Promise<Buffer> {
  const header = Buffer.from(desc.header!, "utf8");
  const fh = await open(desc.path, "r");
  try {
    const buf = Buffer.alloc(BOM.length + header.length + 2);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const head = buf.subarray(0, bytesRead);
    const off = head.subarray(0, BOM.length).equals(BOM) ? BOM.length : 0;
    if (!head.subarray(off, off + header.length).equals(header)) {
      throw new PartitionError(`"${desc.path}" no longer starts with the header it had when it was partitioned; the file changed — partition it again.`, { path: desc.path });
    }
    const eol = head[off + header.length] === 0x0d && head[off + header.length + 1] === 0x0a ? "\r\n" : "\n";
    return Buffer.concat([header, Buffer.from(eol)]);
  } finally {
    await fh.close();
  }
}

/** Copy the partition (with its header) to `dest`. */
export async function copyPartition(desc: FileRangePartition, dest: string, signal: AbortSignal): Promise<number> {
  const prefix = desc.format === "csv" && desc.header !== undefined ? await headerLine(desc) : undefined;
  const want = desc.end - desc.start;
  let copied = 0;
  async function* withPrefix(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    if (prefix) yield prefix;
    for await (const chunk of source) {
      copied += chunk.length;
      yield chunk;
    }
  }
  const source = want > 0 ? createReadStream(desc.path, { start: desc.start, end: desc.end - 1, highWaterMark: COPY_CHUNK_BYTES }) : Readable.from([]);
  await pipeline(source, withPrefix, createWriteStream(dest), { signal });
  if (copied !== want) {
    throw new PartitionError(
      `"${desc.path}" is shorter than partition ${desc.index + 1}/${desc.of} (it has ${copied} of the partition's ${want} bytes from byte ${desc.start}); the file changed after partitioning — partition it again.`,
      { path: desc.path },
    );
  }
  return copied + (prefix?.length ?? 0);
}
