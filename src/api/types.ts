import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { SluiceConfig } from "../config/config.js";
import type { Store } from "../store/store.js";

/** What every route module receives: handed down by createApiServer, never imported globally. */
export interface ApiDeps {
  store: Store;
  config: SluiceConfig;
  /** Called after a write the scheduler should react to (trigger, pause, clear, mark). */
  onChange: () => void;
  /** Injectable clock (tests). */
  now: () => number;
}

/** A fastify instance whose routes are typed from their zod schemas. */
export type ApiApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;
