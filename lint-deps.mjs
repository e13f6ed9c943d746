// npm run lint:deps: the folder rules of src/ (docs/operating.md, "Layout").
//
//   depcruise src --config .dependency-cruiser.cjs --output-type json | node lint-deps.mjs
//
// Reads the cruise (dependency-cruiser's JSON output) from stdin and prints
// 1. the violations of the rules in .dependency-cruiser.cjs (dependency-cruiser
//    found them; this only groups them by rule);
// 2. the violations of no-folder-cycle: no two folders of src/ import each
//    other, and no cycle runs between folders. A folder is the first path
//    segment under src/; files directly in src/ belong to none. Type-only
//    imports (`import type`, `export type`, `import("...").T`) are exempt, and
//    so are the imports a named exception (a "db-exception-*" rule of
//    .dependency-cruiser.cjs) allows.
// Exits 1 when either found an error.

const RULE = "no-folder-cycle";
const MESSAGE =
  "Folders of src/ must not import each other, directly or around a cycle: one of the two has to sit below " +
  "the other. Move the shared piece down (into the lower folder or a file directly in src/), or pass it in " +
  "from the composition root. Type-only imports are exempt.";
const EXCEPTION_PREFIX = "db-exception-";
const TYPE_ONLY = new Set(["type-only", "type-import"]);

const folderOf = (path) => /^src\/([^/]+)\//.exec(path)?.[1];

async function readStdin() {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

// The imports a named exception allows: from its from.path to the part of
// its to.path that its to.pathNot names.
function exceptionsOf(ruleSet) {
  return (ruleSet?.forbidden ?? [])
    .filter((rule) => rule.name?.startsWith(EXCEPTION_PREFIX))
    .map((rule) => ({
      name: rule.name,
      allows: (from, to) =>
        new RegExp(rule.from.path).test(from) &&
        new RegExp(rule.to.path).test(to) &&
        new RegExp(rule.to.pathNot).test(to),
    }));
}

// The import graph between folders: edges[a][b] = the imports from a to b.
function folderGraph(result) {
  const exceptions = exceptionsOf(result.summary.ruleSetUsed);
  const edges = new Map();
  const exempt = { typeOnly: 0 };
  for (const module of result.modules) {
    const a = folderOf(module.source);
    if (!a) continue;
    for (const dependency of module.dependencies) {
      const b = folderOf(dependency.resolved);
      if (!b || a === b) continue;
      if (dependency.dependencyTypes.some((type) => TYPE_ONLY.has(type))) {
        exempt.typeOnly += 1;
        continue;
      }
      const exception = exceptions.find((e) => e.allows(module.source, dependency.resolved));
      if (exception) {
        exempt[exception.name] = (exempt[exception.name] ?? 0) + 1;
        continue;
      }
      if (!edges.has(a)) edges.set(a, new Map());
      const imports = edges.get(a).get(b) ?? [];
      imports.push(`${module.source} → ${dependency.resolved}`);
      edges.get(a).set(b, imports);
    }
  }
  return { edges, exempt };
}

// Tarjan's strongly connected components; each one with more than one folder
// holds cycles, and every edge inside it lies on one.
function components(edges) {
  const nodes = [...new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])])].sort();
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return found;
}

