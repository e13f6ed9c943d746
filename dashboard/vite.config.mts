import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The dashboard, built into dashboard/dist and served by the server at /dashboard (no CDN: everything is bundled).
const here = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: here,
  base: "/dashboard/",
  // Two pages: the dashboard (index.html) and GraphiQL (explorer.html, served at /explorer), each its own bundle.
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: { input: { dashboard: path.join(here, "index.html"), explorer: path.join(here, "explorer.html") } },
  },
  logLevel: "warn",
});
