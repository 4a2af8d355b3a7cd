import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

/** Human-readable logs on stderr (JSON with SLUICE_LOG_JSON-style config later); stdout stays free for command output. */
export function createLogger(level: string, opts: { json?: boolean } = {}): Logger {
  if (opts.json) return pino({ level }, pino.destination(2));
  return pino(
    { level },
    pretty({ destination: 2, colorize: process.stderr.isTTY, ignore: "pid,hostname", singleLine: true, translateTime: "SYS:HH:MM:ss.l", sync: true }),
  );
}

export type { Logger };
