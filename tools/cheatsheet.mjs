#!/usr/bin/env node
// docs/live-coding.md, the one-page cheat sheet of issue #28, built from a real run of the lecture: the cells of the
// executed notebooks that a teacher types in one to three lines and that draw a picture, each with the picture it
// gave (scaled to 360 px wide into docs/live-coding/). Nothing here is written by hand but the header.
//
// Usage: node tools/cheatsheet.mjs [DIR]   DIR: the executed lecture15 notebooks (default: out/lecture15, what
//        `npm run lecture` writes; test/artifacts/lecture/notebooks/lecture15 after the notebook test works too)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { createCanvas, loadImage } = require('@napi-rs/canvas');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.resolve(process.argv[2] ?? path.join(root, 'out', 'lecture15'));
const WANT = 20;
const WIDTH = 360;
const PICTURE = /\bshow\.(?!progress\b|live\b)\w+\s*\(/;

if (!fs.existsSync(dir)) {
  console.error(`cheatsheet: no executed notebooks in ${dir}: run \`npm run lecture\` first (or pass the folder)`);
  process.exit(1);
}
const code = (src) =>
  src.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('//') && !/^\s*import\b/.test(l));

// Every candidate: a cell of at most 3 code lines with a picture call and a PNG among its outputs.
const byNotebook = [];
for (const file of fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ipynb'))
  .sort()) {
  const nb = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const found = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    const lines = code(Array.isArray(cell.source) ? cell.source.join('') : cell.source);
    if (lines.length === 0 || lines.length > 3 || !lines.some((l) => PICTURE.test(l))) return;
    const png = (cell.outputs ?? []).map((o) => o.data?.['image/png']).find(Boolean);
    if (png) found.push({ notebook: file.replace(/\.ipynb$/, ''), cell: i, lines, png });
  });
  byNotebook.push(found);
}
// At most two a notebook first, so every part of the lecture is on the page; then the rest in lecture order.
const picked = byNotebook.flatMap((found) => found.slice(0, 2)).slice(0, WANT);
for (const c of byNotebook.flatMap((found) => found.slice(2))) if (picked.length < WANT) picked.push(c);
picked.sort((a, b) => a.notebook.localeCompare(b.notebook) || a.cell - b.cell);

const imgDir = path.join(root, 'docs', 'live-coding');
fs.rmSync(imgDir, { recursive: true, force: true });
fs.mkdirSync(imgDir, { recursive: true });
let md = `# Live coding: the lecture in one-liners

Each cell below is typed in class as it stands (after the notebook's first cell: \`import { setup, show } from
'cnnviz'; await setup();\`), and draws the picture beside it. The pictures come from a real run of the lecture
(\`npm run lecture\`, then \`node tools/cheatsheet.mjs\`). The short forms take a model or its name, an image by
sample name, path, URL or tensor, and a class by name; the heavy step is cached on disk, with a progress bar the
first time. The typed functions underneath (\`saliency(model, image, { target })\`, ...) stay for full control.

`;
let n = 0;
for (const c of picked) {
  n++;
  const img = await loadImage(Buffer.from(c.png, 'base64'));
  const scale = Math.min(1, WIDTH / img.width);
  const canvas = createCanvas(Math.round(img.width * scale), Math.round(img.height * scale));
  canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
  const name = `${String(n).padStart(2, '0')}-${c.notebook.slice(0, 2)}.png`;
  fs.writeFileSync(path.join(imgDir, name), canvas.toBuffer('image/png'));
  md += `## ${n}. ${c.notebook} (cell ${c.cell})\n\n\`\`\`ts\n${c.lines.join('\n')}\n\`\`\`\n\n`;
  md += `![${c.notebook} cell ${c.cell}](live-coding/${name})\n\n`;
}
fs.writeFileSync(path.join(root, 'docs', 'live-coding.md'), md);
console.log(`cheatsheet: ${n} one-liners from ${dir} -> docs/live-coding.md`);
