/*
 * npm run lint:deps: the folders of src/ depend on each other one way only, features -> the rollup engine ->
 * the event store -> db (docs/operating.md, "Layout"). Files directly in src/ are the composition root and small shared pieces;
 * they are not a folder here.
 *
 * The layer rules are below. No cycle between the top-level folders (type-only imports aside) is checked by
 * lint-deps.mjs on this cruise's JSON: dependency-cruiser's own folder scope treats every subfolder as a folder of
 * its own (src/reports/sales apart from src/reports), so it misses a cycle that enters a folder through a subfolder.
 */
const FEATURES = "(appspaces|ingest|identity|catalog|reports|attribution|retention|ops|limits|bench)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "rollup-engine-knows-no-feature",
      comment: "src/rollups is the engine the read models plug into (day-rollup.ts); it is handed them, it imports none.",
      severity: "error",
      from: { path: "^src/rollups/" },
      to: { path: `^src/${FEATURES}/` },
    },
    {
      name: "event-store-knows-no-feature",
      comment: "src/events (entities, event SQL, the event store) sits under the features and the rollup engine.",
      severity: "error",
      from: { path: "^src/events/" },
      to: { path: `^src/(${FEATURES.slice(1, -1)}|rollups)/` },
    },
    {
      name: "db-knows-no-folder",
      comment: "src/db is the base: SQL helpers, the dialect, transactions, migrations. It imports no other folder.",
      severity: "error",
      from: { path: "^src/db/" },
      to: { path: "^src/[^/]+/", pathNot: "^src/db/" },
    },
    {
      name: "no-unresolvable-import",
      comment: "An import the cruise cannot resolve is an import no rule sees.",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type imports count too: a folder that names another's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
  },
};
