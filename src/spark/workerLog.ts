/**
 * A cluster-mode driver's stdout/stderr, read from the worker that runs it:
 * the worker web UI's `/log/?driverId=…&logType=…&offset=…&byteLength=…`
 * answers "==== Bytes a-b of total of <file> ====\n" and the bytes. Each
 * poll reads from where the last one stopped, so the task log gets every
 * byte once, while the driver runs and after it ends (the files stay in the
 * worker's work dir).
 */
import { authHeaders, sparkFetch } from "./sparkHttp.js";

const HEADER = /^==== Bytes (\d+)-(\d+) of (\d+) of .*? ====\n?/;
const CHUNK = 64 * 1024;
/** Most bytes one poll reads (the rest comes at the next poll), so a chatty driver cannot stall the loop. */
const MAX_PER_POLL = 1024 * 1024;

export class WorkerLogTail {
  private offset = 0;

  constructor(
    private readonly workerUiUrl: string,
    private readonly driverId: string,
    readonly logType: "stdout" | "stderr",
    private readonly token?: string,
  ) {}

  /** New bytes since the last call ("" when none, or when the file does not exist yet). */
  async poll(signal?: AbortSignal): Promise<string> {
    let text = "";
    for (let read = 0; read < MAX_PER_POLL; ) {
      const url = `${this.workerUiUrl.replace(/\/+$/, "")}/log/?driverId=${encodeURIComponent(this.driverId)}&logType=${this.logType}&offset=${this.offset}&byteLength=${CHUNK}`;
      const body: string = await sparkFetch(url, { headers: authHeaders(this.token), signal, text: true, timeoutMs: 10_000, what: `the driver's ${this.logType} on its worker` });
      const m = HEADER.exec(body);
      if (!m) return text; // "Error: invalid log directory" until the driver's folder exists
      const [, , end, total] = m.map(Number);
      const chunk = body.slice(m[0].length);
      if (end <= this.offset) return text;
      text += chunk;
      read += end - this.offset;
      this.offset = end;
      if (end >= total) break;
    }
    return text;
  }
}
