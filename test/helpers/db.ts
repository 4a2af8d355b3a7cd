import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { DbTarget } from "../../src/store/db.js";
import { openStore, type Store } from "../../src/store/store.js";

export const DIALECTS = ["sqlite", "postgres"] as const;
export type TestDialect = (typeof DIALECTS)[number];

let counter = 0;

/** The admin URL of the PostgreSQL that scripts/test.mjs started. */
export function pgAdminUrl(): string {
  const url = process.env.SLUICE_TEST_PG_URL;
  if (!url) throw new Error("SLUICE_TEST_PG_URL is not set: run tests through `npm test` or `node scripts/test.mjs dist/test/<file>.test.js`, which start PostgreSQL.");
  return url;
}

/** A fresh, empty database: a new SQLite file, or a new PostgreSQL database on the shared test server. */
export async function freshTarget(dialect: TestDialect, label = "t"): Promise<DbTarget> {
  const name = `${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${process.pid}_${++counter}_${Date.now() % 100000}`;
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "sluice-test-"));
    return { dialect: "sqlite", path: join(dir, `${name}.db`) };
  }
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return { dialect: "postgres", url: url.toString() };
}

/** A migrated store on a fresh database. */
export async function freshStore(dialect: TestDialect, label?: string): Promise<Store> {
  const store = await openStore(await freshTarget(dialect, label), { migrate: true });
  await store.pools.ensureDefault(128);
  return store;
}

/** The URL form of a target, for SLUICE_DB_URL. */
export function targetUrl(t: DbTarget): string {
  return t.dialect === "sqlite" ? t.path : t.url;
}
