/**
 * Child process that imports DAG files for the parser pool. One request at a
 * time over IPC; the parent kills and replaces it if a file hangs.
 */
import { parseDagFile } from "./loadDagFile.js";
import type { ParseRequest, ParseResponse } from "./parserPool.js";

process.on("message", (msg: ParseRequest) => {
  void parseDagFile(msg.absPath, msg.dagsFolder, msg.version).then((result) => {
    const res: ParseResponse = { id: msg.id, result };
    process.send?.(res);
  });
});
process.on("disconnect", () => process.exit(0));
// A DAG file that leaves a rejected promise behind must not kill the parser.
process.on("unhandledRejection", () => {});
process.send?.({ ready: true });
