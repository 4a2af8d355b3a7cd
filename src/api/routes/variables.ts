import { z } from "zod";
import { SecretBox } from "../../secrets/secretBox.js";
import { looksSecret, MASK } from "../../secrets/sensitive.js";
import type { VariableRow } from "../../store/variableQueries.js";
import { errors, iso, Page, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";
import { ADMIN_ONLY, Identifier, problem, SecretsKeyFailure } from "./adminCommon.js";

const Variable = z.object({
  key: z.string(),
  value: z.string().describe(`The value; "${MASK}" for a secret variable (its value is never sent back).`),
  isSecret: z.boolean().describe("Stored encrypted and never returned."),
  description: z.string().nullable(),
  updatedAt: Timestamp,
});

const KeyParams = z.object({ key: z.string().min(1).describe("Variable key.") });
const Value = z.string().max(1_000_000);
const Description = z.string().max(1000).nullable();

function variableJson(v: VariableRow): z.output<typeof Variable> {
  const isSecret = v.is_secret === 1;
  return { key: v.key, value: isSecret ? MASK : v.value, isSecret, description: v.description, updatedAt: iso(v.updated_at)! };
}

const noVariable = (key: string) => `No variable "${key}". GET /api/v1/variables lists them.`;

/**
 * Variables (admin only, reads included: values may be sensitive even when
 * not marked secret). Secret values are encrypted before they reach the
 * store and never decrypted here: the API cannot leak what it cannot read.
 */
export function variableRoutes(app: ApiApp, { store, config, now }: ApiDeps): void {
  const box = new SecretBox(config);
  const stored = async (value: string, secret: boolean) => (secret ? box.encrypt(value) : value);

  app.get(
    "/variables",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "List variables, sorted by key (admin)",
        querystring: z.object(Page),
        response: { 200: z.object({ variables: z.array(Variable), total: z.number(), limit: z.number(), offset: z.number() }), ...errors(400) },
      },
    },
    async (req) => {
      const { rows, total } = await store.variables.list(req.query);
      return { variables: rows.map(variableJson), total, limit: req.query.limit, offset: req.query.offset };
    },
  );

  app.get(
    "/variables/:key",
    { config: ADMIN_ONLY, schema: { tags: ["admin"], summary: "One variable (admin)", params: KeyParams, response: { 200: Variable, ...errors(404) } } },
    async (req) => {
      const v = await store.variables.get(req.params.key);
      if (!v) throw problem(404, "VARIABLE_NOT_FOUND", noVariable(req.params.key));
      return variableJson(v);
    },
  );

  app.post(
    "/variables",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Create a variable (admin)",
        body: z.strictObject({
          key: Identifier("variable key"),
          value: Value,
          description: Description.optional(),
          isSecret: z
            .boolean()
            .optional()
            .describe("Default: true when the key contains password, secret, token, api_key, private_key or credential (any case), as in Airflow."),
        }),
        response: { 201: Variable, ...errors(400, 409), ...SecretsKeyFailure },
      },
    },
    async (req, reply) => {
      const { key, value } = req.body;
      const isSecret = req.body.isSecret ?? looksSecret(key);
      const encoded: string = await stored(value, isSecret);
      const row: VariableRow = { key, value: encoded, is_secret: isSecret ? 1 : 0, description: req.body.description ?? null, updated_at: now() };
      if (!(await store.variables.create(row))) {
        throw problem(409, "VARIABLE_EXISTS", `Variable "${key}" already exists; PATCH /api/v1/variables/${key} changes it.`);
      }
      return reply.code(201).send(variableJson(row));
    },
  );

  app.patch(
    "/variables/:key",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Change a variable's value, description or secrecy (admin); omitted fields stay as they are",
        params: KeyParams,
        body: z.strictObject({ value: Value.optional(), description: Description.optional(), isSecret: z.boolean().optional() }),
        response: { 200: Variable, ...errors(400, 404), ...SecretsKeyFailure },
      },
    },
    async (req) => {
      const { key } = req.params;
      const old = await store.variables.get(key);
      if (!old) throw problem(404, "VARIABLE_NOT_FOUND", noVariable(key));
      const wasSecret = old.is_secret === 1;
      const isSecret = req.body.isSecret ?? wasSecret;
      if (req.body.value === undefined && wasSecret && !isSecret) {
        // Decrypting here would let anyone with a stolen admin session read every secret by flipping the flag.
        throw problem(
          400,
          "VALUE_REQUIRED",
          `Variable "${key}" is secret; to make it a plain variable, send its value too (the stored secret is never decrypted by the API).`,
        );
      }
      const value: string = req.body.value !== undefined ? await stored(req.body.value, isSecret) : wasSecret === isSecret ? old.value : await box.encrypt(old.value);
      const patch = { value, is_secret: isSecret ? 1 : 0, description: req.body.description === undefined ? old.description : req.body.description, updated_at: now() };
      if (!(await store.variables.update(key, patch))) throw problem(404, "VARIABLE_NOT_FOUND", noVariable(key));
      return variableJson({ ...old, ...patch });
    },
  );

  app.delete(
    "/variables/:key",
    { config: ADMIN_ONLY, schema: { tags: ["admin"], summary: "Delete a variable (admin)", params: KeyParams, response: { 204: z.null(), ...errors(404) } } },
    async (req, reply) => {
      if (!(await store.variables.delete(req.params.key))) throw problem(404, "VARIABLE_NOT_FOUND", noVariable(req.params.key));
      return reply.code(204).send(null);
    },
  );
}
