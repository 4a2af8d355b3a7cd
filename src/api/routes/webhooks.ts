/**
 * POST /api/v1/webhooks/github: GitHub's push webhook. The body is read raw
 * (the signature covers its exact bytes), checked against
 * X-Hub-Signature-256 = "sha256=" + HMAC-SHA256(secret, body) in constant time
 * before anything else happens, then: `ping` is answered, a `push` to a
 * tracked branch asks the matching bundles to sync (the syncer does it in the
 * background, so GitHub gets its answer in milliseconds), other events are
 * acknowledged and ignored. A redelivery (same X-GitHub-Delivery) changes
 * nothing. No session or API token: GitHub authenticates with the signature.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { BundleSettings } from "../../bundles/checkout.js";
import { errors } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

/** The signature GitHub sends for `body` with `secret`. */
export function githubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Constant-time check of an X-Hub-Signature-256 header. */
export function verifyGithubSignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
  const want = Buffer.from(githubSignature(secret, body));
  const got = Buffer.from(header.toLowerCase());
  return got.length === want.length && timingSafeEqual(got, want);
}

/** "owner/name" of a repository URL (https, ssh "git@host:owner/name.git", file paths), lower case. */
export function repoKey(url: string): string {
  const path = url
    .trim()
    .replace(/\.git\/?$/, "")
    .replace(/^[a-z+]+:\/\/[^/]*\//i, "")
    .replace(/^[^@/]+@[^:/]+:/, "");
  return path.split("/").filter(Boolean).slice(-2).join("/").toLowerCase();
}

/** Bundles a push to `ref` of `repository` concerns. */
export function bundlesForPush(bundles: readonly BundleSettings[], ref: string, repository: { full_name?: string; clone_url?: string; ssh_url?: string }): BundleSettings[] {
  const keys = new Set([repository.full_name, repository.clone_url, repository.ssh_url].filter((x): x is string => !!x).map(repoKey));
  return bundles.filter((b) => keys.has(repoKey(b.repo)) && (ref === `refs/heads/${b.branch}` || ref === `refs/tags/${b.branch}`));
}

const WebhookAnswer = z.looseObject({
  ok: z.boolean(),
  event: z.string(),
  bundles: z.array(z.string()).optional().describe("Bundles whose sync was requested."),
  duplicate: z.boolean().optional(),
  ignored: z.string().optional(),
  zen: z.string().nullable().optional(),
});

/** How long a delivery id is remembered (GitHub's "redeliver" covers recent deliveries, days not months). */
const DELIVERY_MEMORY_MS = 30 * 24 * 3600_000;

const fail = (reply: FastifyReply, status: number, code: string, message: string) => reply.code(status).send({ error: { code, message } });

export function webhookRoutes(app: ApiApp, deps: ApiDeps): void {
  const { config, store, now } = deps;
  // Its own context: the raw body for this route only, with its own size limit.
  app.register(async (sub) => {
    sub.removeAllContentTypeParsers();
    sub.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: config.webhooks.github.maxBodyBytes }, (_req, body, done) => done(null, body));
    sub.post(
      "/webhooks/github",
      {
        schema: {
          tags: ["bundles"],
          summary: "GitHub webhook: a signed push to a tracked branch syncs its bundles (in the background); ping is answered, other events ignored",
          description:
            "Public (no session or token): the X-Hub-Signature-256 header, an HMAC-SHA256 of the raw body with webhooks.github.secret, is the authentication " +
            "(missing or wrong: 401, nothing changes). Headers X-GitHub-Event and X-GitHub-Delivery as GitHub sends them; a redelivery of the same " +
            "delivery id answers 200 with duplicate: true and does nothing. Body: GitHub's JSON payload (or the form with a payload field), at most " +
            "webhooks.github.maxBodyBytes (else 413). Answers 202 at once; the sync runs in the scheduler's bundle syncer.",
          response: {
            200: WebhookAnswer.describe("ping answered, or a redelivery (duplicate: true) that changed nothing."),
            202: WebhookAnswer.describe("A push: the bundles asked to sync (bundles), or why none was (ignored); another event: acknowledged and ignored."),
            ...errors(400, 413),
          },
        },
      },
      async (req, reply) => {
        const secret = config.webhooks.github.secret;
        if (!secret) return fail(reply, 401, "WEBHOOK_NOT_CONFIGURED", "This Sluice has no GitHub webhook secret: set webhooks.github.secret (SLUICE_WEBHOOKS__GITHUB__SECRET) to the secret of the GitHub webhook.");
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const sig = req.headers["x-hub-signature-256"];
        if (!verifyGithubSignature(secret, body, typeof sig === "string" ? sig : undefined)) {
          return fail(reply, 401, "BAD_SIGNATURE", `Missing or wrong X-Hub-Signature-256: the webhook's secret on GitHub must equal webhooks.github.secret.`);
        }
        const event = String(req.headers["x-github-event"] ?? "");
        const delivery = String(req.headers["x-github-delivery"] ?? "");
        if (!event || !delivery) return fail(reply, 400, "BAD_REQUEST", "X-GitHub-Event and X-GitHub-Delivery headers are required.");
        let payload: any;
        try {
          const text = body.toString("utf8");
          // GitHub sends JSON, or a form with a `payload` field when the webhook's content type is x-www-form-urlencoded.
          payload = /^application\/x-www-form-urlencoded/i.test(String(req.headers["content-type"] ?? "")) ? JSON.parse(new URLSearchParams(text).get("payload") ?? "") : JSON.parse(text);
        } catch {
          return fail(reply, 400, "BAD_REQUEST", "The body is not a GitHub webhook payload (JSON, or a form with a payload field).");
        }
        if (event === "ping") {
          await store.bundles.firstDelivery(delivery, event, "pong", now());
          return reply.code(200).send({ ok: true, event, zen: payload?.zen ?? null });
        }
        if (event !== "push") {
          await store.bundles.firstDelivery(delivery, event, "ignored", now());
          return reply.code(202).send({ ok: true, event, ignored: `Sluice acts on push events only; "${event}" is acknowledged and ignored.` });
        }
        const matched = bundlesForPush(config.bundles, String(payload?.ref ?? ""), payload?.repository ?? {});
        const outcome = matched.length ? `sync requested: ${matched.map((b) => b.name).join(", ")}` : "no bundle tracks this branch";
        if (!(await store.bundles.firstDelivery(delivery, event, outcome, now()))) {
          return reply.code(200).send({ ok: true, event, duplicate: true, bundles: [] });
        }
        const after = String(payload?.after ?? "").slice(0, 12);
        for (const b of matched) {
          await store.bundles.ensure([b]);
          await store.bundles.requestSync(b.name, `push ${after} by ${payload?.pusher?.name ?? "someone"} (GitHub delivery ${delivery})`, now());
        }
        // Deliveries are remembered for redeliveries (GitHub offers them for days); older ones are dropped here, cheaply.
        await store.bundles.pruneDeliveries(now() - DELIVERY_MEMORY_MS);
        return reply.code(202).send({ ok: true, event, bundles: matched.map((b) => b.name), ...(matched.length ? {} : { ignored: outcome }) });
      },
    );
  });
}
