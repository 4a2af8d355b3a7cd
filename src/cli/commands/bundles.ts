import type { Command } from "commander";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { suggestion } from "../../core/didYouMean.js";
import type { Store } from "../../store/store.js";
import { globals, withStore } from "../context.js";
import { iso, print, table } from "../format.js";

/**
 * Git bundles from the command line: what each one published, and a sync
 * request (the same as POST /api/v1/bundles/{name}/sync, for a CI job on a
 * machine that reaches the database). The scheduler's syncer does the sync;
 * --wait follows it to the end.
 */
export function registerBundles(program: Command): void {
  const bundles = program
    .command("bundles")
    .description("Git bundles: their published commits, and a sync now")
    .addHelpText("after", "\nExample:\n  $ sluice bundles sync pipelines --wait");

  bundles
    .command("list")
    .description("Each bundle's published commit, last sync and last error")
    .addHelpText("after", "\nExample:\n  $ sluice bundles list --json")
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const rows = await store.bundles.list();
        print(!!g.json, rows, () =>
          rows.length === 0
            ? "No bundles have synced yet (configure bundles[] and start the scheduler)."
            : table(
                rows.map((b) => ({
                  name: b.name,
                  branch: b.branch,
                  published: b.published_sha?.slice(0, 12) ?? "",
                  published_at: iso(b.published_at),
                  last_sync: iso(b.last_sync_at),
                  last_error: (b.last_error ?? "").split("\n")[0].slice(0, 100),
                })),
              ),
        );
      });
    });

  bundles
    .command("sync <name>")
    .description("Ask the scheduler to fetch and publish a bundle now; --wait until it has")
    .option("--wait", "wait for the sync to finish; exit 1 if it failed")
    .option("--timeout <seconds>", "with --wait: give up after this long", "300")
    .addHelpText("after", "\nExample:\n  $ sluice bundles sync pipelines --wait")
    .action(async (name: string, opts: { wait?: boolean; timeout: string }, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const asked = Date.now();
        if (!(await store.bundles.requestSync(name, "sluice bundles sync", asked))) await unknownBundle(store, name);
        if (!opts.wait) return print(!!g.json, { bundle: name, requested: true }, () => `Sync of ${name} requested; a running scheduler picks it up within a second.`);
        const row = await waitForSync(store, name, asked, Number(opts.timeout) * 1000);
        print(!!g.json, row, () => (row.last_error ? `Sync of ${name} ended with an error:\n${row.last_error}` : `${name} is at ${row.published_sha?.slice(0, 12) ?? "(nothing published)"}`));
        if (row.last_error) process.exitCode = 1;
      });
    });
}

async function unknownBundle(store: Store, name: string): Promise<never> {
  const names = (await store.bundles.list()).map((b) => b.name);
  throw new SluiceError(
    ErrorCode.BundleNotFound,
    `No bundle "${name}"${suggestion(name, names) || "."} ${names.length ? `Known: ${names.join(", ")}.` : "None has synced yet: configure bundles[] and start the scheduler."}`,
  );
}

async function waitForSync(store: Store, name: string, asked: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await store.bundles.get(name);
    if (row && row.last_sync_at !== null && row.last_sync_at >= asked && (row.sync_requested_at === null || row.sync_requested_at <= row.last_sync_at)) return row;
    if (Date.now() > deadline) {
      throw new SluiceError(ErrorCode.Usage, `The sync of ${name} did not finish within ${timeoutMs / 1000} s: is a scheduler running with this bundle in its config? (--timeout to wait longer)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
