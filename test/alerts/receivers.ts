/**
 * The other ends of the notifiers, real and local: an HTTP server that plays
 * Slack's incoming webhook or a generic webhook receiver (and can be told to
 * answer 500, 404, or never), a real SMTP server (the smtp-server package)
 * with a login, a port nothing listens on, and a small MIME reader for the
 * messages the SMTP server receives.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as received (the bytes an HMAC is computed over). */
  raw: Buffer;
  json: any;
}

export type ReceiverMode = "ok" | "error500" | "notFound" | "hang";

/** An HTTP endpoint on 127.0.0.1 that records every POST and answers as `mode` says. */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  mode: ReceiverMode = "ok";
  private readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {}

  static async start(): Promise<HttpReceiver> {
    let self: HttpReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        let json: unknown = null;
        try {
          json = JSON.parse(raw.toString("utf8"));
        } catch {
          /* not JSON: kept raw */
        }
        self!.requests.push({ path: req.url ?? "/", headers: req.headers, raw, json });
        const mode = self!.mode;
        if (mode === "hang") {
          self!.hanging.add(res);
          return;
        }
        if (mode === "error500") return void res.writeHead(500, { "content-type": "text/plain" }).end("internal error (test receiver)");
        if (mode === "notFound") return void res.writeHead(404, { "content-type": "text/plain" }).end("no_service");
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    self = new HttpReceiver(server, `http://127.0.0.1:${port}`);
    return self;
  }

  url(path = "/hook"): string {
    return `${this.baseUrl}${path}`;
  }

  /** Requests to one path. */
  to(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A URL whose port nothing listens on (bound, then closed): connecting is refused. */
export async function refusedUrl(path = "/hook"): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
  subject: string;
  text: string;
  html: string;
}

/** A real SMTP server on 127.0.0.1 that requires a login (plain text: the test has no certificate) and keeps every message. */
export class SmtpReceiver {
  readonly messages: ReceivedMail[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(login: { user: string; password: string }): Promise<SmtpReceiver> {
    let self: SmtpReceiver | undefined;
    const server = new SMTPServer({
      authOptional: false,
      allowInsecureAuth: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === login.user && auth.password === login.password) cb(null, { user: auth.username });
        else cb(new Error("Invalid username or password"));
      },
      onData(stream, session, cb) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          const mime = parseMime(raw);
          self!.messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            user: session.user as string | undefined,
            raw,
            ...mime,
          });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const { port } = (server as unknown as { server: { address(): AddressInfo } }).server.address();
    self = new SmtpReceiver(server, port);
    return self;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- a small MIME reader: headers, multipart/alternative, quoted-printable and base64 ----

function splitHead(raw: string): { headers: Map<string, string>; body: string } {
  const i = raw.search(/\r?\n\r?\n/);
  const head = (i < 0 ? raw : raw.slice(0, i)).replace(/\r?\n[ \t]+/g, " ");
  const body = i < 0 ? "" : raw.slice(i).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    const c = line.indexOf(":");
    if (c > 0) headers.set(line.slice(0, c).trim().toLowerCase(), line.slice(c + 1).trim());
  }
  return { headers, body };
}

function decodeBody(body: string, encoding: string | undefined): string {
  const enc = (encoding ?? "7bit").toLowerCase();
  if (enc === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (enc === "quoted-printable") {
    const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=) in a header. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _cs: string, kind: string, text: string) =>
      kind.toUpperCase() === "B" ? Buffer.from(text, "base64").toString("utf8") : decodeBody(text.replace(/_/g, " "), "quoted-printable"),
    );
}

export function parseMime(raw: string): { subject: string; text: string; html: string } {
  const top = splitHead(raw);
  const subject = decodeWords(top.headers.get("subject") ?? "");
  const out = { subject, text: "", html: "" };
  const visit = (headers: Map<string, string>, body: string) => {
    const type = headers.get("content-type") ?? "text/plain";
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (/^multipart\//i.test(type) && boundary) {
      for (const part of body.split(`--${boundary}`).slice(1)) {
        if (part.startsWith("--")) break;
        const p = splitHead(part.replace(/^\r?\n/, ""));
        visit(p.headers, p.body);
      }
      return;
    }
    const decoded = decodeBody(body, headers.get("content-transfer-encoding"));
    if (/^text\/html/i.test(type)) out.html = decoded;
    else if (/^text\/plain/i.test(type)) out.text = decoded;
  };
  visit(top.headers, top.body);
  return out;
}
