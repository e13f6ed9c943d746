import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import express, { Request, Response, Router } from "express";
import { log } from "../log";

/*
 * The dashboard (dashboard/, built by Vite into dashboard/dist): served at /dashboard as static files, all bundled, so
 * that it works on a closed network; GraphiQL, bundled beside it, at /explorer. `npm run build` builds it; `npm start`
 * builds it on first run when it is missing.
 */

const ROOT = path.join(__dirname, "..", "..");
export const DASHBOARD_DIR = path.join(ROOT, "dashboard", "dist");

const notBuilt = (_req: Request, res: Response) => void res.status(404).type("text/plain").send("The dashboard is not built: run npm run build.\n");

/**
 * /dashboard: the built page, or a 404 that says how to build it. /explorer: GraphiQL, bundled with it, when `explorer`
 * (EXPLORER; on outside production).
 */
export function dashboardRoutes(explorer: boolean): Router {
  const router = Router();
  router.use("/dashboard", express.static(DASHBOARD_DIR, { index: "index.html" }));
  router.get("/dashboard", notBuilt);
  router.get("/explorer", (req, res) => {
    if (!explorer) return void res.status(404).type("text/plain").send("The explorer is off in production: set EXPLORER=1 to serve it.\n");
    const page = path.join(DASHBOARD_DIR, "explorer.html");
    if (!fs.existsSync(page)) return notBuilt(req, res);
    res.sendFile(page);
  });
  return router;
}

/**
 * Builds the dashboard when it has not been (a fresh clone's first `npm start`): Vite is a development dependency,
 * so a production install builds it with `npm run build` instead. A failed build is logged; the API runs without it.
 */
export async function ensureDashboard(): Promise<void> {
  if (fs.existsSync(path.join(DASHBOARD_DIR, "index.html"))) return;
  const vite = path.join(ROOT, "node_modules", "vite", "bin", "vite.js");
  if (!fs.existsSync(vite)) return;
  const started = performance.now();
  try {
    await promisify(execFile)(process.execPath, [vite, "build", "--config", path.join(ROOT, "dashboard", "vite.config.mts")], { cwd: ROOT });
    log.info({ scope: "dashboard", durationMs: Math.round(performance.now() - started) }, "dashboard built");
  } catch (err) {
    log.warn({ scope: "dashboard", reason: String((err as { stderr?: string }).stderr ?? err).slice(0, 300) }, "dashboard not built: run npm run build");
  }
}