// A shortest path from one folder to another, inside one component.
function shortestPath(edges, from, to, inside) {
  const previous = new Map([[from, null]]);
  const queue = [from];
  while (queue.length > 0) {
    const v = queue.shift();
    if (v === to) break;
    for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
      if (inside.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  const path = [];
  for (let v = to; v !== null; v = previous.get(v)) path.unshift(v);
  return path;
}

// One violation per pair of folders on a cycle: the pairs that import each
// other first, then the one-way imports that close a longer cycle.
function folderCycles(result) {
  const { edges, exempt } = folderGraph(result);
  const imports = (a, b) => edges.get(a)?.get(b);
  const found = components(edges);
  const pairs = [];
  for (const component of found) {
    const inside = new Set(component);
    for (const [i, a] of component.entries()) {
      for (const b of component.slice(i + 1)) {
        const ab = imports(a, b);
        const ba = imports(b, a);
        if (!ab && !ba) continue;
        let title;
        if (ab && ba) {
          title = `${a} ⇄ ${b}: ${a} and ${b} import each other`;
        } else {
          const [x, y] = ab ? [a, b] : [b, a];
          title = `${x} → ${y}: closes the cycle ${[x, ...shortestPath(edges, y, x, inside)].join(" → ")}`;
        }
        const lines = [`  error ${RULE}: ${title}`];
        for (const [x, y, list] of [[a, b, ab], [b, a, ba]]) {
          if (!list) continue;
          lines.push(`      ${x} → ${y} (${list.length} import${list.length === 1 ? "" : "s"}):`);
          for (const line of list.sort()) lines.push(`        ${line}`);
        }
        pairs.push({ both: Boolean(ab && ba), lines });
      }
    }
  }
  pairs.sort((p, q) => Number(q.both) - Number(p.both));
  const exemptions = Object.entries(exempt).map(([name, n]) => `${n} ${name === "typeOnly" ? "type-only" : name}`);
  const exempted = `Exempt imports between folders: ${exemptions.join(", ")}.`;
  if (pairs.length === 0) return { errors: 0, output: `✔ no cycle between the folders of src/. ${exempted}\n` };
  return {
    errors: pairs.length,
    output:
      `  ${MESSAGE}\n\n` +
      pairs.map((pair) => pair.lines.join("\n") + "\n").join("\n") +
      `\nx ${pairs.length} pair${pairs.length === 1 ? "" : "s"} of folders on a cycle, among ${found.map((c) => c.join(", ")).join("; ")}. ${exempted}\n`,
  };
}

// The violations of the rules in .dependency-cruiser.cjs, grouped by rule,
// each rule's comment once.
function ruleViolations(result) {
  const rules = result.summary.ruleSetUsed?.forbidden ?? [];
  const byRule = new Map(rules.map((rule) => [rule.name, []]));
  for (const violation of result.summary.violations) {
    if (violation.rule.severity === "ignore") continue;
    if (!byRule.has(violation.rule.name)) byRule.set(violation.rule.name, []);
    byRule.get(violation.rule.name).push(violation);
  }
  const lines = [];
  let errors = 0;
  for (const [name, violations] of byRule) {
    if (violations.length === 0) continue;
    const { severity } = violations[0].rule;
    if (severity === "error") errors += violations.length;
    const comment = rules.find((rule) => rule.name === name)?.comment ?? "";
    lines.push(`  ${severity} ${name} (${violations.length}): ${comment}`);
    const shown = violations.map((v) => `${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(" → ")})` : ""}`);
    for (const line of [...new Set(shown)].sort()) lines.push(`      ${line}`);
    lines.push("");
  }
  const { totalCruised, totalDependenciesCruised } = result.summary;
  const cruised = `${totalCruised} modules, ${totalDependenciesCruised} dependencies cruised`;
  if (lines.length === 0) return { errors, output: `✔ no layer rule broken (${cruised}).\n` };
  return { errors, output: `${lines.join("\n")}\nx ${result.summary.violations.length} imports break a layer rule (${cruised}).\n` };
}

const text = await readStdin();
let result;
try {
  result = JSON.parse(text);
} catch {
  console.error("lint-deps.mjs: expected dependency-cruiser's JSON output on stdin (depcruise --output-type json)");
  process.exit(2);
}
const layers = ruleViolations(result);
const cycles = folderCycles(result);
process.stdout.write(`== layer rules (.dependency-cruiser.cjs)\n${layers.output}\n== ${RULE} (lint-deps.mjs)\n${cycles.output}`);
process.exit(layers.errors > 0 || cycles.errors > 0 ? 1 : 0);
