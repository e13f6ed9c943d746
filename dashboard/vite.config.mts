import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The dashboard, built into dashboard/dist and served by the server at /dashboard (no CDN: everything is bundled).
export default defineConfig({
  root: path.dirname(fileURLToPath(import.meta.url)),
  base: "/dashboard/",
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 300 },
  logLevel: "warn",
});
