#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm start`/`npm test`, and by `prepare` on install).
import("../dist/src/cli/main.js").catch((err) => {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/src/cli/main.js")) {
    console.error("sluice: the compiled CLI is missing. Run `npm run build` in the sluice package first.");
    process.exit(1);
  }
  throw err;
});
