import { z } from "zod";
import { iso, Timestamp } from "../schemas.js";
import type { ApiApp, ApiDeps } from "../types.js";

const ImportError = z.object({
  path: z.string().describe("DAG file, relative to the DAG folder."),
  message: z.string(),
  line: z.number().nullable(),
  column: z.number().nullable(),
  stack: z.string().nullable(),
  createdAt: Timestamp,
});

export function importErrorRoutes(app: ApiApp, { store }: ApiDeps): void {
  app.get(
    "/import-errors",
    {
      schema: {
        tags: ["dags"],
        summary: "DAG files that failed to import (other DAGs keep running)",
        response: { 200: z.object({ importErrors: z.array(ImportError) }) },
      },
    },
    async () => ({
      importErrors: (await store.dags.importErrors()).map((e) => ({
        path: e.path,
        message: e.message,
        line: e.line,
        column: e.col,
        stack: e.stack,
        createdAt: iso(e.created_at)!,
      })),
    }),
  );
}
