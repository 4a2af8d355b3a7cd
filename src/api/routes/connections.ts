import { z } from "zod";
import { SecretBox } from "../../secrets/secretBox.js";
import { containsMask, MASK, maskSecretFields, restoreMasked } from "../../secrets/sensitive.js";
import type { ConnectionRow } from "../../store/connectionQueries.js";
import { errors, iso, Page, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";
import { ADMIN_ONLY, Identifier, problem, SecretsKeyFailure } from "./adminCommon.js";

const Connection = z.object({
  connId: z.string(),
  connType: z.string(),
  host: z.string().nullable(),
  port: z.number().nullable(),
  login: z.string().nullable(),
  hasPassword: z.boolean().describe("Whether a password is stored; the password itself is write-only."),
  schema: z.string().nullable(),
  extra: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe(`Extra settings; values under secret-looking keys (password, token, api_key, …) are "${MASK}".`),
  description: z.string().nullable(),
  updatedAt: Timestamp,
});

const ConnParams = z.object({ connId: z.string().min(1).describe("Connection id.") });
const Text = z.string().max(1000);
const Fields = z.object({
  connType: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[A-Za-z0-9_.-]+$/, "a connection type uses letters, digits or _ . -")
    .describe('Kind of system, e.g. "postgres", "spark", "s3", "http", "slack".'),
  host: Text.nullable(),
  port: z.int().min(1).max(65535).nullable(),
  login: Text.nullable(),
  password: z.string().max(10_000).nullable().describe("Write-only: stored encrypted, never returned."),
  schema: Text.nullable().describe("Database schema / default namespace."),
  extra: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe(`JSON object of extra settings, stored encrypted. On PATCH, a "${MASK}" under a secret-looking key keeps the stored value, so a masked object read from the API can be edited and sent back.`),
  description: z.string().max(1000).nullable(),
});
/** Fields a request may leave out: on PATCH all (they stay as they are), on POST all but connType (they are stored as null). */
const OptionalFields = Fields.partial().shape;

const noConnection = (connId: string) => `No connection "${connId}". GET /api/v1/connections lists them.`;

/**
 * Connections (admin only). The password and the extra object are encrypted
 * before they reach the store; the password is never decrypted by the API,
 * the extra only to mask its secret-looking values.
 */
export function connectionRoutes(app: ApiApp, { store, config, now }: ApiDeps): void {
  const box = new SecretBox(config);

  const readExtra = async (c: ConnectionRow): Promise<Record<string, unknown> | null> =>
    c.extra === null ? null : (JSON.parse(await box.decrypt(c.extra, `the extra of connection "${c.conn_id}"`)) as Record<string, unknown>);

  /** The API form; `extra` is the decrypted object (masked here). */
  const connectionJson = (c: ConnectionRow, extra: Record<string, unknown> | null): z.output<typeof Connection> => ({
    connId: c.conn_id,
    connType: c.conn_type,
    host: c.host,
    port: c.port,
    login: c.login,
    hasPassword: c.password !== null,
    schema: c.schema_name,
    extra: maskSecretFields(extra) as Record<string, unknown> | null,
    description: c.description,
    updatedAt: iso(c.updated_at)!,
  });
  const readConnection = async (c: ConnectionRow) => connectionJson(c, await readExtra(c));

  const encryptOrNull = async (text: string | null) => (text === null ? null : box.encrypt(text));

  app.get(
    "/connections",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "List connections, sorted by id (admin); passwords are never returned",
        querystring: z.object(Page),
        response: {
          200: z.object({ connections: z.array(Connection), total: z.number(), limit: z.number(), offset: z.number() }),
          ...errors(400),
          ...SecretsKeyFailure,
        },
      },
    },
    async (req) => {
      const { rows, total } = await store.connections.list(req.query);
      return { connections: await Promise.all(rows.map(readConnection)), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    "/connections/:connId",
    {
      config: ADMIN_ONLY,
      schema: { tags: ["admin"], summary: "One connection (admin)", params: ConnParams, response: { 200: Connection, ...errors(404), ...SecretsKeyFailure } },
    },
    async (req) => {
      const c = await store.connections.get(req.params.connId);
      if (!c) throw problem(404, "CONNECTION_NOT_FOUND", noConnection(req.params.connId));
      return await readConnection(c);
    },
  );

  app.post(
    "/connections",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Create a connection (admin)",
        body: z.strictObject({ connId: Identifier("connection id"), ...OptionalFields, connType: Fields.shape.connType }),
        response: { 201: Connection, ...errors(400, 409), ...SecretsKeyFailure },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const row: ConnectionRow = {
        conn_id: b.connId,
        conn_type: b.connType,
        host: b.host ?? null,
        port: b.port ?? null,
        login: b.login ?? null,
        password: await encryptOrNull(b.password ?? null),
        schema_name: b.schema ?? null,
        extra: await encryptOrNull(b.extra == null ? null : JSON.stringify(b.extra)),
        description: b.description ?? null,
        updated_at: now(),
      };
      if (!(await store.connections.create(row))) {
        throw problem(409, "CONNECTION_EXISTS", `Connection "${b.connId}" already exists; PATCH /api/v1/connections/${b.connId} changes it.`);
      }
      return reply.code(201).send(connectionJson(row, b.extra ?? null));
    },
  );

  app.patch(
    "/connections/:connId",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Change a connection (admin): omitted fields stay as they are, null clears one (password: null removes the password)",
        params: ConnParams,
        body: z.strictObject(OptionalFields),
        response: { 200: Connection, ...errors(400, 404), ...SecretsKeyFailure },
      },
    },
    async (req) => {
      const { connId } = req.params;
      const b = req.body;
      const old = await store.connections.get(connId);
      if (!old) throw problem(404, "CONNECTION_NOT_FOUND", noConnection(connId));
      const patch: Partial<ConnectionRow> = { updated_at: now() };
      if (b.connType !== undefined) patch.conn_type = b.connType;
      if (b.host !== undefined) patch.host = b.host;
      if (b.port !== undefined) patch.port = b.port;
      if (b.login !== undefined) patch.login = b.login;
      if (b.schema !== undefined) patch.schema_name = b.schema;
      if (b.description !== undefined) patch.description = b.description;
      if (b.password !== undefined) patch.password = await encryptOrNull(b.password);
      // Decrypt the stored extra only when needed: for the answer, or for a mask sent back. A full
      // replacement works even when the old key is lost (that is how an admin recovers from it).
      let extra: Record<string, unknown> | null;
      if (b.extra === undefined) extra = await readExtra(old);
      else {
        extra = b.extra !== null && containsMask(b.extra) ? (restoreMasked(b.extra, await readExtra(old)) as Record<string, unknown>) : b.extra;
        patch.extra = await encryptOrNull(extra === null ? null : JSON.stringify(extra));
      }
      if (!(await store.connections.update(connId, patch))) throw problem(404, "CONNECTION_NOT_FOUND", noConnection(connId));
      return connectionJson({ ...old, ...patch }, extra);
    },
  );

  app.delete(
    "/connections/:connId",
    { config: ADMIN_ONLY, schema: { tags: ["admin"], summary: "Delete a connection (admin)", params: ConnParams, response: { 204: z.null(), ...errors(404) } } },
    async (req, reply) => {
      if (!(await store.connections.delete(req.params.connId))) throw problem(404, "CONNECTION_NOT_FOUND", noConnection(req.params.connId));
      return reply.code(204).send(null);
    },
  );
}
