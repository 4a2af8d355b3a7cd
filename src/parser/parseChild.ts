/**
 * Child process that imports DAG files for the parser pool. One request at a
 * time over IPC; the parent kills and replaces it if a file hangs.
 */
import { installDagLoader, parseDagFile } from "./loadDagFile.js";
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
// Start the TypeScript loader and load the SDK before reporting ready, so that
// parsing.timeoutMs measures the DAG file, not this process's own start-up
// (measured: first parse in a fresh process 80-240 ms before, ~16 ms after).
installDagLoader();
await import("../index.js");
process.send?.({ ready: true });
