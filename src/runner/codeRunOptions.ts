import type { TaskDef } from "../sdk/dag.js";
import type { TaskContext } from "../sdk/context.js";
import type { TaskServices } from "./taskServices.js";

/** Everything the code of one attempt runs with (see runTaskCode). */
export interface CodeRunOptions {
  def: TaskDef;
  ctx: TaskContext<any>;
  /** Upstream results by task id (a mapped upstream's results as one array in map index order). */
  upstreamResults: Record<string, unknown>;
  /** A mapped instance: the element of the expanded list it runs for. */
  item?: { value: unknown };
  /** Connections, Spark application records, scratch space. */
  services: TaskServices;
  /** Directory of the DAG file (shell tasks run there by default). */
  dagDir: string;
  maxResultBytes: number;
  write: (stream: "stdout" | "stderr" | "log", text: string) => void;
  /** Told the process group of a shell command, so whoever kills this process can kill it too. */
  onSpawn?: (pgid: number) => void;
}
