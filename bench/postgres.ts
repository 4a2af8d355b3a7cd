/**
 * The benchmarks' PostgreSQL: the same embedded server as the tests, but with
 * fsync ON by default, so commits cost what they would on a production server
 * (`--pg-no-fsync` turns it off to see how much of a number is commit latency).
 */
import { startEmbeddedPostgres, type EmbeddedPg } from "../test/helpers/embeddedPostgres.js";

export type BenchPostgres = EmbeddedPg;

export function startPostgres(opts: { fsync: boolean }): Promise<BenchPostgres> {
  return startEmbeddedPostgres({ fsync: opts.fsync, label: "bench" });
}
