/**
 * Reading a driver's output as it streams by: the application id Spark logs
 * when it registers with the master, and the last lines kept for the error
 * message of a failed task (a Python traceback when there is one, since that
 * is what a PySpark author needs to see).
 */

/** Logged by StandaloneSchedulerBackend ("Connected to Spark cluster with app ID app-…") and by Kubernetes backends ("spark-…"). */
const APP_ID_RES = [/Connected to Spark cluster with app ID (app-[\w-]+)/, /Application ID(?: is|:)? ?(app-[\w-]+|spark-[0-9a-f]{16,})/i];

const MAX_LINES = 400;
const MAX_MESSAGE_LINES = 25;
const MAX_MESSAGE_CHARS = 4_000;

export class DriverOutput {
  private lines: string[] = [];
  private partial: Record<string, string> = {};
  appId: string | undefined;

  constructor(private readonly onAppId?: (appId: string) => void) {}

  /** Feed a chunk of one stream (chunks may split lines). */
  push(stream: string, text: string): void {
    const joined = (this.partial[stream] ?? "") + text;
    const parts = joined.split(/\r?\n/);
    this.partial[stream] = parts.pop() ?? "";
    for (const line of parts) this.line(line);
  }

  /** Flush partial lines at the end of the output. */
  end(): void {
    for (const [k, rest] of Object.entries(this.partial)) if (rest) this.line(rest);
    this.partial = {};
  }

  private line(line: string): void {
    if (!this.appId) {
      for (const re of APP_ID_RES) {
        const m = re.exec(line);
        if (m) {
          this.appId = m[1];
          this.onAppId?.(m[1]);
          break;
        }
      }
    }
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
  }

  /**
   * The driver's last error lines: the last Python traceback (to its end),
   * else the last ERROR/Exception lines, else the last lines; bounded.
   */
  errorLines(): string {
    const lines = this.lines.filter((l) => l.trim() !== "");
    let picked: string[];
    const tb = lines.map((l, i) => (l.startsWith("Traceback (most recent call last)") ? i : -1)).filter((i) => i >= 0).pop();
    if (tb !== undefined) {
      // The traceback and the exception line(s) after it, without the INFO chatter of the shutdown.
      picked = lines.slice(tb).filter((l, i) => i === 0 || !/^\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d (INFO|DEBUG) /.test(l));
    } else {
      const errs = lines.filter((l) => /\bERROR\b|Exception|Error:|\bFATAL\b/.test(l));
      picked = errs.length > 0 ? errs : lines;
    }
    picked = picked.slice(-MAX_MESSAGE_LINES);
    let text = picked.join("\n");
    if (text.length > MAX_MESSAGE_CHARS) text = `…${text.slice(-MAX_MESSAGE_CHARS)}`;
    return text;
  }
}

/** A failure message: what ended how, then the driver's last error lines when there are any. */
export function failureMessage(what: string, out: DriverOutput): string {
  const tail = out.errorLines();
  return tail ? `${what}\nLast lines of the driver's output:\n${tail}` : what;
}
