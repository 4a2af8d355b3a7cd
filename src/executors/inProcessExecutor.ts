import type { CodeLocations } from "../bundles/codePath.js";
import type { Logger } from "pino";
import { loadDagFile } from "../parser/loadDagFile.js";
import { executeAttempt } from "../runner/executeAttempt.js";
import type { SecretsConfig } from "../secrets/secretBox.js";
import type { Store } from "../store/store.js";
import type { TaskInstanceRow } from "../store/taskQueries.js";
import type { Executor, FinishedListener, LaunchRequest } from "./executor.js";

/**
 * Runs attempts inside the calling process. Only for `sluice dags test`: no
 * isolation (a task calling process.exit ends the test), but breakpoints and
 * stack traces work, and there is no process start-up at all.
 */
export class InProcessExecutor implements Executor {
  readonly name = "in-process";
  private running = new Set<number>();
  private all: Promise<unknown>[] = [];

  constructor(
    private readonly o: { store: Store; dagsFolder: string; bundles?: CodeLocations["bundles"]; slots: number; maxResultBytes: number; log: Logger; onFinished: FinishedListener; secrets?: SecretsConfig },
  ) {}

  async start(): Promise<void> {}

  freeSlots(): number {
    return Math.max(0, this.o.slots - this.running.size);
  }

  launch(req: LaunchRequest): void {
    this.running.add(req.tiId);
    const p = executeAttempt(
      { store: this.o.store, dagsFolder: this.o.dagsFolder, bundles: this.o.bundles, maxResultBytes: this.o.maxResultBytes, heartbeatIntervalMs: 5_000, secrets: this.o.secrets, loadDag: (path) => loadDagFile(path) },
      req.tiId,
      req.tryNumber,
    )
      .then(
        (r) => r.state,
        (err) => {
          this.o.log.error({ err, tiId: req.tiId }, "in-process attempt failed to record");
          return undefined;
        },
      )
      .then((state) => {
        this.running.delete(req.tiId);
        this.o.onFinished(req.tiId, req.runPk, req.taskId, state);
      });
    this.all.push(p);
  }

  cancel(): void {}

  runningIds(): number[] {
    return [...this.running];
  }

  async adopt(rows: TaskInstanceRow[]): Promise<TaskInstanceRow[]> {
    return rows;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.all);
  }
}
