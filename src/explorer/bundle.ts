/**
 * The page's script: the compiled page modules (build/explorer/*.js, CommonJS as tsc emits them)
 * and the pure modules of src/ they import (colour maps, display modes), wrapped into one script
 * with a small require. Library imports become the globals their own builds define (tf, Plotly),
 * so the browser loads tfjs and plotly from node_modules and nothing from a CDN.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fail } from '../common';

/** Package imports the page may use, and the global each one's browser build defines. */
export const PAGE_GLOBALS: Record<string, string> = {
  '@tensorflow/tfjs': 'tf',
  'plotly.js-dist-min': 'Plotly',
};

function resolveFile(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const cand of [base, `${base}.js`, path.join(base, 'index.js')]) {
    if (fs.existsSync(cand) && fs.statSync(cand).isFile()) return cand;
  }
  fail(
    'cnnviz explore',
    `the page module ${path.basename(from)} imports '${spec}', which is not built (run 'npm run build')`,
  );
}

/** One script holding `entry` (a compiled .js file) and every relative module it requires. */
export function bundlePage(entry: string): string {
  if (!fs.existsSync(entry)) fail('cnnviz explore', `the page is not built (${entry} is missing); run 'npm run build'`);
  const root = path.dirname(path.dirname(entry));
  const ids = new Map<string, number>();
  const parts: string[] = [];
  const visit = (file: string): number => {
    const known = ids.get(file);
    if (known !== undefined) return known;
    const id = ids.size;
    ids.set(file, id);
    const src = fs.readFileSync(file, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
    const map: Record<string, number | string> = {};
    for (const m of src.matchAll(/\brequire\("([^"]+)"\)/g)) {
      const spec = m[1];
      if (spec in map) continue;
      if (spec.startsWith('.')) map[spec] = visit(resolveFile(file, spec));
      else if (PAGE_GLOBALS[spec]) map[spec] = PAGE_GLOBALS[spec];
      else
        fail(
          'cnnviz explore',
          `the page module ${path.relative(root, file)} imports '${spec}', which the browser does ` +
            `not have; page code may import ${Object.keys(PAGE_GLOBALS).join(', ')} and relative modules`,
        );
    }
    parts[id] =
      `/* ${path.relative(root, file)} */ [${JSON.stringify(map)}, function (require, module, exports) {\n${src}\n}]`;
    return id;
  };
  visit(entry);
  return `(function () {
'use strict';
var modules = [
${parts.join(',\n')}
];
var cache = [];
function load(id) {
  if (cache[id]) return cache[id].exports;
  var module = (cache[id] = { exports: {} });
  var map = modules[id][0];
  modules[id][1](function (spec) {
    var to = map[spec];
    return typeof to === 'number' ? load(to) : window[to];
  }, module, module.exports);
  return module.exports;
}
load(0);
})();
`;
}
