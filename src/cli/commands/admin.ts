import type { Command } from "commander";
import { describeConfig, maskSecrets, resolveDbUrl } from "../../config/config.js";
import { maskUrl, openDb } from "../../store/db.js";
import { migrate } from "../../store/migrate.js";
import { ErrorCode, SluiceError } from "../../core/errors.js";
import { globals, resolveConfig, withStore } from "../context.js";
import { print, table } from "../format.js";

/** `db migrate`, `config show`, `pools list|set`. */
export function registerAdmin(program: Command): void {
  program
    .command("db")
    .description("Metadata database")
    .command("migrate")
    .description("Apply pending schema migrations (safe to run from several processes at once)")
    .addHelpText("after", "\nExample:\n  $ SLUICE_DB_URL=postgres://sluice:secret@db:5432/sluice sluice db migrate")
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const config = await resolveConfig(g);
      const target = resolveDbUrl(config);
      const handle = openDb(target);
      try {
        const version = await migrate(handle.db, handle.dialect);
        const where = target.dialect === "sqlite" ? target.path : maskUrl(target.url);
        print(!!g.json, { database: where, ...version }, () => `Database ${where} is at schema version ${version.to}${version.applied.length ? ` (applied ${version.applied.join(", ")})` : " (nothing to do)"}`);
      } finally {
        await handle.destroy();
      }
    });

  program
    .command("config")
    .description("Configuration")
    .command("show")
    .description("Print the effective configuration (defaults < sluice.config.* < SLUICE_* env < flags), secrets masked")
    .addHelpText("after", "\nExample:\n  $ SLUICE_EXECUTOR__SLOTS=4 sluice config show")
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      const config = await resolveConfig(g);
      print(!!g.json, maskSecrets(config), () => table(describeConfig(config).map((r) => ({ key: r.key, value: r.value, default: r.default, doc: r.doc }))));
    });

  const pools = program.command("pools").description("Pools limit how many task slots a group of tasks may use at once");
  pools
    .command("list")
    .description("List pools")
    .addHelpText("after", "\nExample:\n  $ sluice pools list")
    .action(async (_o: unknown, cmd: Command) => {
      const g = globals(cmd);
      await withStore(g, async (store) => {
        const rows = await store.pools.list();
        print(!!g.json, rows, () => table(rows));
      });
    });
  pools
    .command("set <name> <slots>")
    .description("Create or resize a pool")
    .option("--description <text>")
    .addHelpText("after", "\nExample:\n  $ sluice pools set warehouse 4 --description 'connections to the warehouse'")
    .action(async (name: string, slots: string, opts: { description?: string }, cmd: Command) => {
      const g = globals(cmd);
      const n = Number(slots);
      if (!Number.isInteger(n) || n < 0) throw new SluiceError(ErrorCode.Usage, `slots must be a whole number >= 0, got "${slots}".`);
      await withStore(g, async (store) => {
        await store.pools.upsert(name, n, opts.description ?? null);
        print(!!g.json, { name, slots: n }, () => `Pool ${name}: ${n} slot(s)`);
      });
    });
}
