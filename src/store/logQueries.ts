import type { Kysely, Selectable } from "kysely";
import type { Database, TaskLogTable } from "./schema.js";

export type TaskLogRow = Selectable<TaskLogTable>;
export interface NewLogLine {
  ti_id: number;
  try_number: number;
  ts: number;
  stream: string;
  line: string;
}

/**
 * Task log lines, stored per try in the metadata database so they survive the
 * process (or, later, the pod) that wrote them and can be paged by id.
 */
export class LogQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async append(lines: readonly NewLogLine[]): Promise<void> {
    for (let i = 0; i < lines.length; i += 200) {
      await this.db.insertInto("task_log").values(lines.slice(i, i + 200)).execute();
    }
  }

  /** Lines of one try after line id `afterId`, oldest first. */
  async read(tiId: number, tryNumber: number, opts: { afterId?: number; limit?: number } = {}): Promise<TaskLogRow[]> {
    return this.db
      .selectFrom("task_log")
      .selectAll()
      .where("ti_id", "=", tiId)
      .where("try_number", "=", tryNumber)
      .where("id", ">", opts.afterId ?? 0)
      .orderBy("id")
      .limit(opts.limit ?? 10_000)
      .execute();
  }
}
