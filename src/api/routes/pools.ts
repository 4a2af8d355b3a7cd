import { z } from "zod";
import { DEFAULT_POOL, type PoolRow, type PoolUsage } from "../../store/poolQueries.js";
import { errors } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";
import { ADMIN_ONLY, Identifier, problem } from "./adminCommon.js";

const Pool = z.object({
  name: z.string(),
  slots: z.number().describe("Task slots the pool's tasks may hold at once."),
  description: z.string().nullable(),
  occupiedSlots: z.number().describe("Slots held now (queued + running)."),
  runningSlots: z.number(),
  queuedSlots: z.number(),
  scheduledSlots: z.number().describe("Slots asked for by scheduled instances waiting for room."),
  openSlots: z.number().describe("slots − occupied (negative after the pool was shrunk below its use)."),
  isDefault: z.boolean().describe(`True for "${DEFAULT_POOL}", which tasks use unless they name a pool; it cannot be deleted.`),
});

const PoolParams = z.object({ name: z.string().min(1).describe("Pool name.") });
const Slots = z.int().min(0).max(1_000_000).describe("Task slots (0 pauses the pool's tasks).");
const Description = z.string().max(1000).nullable();

const NONE: PoolUsage = { scheduled: 0, queued: 0, running: 0 };

function poolJson(p: PoolRow, u: PoolUsage = NONE): z.output<typeof Pool> {
  const occupied = u.queued + u.running;
  return {
    name: p.name,
    slots: p.slots,
    description: p.description,
    occupiedSlots: occupied,
    runningSlots: u.running,
    queuedSlots: u.queued,
    scheduledSlots: u.scheduled,
    openSlots: p.slots - occupied,
    isDefault: p.name === DEFAULT_POOL,
  };
}

const noPool = (name: string) => `No pool "${name}". GET /api/v1/pools lists them.`;

/** Pools: reads for every signed-in user, writes for admins. */
export function poolRoutes(app: ApiApp, { store, onChange }: ApiDeps): void {
  app.get(
    "/pools",
    {
      schema: {
        tags: ["admin"],
        summary: "List pools with their slots and use (sorted by name)",
        response: { 200: z.object({ pools: z.array(Pool), total: z.number() }) },
      },
    },
    async () => {
      const [rows, usage] = await Promise.all([store.pools.list(), store.pools.usage()]);
      return { pools: rows.map((p) => poolJson(p, usage.get(p.name))), total: rows.length };
    },
  );

  app.get(
    "/pools/:name",
    { schema: { tags: ["admin"], summary: "One pool with its use", params: PoolParams, response: { 200: Pool, ...errors(404) } } },
    async (req) => {
      const p = await store.pools.get(req.params.name);
      if (!p) throw problem(404, "POOL_NOT_FOUND", noPool(req.params.name));
      return poolJson(p, (await store.pools.usage(p.name)).get(p.name));
    },
  );

  app.post(
    "/pools",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Create a pool (admin)",
        body: z.strictObject({ name: Identifier("pool name"), slots: Slots, description: Description.optional() }),
        response: { 201: Pool, ...errors(400, 409) },
      },
    },
    async (req, reply) => {
      const row = { name: req.body.name, slots: req.body.slots, description: req.body.description ?? null };
      if (!(await store.pools.create(row))) {
        throw problem(409, "POOL_EXISTS", `Pool "${row.name}" already exists; PATCH /api/v1/pools/${row.name} changes it.`);
      }
      // Tasks waiting for a pool that did not exist yet may now be dispatched.
      onChange();
      return reply.code(201).send(poolJson(row));
    },
  );

  app.patch(
    "/pools/:name",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: "Resize a pool or change its description (admin); omitted fields stay as they are",
        params: PoolParams,
        body: z.strictObject({ slots: Slots.optional(), description: Description.optional() }),
        response: { 200: Pool, ...errors(400, 404) },
      },
    },
    async (req) => {
      const { name } = req.params;
      if (!(await store.pools.update(name, req.body))) throw problem(404, "POOL_NOT_FOUND", noPool(name));
      // More slots may let waiting tasks start now.
      onChange();
      const p = (await store.pools.get(name))!;
      return poolJson(p, (await store.pools.usage(name)).get(name));
    },
  );

  app.delete(
    "/pools/:name",
    {
      config: ADMIN_ONLY,
      schema: {
        tags: ["admin"],
        summary: `Delete a pool (admin); refused for "${DEFAULT_POOL}" and for a pool with scheduled, queued or running tasks`,
        params: PoolParams,
        response: { 204: z.null(), ...errors(404, 409) },
      },
    },
    async (req, reply) => {
      const { name } = req.params;
      if (name === DEFAULT_POOL) {
        throw problem(409, "POOL_IS_DEFAULT", `"${DEFAULT_POOL}" is where tasks without a pool run; it cannot be deleted (PATCH it to resize it).`);
      }
      // One transaction (an advisory lock on PostgreSQL) so the check and the delete see the same tasks.
      const outcome = await store.exclusive("pools", async (tx) => {
        if (!(await tx.pools.get(name))) return "missing" as const;
        const u = (await tx.pools.usage(name)).get(name) ?? NONE;
        if (u.scheduled + u.queued + u.running > 0) return u;
        await tx.pools.delete(name);
        return "deleted" as const;
      });
      if (outcome === "missing") throw problem(404, "POOL_NOT_FOUND", noPool(name));
      if (outcome !== "deleted") {
        throw problem(
          409,
          "POOL_IN_USE",
          `Pool "${name}" is in use (slots: ${outcome.running} running, ${outcome.queued} queued, ${outcome.scheduled} scheduled); ` +
            "its tasks would fail without it. Wait for them to finish, or mark them done, then delete it.",
        );
      }
      return reply.code(204).send(null);
    },
  );
}
