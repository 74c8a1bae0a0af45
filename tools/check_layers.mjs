#!/usr/bin/env node
// The layers of src/README.md as a check that `npm run lint` runs: every import inside src/ goes
// down the diagram (or sideways where the table below allows it), a widget names a technique's
// result types with `import type` only, and no two modules import each other in a ring.
// Also the page (explorer/*.ts): it may import from src/ only modules that need nothing but
// TensorFlow.js, because src/explorer/bundle.ts packs them into the browser's script.
//
// Usage: node tools/check_layers.mjs [--graph]   (exit 1 on a violation; --graph prints counts)
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ts = require('typescript');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'src');

// What each room may import at run time (type-only imports: see TYPE_ONLY). The diagram, bottom up.
const BELOW = {
  common: [],
  runtime: ['common'],
  data: ['runtime', 'common'],
  models: ['data', 'runtime', 'common'],
  techniques: ['models', 'data', 'runtime', 'common'],
  widgets: ['models', 'data', 'runtime', 'common'],
  check: ['techniques', 'widgets', 'models', 'data', 'runtime', 'common'],
  explorer: ['techniques', 'widgets', 'models', 'data', 'runtime', 'common'],
  lecture: ['techniques', 'widgets', 'models', 'data', 'runtime', 'common'],
  cli: ['check', 'explorer', 'techniques', 'widgets', 'models', 'data', 'runtime', 'common'],
  index: ['lecture', 'check', 'explorer', 'techniques', 'widgets', 'models', 'data', 'runtime', 'common'],
  entry: ['cli', 'common'],
};
// Rooms another room may name with `import type` only (no code crosses).
const TYPE_ONLY = { widgets: ['techniques'] };
// Inside techniques/, the same rule between its rooms: core is below the others, and the others
// are siblings that do not import each other.
const TECHNIQUE_BELOW = { core: [], attribution: ['core'], features: ['core'], embedding: ['core'] };

function roomOf(file) {
  const rel = path.relative(src, file).split(path.sep);
  if (rel.length === 1) return rel[0] === 'cli.ts' ? 'entry' : 'index';
  return rel[0];
}
function techRoom(file) {
  const rel = path.relative(path.join(src, 'techniques'), file).split(path.sep);
  return rel.length > 1 ? rel[0] : null;
}

function walk(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolve(from, spec) {
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [`${base}.ts`, path.join(base, 'index.ts'), base])
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  return null;
}

/** Relative imports of a file: [{ target, typeOnly, line }] (import, export from, import(), require()). */
function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const add = (spec, typeOnly, node) => {
    if (!spec.startsWith('.')) return;
    const target = resolve(file, spec);
    if (target) out.push({ spec, target, typeOnly, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const allTypes =
        !!c &&
        (c.isTypeOnly ||
          (!c.name &&
            c.namedBindings &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, allTypes, node);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const allTypes =
        node.isTypeOnly ||
        (!!node.exportClause &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier.text, allTypes, node);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require'))
        add(node.arguments[0].text, false, node);
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      add(node.argument.literal.text, true, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const rel = (f) => path.relative(root, f);
const problems = [];
const graph = new Map();
for (const file of walk(src)) {
  const from = roomOf(file);
  const edges = importsOf(file);
  graph.set(file, edges);
  for (const { spec, target, typeOnly, line } of edges) {
    if (!target.startsWith(src + path.sep)) {
      problems.push(`${rel(file)}:${line}: '${spec}' leaves src/`);
      continue;
    }
    const to = roomOf(target);
    if (from === to) {
      if (from !== 'techniques') continue;
      const a = techRoom(file),
        b = techRoom(target);
      if (a === b || a === null || b === null || TECHNIQUE_BELOW[a]?.includes(b)) continue;
      problems.push(
        `${rel(file)}:${line}: techniques/${a} imports techniques/${b} ('${spec}'); ${a} may import ` +
          `${['its own room', ...TECHNIQUE_BELOW[a].map((r) => `techniques/${r}`)].join(', ')}`,
      );
      continue;
    }
    if (BELOW[from].includes(to)) continue;
    if (typeOnly && (TYPE_ONLY[from] ?? []).includes(to)) continue;
    const how = (TYPE_ONLY[from] ?? []).includes(to) ? ' at run time (only `import type` may cross)' : '';
    problems.push(
      `${rel(file)}:${line}: ${from}/ imports ${to}/${how} ('${spec}'); ${from}/ may import ` +
        `${BELOW[from].map((r) => `${r}/`).join(', ') || 'nothing of cnnviz'}`,
    );
  }
}

// The page: src/ modules it pulls in (and theirs) may import only tfjs among packages.
const PAGE_PACKAGES = ['@tensorflow/tfjs'];
const pageDir = path.join(root, 'explorer');
function pageCheck(file, seen, via) {
  if (seen.has(file)) return;
  seen.add(file);
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  for (const st of sf.statements) {
    if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier) continue;
    if ((ts.isImportDeclaration(st) && st.importClause?.isTypeOnly) || (ts.isExportDeclaration(st) && st.isTypeOnly))
      continue;
    const spec = st.moduleSpecifier.text;
    if (spec.startsWith('.')) {
      const t = resolve(file, spec);
      if (t) pageCheck(t, seen, file.startsWith(pageDir) ? file : via);
    } else if (file.startsWith(src) && !PAGE_PACKAGES.includes(spec) && !spec.startsWith('plotly')) {
      problems.push(
        `${rel(file)}: imports '${spec}', yet the page (${rel(via)}) bundles it; page modules may ` +
          `import only ${PAGE_PACKAGES.join(', ')}`,
      );
    }
  }
}
if (fs.existsSync(pageDir)) {
  const seen = new Set();
  for (const f of walk(pageDir)) pageCheck(f, seen, f);
}

// Rings: strongly connected components of the whole import graph (type-only edges included: a type
// that two files need belongs in a third).
function rings() {
  let index = 0;
  const idx = new Map(),
    low = new Map(),
    on = new Set(),
    stack = [],
    out = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const { target: w } of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return out;
}
for (const comp of rings()) problems.push(`import ring of ${comp.length} files: ${comp.map(rel).sort().join(' <-> ')}`);

if (process.argv.includes('--graph')) {
  const n = [...graph.values()].reduce((s, e) => s + e.length, 0);
  console.log(`check_layers: ${graph.size} files, ${n} relative imports`);
}
if (problems.length) {
  console.error(`check_layers: ${problems.length} problem(s) with the layers of src/README.md:`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`check_layers: ${graph.size} files of src/ follow the layers of src/README.md, no import rings`);
