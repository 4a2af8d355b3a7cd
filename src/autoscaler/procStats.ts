/**
 * Resource use of local worker processes, read from Linux /proc.
 *
 * A `sluice worker` runs its attempts in child task processes, so a worker's
 * use is its own plus its descendants'.
 * - CPU: utime + stime (fields 14, 15 of /proc/<pid>/stat, in clock ticks of
 *   1/100 s on Linux) between two samples, over the wall time between them:
 *   1.0 = one core busy.
 * - Memory: RSS (/proc/<pid>/statm field 2 × the 4 KiB page), in MiB.
 * - "Network": Linux keeps no per-process network counters. We use
 *   rchar + wchar of /proc/<pid>/io: bytes passed through read/write-family
 *   system calls, which include socket traffic (the PostgreSQL connection,
 *   HTTP calls) but also files and pipes. The host's /proc/net/dev cannot be
 *   split per worker. So "network" here is I/O throughput per worker, an upper
 *   bound of its network traffic.
 * A process that exits between two samples is left out of that interval.
 */
import { readdir, readFile } from "node:fs/promises";

const CLOCK_TICKS = 100;
const PAGE_BYTES = 4096;

interface Raw {
  ticks: number;
  rssBytes: number;
  ioBytes: number;
}

export interface Usage {
  cpu: number;
  memory: number;
  network: number;
}

async function parentMap(): Promise<Map<number, number[]>> {
  const children = new Map<number, number[]>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, "utf8").catch(() => undefined);
    if (!stat) continue;
    // The command name (field 2) may hold spaces and parentheses: parse after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  return children;
}

/** `pid` and all its descendants. */
export async function processTree(pid: number): Promise<number[]> {
  const children = await parentMap();
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

async function readRaw(pid: number): Promise<Raw | undefined> {
  try {
    const [stat, statm, io] = await Promise.all([
      readFile(`/proc/${pid}/stat`, "utf8"),
      readFile(`/proc/${pid}/statm`, "utf8"),
      readFile(`/proc/${pid}/io`, "utf8").catch(() => ""),
    ]);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // After the command: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    const ticks = Number(f[11]) + Number(f[12]);
    const rssBytes = Number(statm.split(" ")[1]) * PAGE_BYTES;
    const num = (key: string) => Number(new RegExp(`^${key}: (\\d+)$`, "m").exec(io)?.[1] ?? 0);
    return { ticks, rssBytes, ioBytes: num("rchar") + num("wchar") };
  } catch {
    return undefined; // exited
  }
}

/**
 * Per-worker sampler: call sample() once per autoscaler tick with the worker
 * pids; it returns the average per worker since the previous call, or
 * undefined on the first call (no interval yet) or with no workers.
 */
export class ProcSampler {
  private last = new Map<number, Raw>();
  private lastAt: number | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  async sample(workerPids: readonly number[]): Promise<Usage | undefined> {
    const at = this.now();
    const current = new Map<number, Raw>();
    const perWorker: Usage[] = [];
    const prevAt = this.lastAt;
    for (const w of workerPids) {
      let ticks = 0;
      let rss = 0;
      let io = 0;
      let measured = false;
      for (const pid of await processTree(w)) {
        const raw = await readRaw(pid);
        if (!raw) continue;
        current.set(pid, raw);
        rss += raw.rssBytes;
        const before = this.last.get(pid);
        if (before) {
          ticks += raw.ticks - before.ticks;
          io += raw.ioBytes - before.ioBytes;
          measured = true;
        } else if (prevAt !== undefined) {
          // Started during the interval: all its use so far belongs to it.
          ticks += raw.ticks;
          io += raw.ioBytes;
        }
      }
      if (measured && prevAt !== undefined) {
        const seconds = Math.max((at - prevAt) / 1000, 1e-3);
        perWorker.push({ cpu: ticks / CLOCK_TICKS / seconds, memory: rss / 1024 / 1024, network: io / seconds });
      }
    }
    this.last = current;
    this.lastAt = at;
    if (perWorker.length === 0) return undefined;
    const avg = (k: keyof Usage) => perWorker.reduce((s, u) => s + u[k], 0) / perWorker.length;
    return { cpu: avg("cpu"), memory: avg("memory"), network: avg("network") };
  }
}
