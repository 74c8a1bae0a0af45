#!/usr/bin/env node
// Can a teacher type the lecture live? The three measures of issue #28 over notebooks/lecture15/*.ipynb, printed
// per notebook and for the whole lecture, and checked against their limits (exit 1 past one):
//   code lines per picture   non-blank, non-comment code lines / pictures (a picture is a `show.x(` call,
//                            show.progress and show.live excepted: they are displays a loop feeds), at most 3
//   longest code cell        at most 12 code lines
//   widest code line         at most 100 characters
// and no `any` in a lecture cell (tslab type-checks them: a cell with `any` teaches students to switch that off).
//
// Usage: node tools/notebook_metrics.mjs [--report] [notebook.ipynb ...]   (--report: print, never fail)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const LIMITS = { linesPerPicture: 3, cellLines: 12, lineWidth: 100 };
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const report = args.includes('--report');
const named = args.filter((a) => !a.startsWith('--'));
const dir = path.join(root, 'notebooks', 'lecture15');
const files = named.length
  ? named
  : fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.ipynb'))
      .sort()
      .map((f) => path.join(dir, f));

const PICTURE = /\bshow\.(?!progress\b|live\b)\w+\s*\(/g;
const ANY = /(:\s*any\b|\bas\s+any\b|<any>|\bany\[\]|Record<[^>]*\bany\b)/;

/** The cell's code lines: blank lines, // comment lines and the lines of a block comment left out. */
function codeLines(source) {
  const out = [];
  let inBlock = false;
  for (const line of source.split('\n')) {
    const t = line.trim();
    if (inBlock) {
      if (t.includes('*/')) inBlock = false;
      continue;
    }
    if (t.startsWith('/*')) {
      inBlock = !t.includes('*/');
      continue;
    }
    if (t === '' || t.startsWith('//')) continue;
    out.push(line);
  }
  return out;
}

const problems = [];
const rows = [];
let totalLines = 0;
let totalPictures = 0;
for (const file of files) {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  const name = path.basename(file, '.ipynb');
  let lines = 0;
  let pictures = 0;
  let longest = { n: 0, cell: -1 };
  let widest = { n: 0, cell: -1 };
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    const src = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
    const code = codeLines(src);
    lines += code.length;
    for (const l of code) pictures += (l.match(PICTURE) ?? []).length;
    if (code.length > longest.n) longest = { n: code.length, cell: i };
    for (const l of code) {
      if (l.length > widest.n) widest = { n: l.length, cell: i };
      if (l.length > LIMITS.lineWidth)
        problems.push(`${name} cell ${i}: a line of ${l.length} characters: ${l.trim().slice(0, 60)}...`);
      if (ANY.test(l)) problems.push(`${name} cell ${i}: 'any' in a lecture cell: ${l.trim()}`);
    }
    if (code.length > LIMITS.cellLines)
      problems.push(`${name} cell ${i}: ${code.length} code lines (at most ${LIMITS.cellLines})`);
  });
  totalLines += lines;
  totalPictures += pictures;
  rows.push([
    name,
    lines,
    pictures,
    pictures ? (lines / pictures).toFixed(1) : '-',
    `${longest.n} (cell ${longest.cell})`,
    `${widest.n} (cell ${widest.cell})`,
  ]);
}
const perPicture = totalPictures ? totalLines / totalPictures : Infinity;
rows.push([
  'lecture',
  totalLines,
  totalPictures,
  perPicture.toFixed(2),
  `limit ${LIMITS.cellLines}`,
  `limit ${LIMITS.lineWidth}`,
]);
const head = ['notebook', 'code lines', 'pictures', 'lines/picture', 'longest cell', 'widest line'];
const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => String(r[c]).length)));
const fmt = (r) => r.map((v, c) => String(v).padEnd(widths[c])).join('  ');
console.log(fmt(head));
for (const r of rows) console.log(fmt(r));
if (perPicture > LIMITS.linesPerPicture) {
  problems.push(`lecture: ${perPicture.toFixed(2)} code lines per picture (at most ${LIMITS.linesPerPicture})`);
}
if (problems.length) {
  console.log(`\n${problems.length} past the limits of a lecture typed live:`);
  for (const p of problems) console.log(`  ${p}`);
  if (!report) process.exit(1);
} else console.log('\nwithin the limits: at most 3 code lines a picture, 12 lines a cell, 100 characters a line');
