/**
 * Builds the web UI into dist/ui, which the API server serves at "/"
 * (src/api/ui.ts). `npm run dev:ui` serves it with hot reload and forwards
 * /api to a running `sluice standalone` (SLUICE_UI_API, default :8080).
 */
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));
const api = process.env.SLUICE_UI_API ?? "http://127.0.0.1:8080";

export default defineConfig({
  root,
  base: "/",
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL("../dist/ui", import.meta.url)),
    emptyOutDir: true,
    // Hashed file names let the server cache assets for a year (src/api/ui.ts).
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 1600,
  },
  worker: { format: "es" },
  server: { proxy: { "/api": { target: api, changeOrigin: false } } },
});
