#!/usr/bin/env node
// docs/live-coding.md, the one-page cheat sheet of issue #28, built from a real run of the lecture: for each of the
// lecture's 20 signature techniques (ENTRIES), the cell of the executed notebook that a teacher types in one to
// three lines, with the pictures it gave (into docs/live-coding/ as JPEG, see composite). Nothing in the page is
// written by hand but the header and the titles; a technique whose cell is missing, too long or drew nothing fails
// the run.
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

if (!fs.existsSync(dir)) {
  console.error(`cheatsheet: no executed notebooks in ${dir}: run \`npm run lecture\` first (or pass the folder)`);
  process.exit(1);
}
const code = (src) =>
  src
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.trim().startsWith('//') && !/^\s*import\b|^\s*await setup\(/.test(l));

// The lecture's 20 signature pictures, one per technique, in lecture order: the first cell of the notebook whose code
// matches, of at most 3 code lines, with its pictures (several pictures of one cell are set side by side).
const ENTRIES = [
  ['00', /show\.classify\(/, 'What the networks say of a photo'],
  ['01', /show\.filters\('mobilenet'/, 'First-layer filters'],
  ['01', /show\.featureMaps\(/, "A layer's responses to an image"],
  ['02', /show\.neighbors\('mobilenet'/, 'Nearest neighbours: feature space against pixel space'],
  ['02', /show\.invariance\(/, 'What the features ignore: flips, shifts, crops, a gray square'],
  ['03', /show\.scatter\(.*'tsne' \}/, 't-SNE of 10,000 images'],
  ['03', /show\.confusions\(/, 'The classes the map mixes up'],
  ['04', /show\.imageMap\('mobilenet'.*grid/, '1,000 photos on a t-SNE grid'],
  ['05', /show\.topPatches\('mobilenet', 'conv_pw_11/, 'Maximally activating patches'],
  ['06', /'mountain bike', 'pickup'\]\)$/, 'Occlusion, one map per class'],
  ['07', /show\.saliency\(/, 'Saliency'],
  ['07', /show\.guidedBackprop\(/, 'Gradient, guided backprop, deconvnet'],
  ['07', /show\.attributions\(.*methods/, 'Four attribution methods, two classes'],
  ['08', /show\.classImage\('mobilenet', classes/, 'Class visualization: three recipes'],
  ['08', /show\.channelImage\('mobilenet', channels\)/, 'What a channel wants to see'],
  ['09', /show\.shap\('mobilenet', 'dog'/, 'Kernel SHAP on superpixels'],
  ['09', /show\.deletion\(/, 'Deletion: which map finds the evidence'],
  ['09', /show\.sanity\(/, 'The randomization check'],
  ['09', /show\.randomizedMaps\(/, 'Maps of a network randomized layer by layer'],
  ['10', /show\.yourImage\(/, 'Your own photo'],
];

/** An output's picture: its PNG, or the static image an interactive figure carries for front ends without JS. */
function picture(output) {
  if (output.data?.['image/png']) return output.data['image/png'];
  const html = [output.data?.['text/html'] ?? ''].flat().join('');
  return /<img class="cnnviz-static"[^>]* src="data:image\/\w+;base64,([^"]+)"/.exec(html)?.[1];
}

const cells = [];
for (const file of fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.ipynb'))
  .sort()) {
  const nb = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== 'code') return;
    const lines = code(Array.isArray(cell.source) ? cell.source.join('') : cell.source);
    const pictures = (cell.outputs ?? []).map(picture).filter(Boolean);
    cells.push({ notebook: file.replace(/\.ipynb$/, ''), cell: i, lines, pictures });
  });
}
const picked = [];
const missing = [];
for (const [prefix, pattern, title] of ENTRIES) {
  const c = cells.find((c) => c.notebook.startsWith(prefix) && c.lines.some((l) => pattern.test(l)));
  if (!c || c.lines.length > 3 || c.pictures.length === 0) {
    const why = !c
      ? 'no cell calls it'
      : c.pictures.length === 0
        ? 'its cell drew no picture'
        : 'its cell is over 3 lines';
    missing.push(`${prefix}: ${pattern} (${why})`);
  } else picked.push({ ...c, title });
}
if (missing.length || picked.length !== WANT) {
  console.error(
    `cheatsheet: ${picked.length} of ${WANT} one-liners found in ${dir}; missing:\n  ${missing.join('\n  ')}`,
  );
  process.exit(1);
}

/**
 * The cell's pictures (PNG or WebP, base64) in one image: stacked when one of them is wide (a strip, a grid), each at
 * most 720 px wide; one alone at most 720 px wide; the others side by side, each at most 360 px wide.
 */
async function composite(pictures) {
  const imgs = await Promise.all(pictures.map((p) => loadImage(Buffer.from(p, 'base64'))));
  const wide = imgs.some((img) => img.width > 1.3 * img.height) && imgs.length > 1;
  const limit = wide || imgs.length === 1 ? 2 * WIDTH : WIDTH;
  const sizes = imgs.map((img) => {
    const scale = Math.min(1, limit / img.width);
    return [Math.round(img.width * scale), Math.round(img.height * scale)];
  });
  const gap = 8;
  const sum = (k) => sizes.reduce((a, s) => a + s[k], 0) + gap * (imgs.length - 1);
  const max = (k) => Math.max(...sizes.map((s) => s[k]));
  const canvas = wide ? createCanvas(max(0), sum(1)) : createCanvas(sum(0), max(1));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  let at = 0;
  imgs.forEach((img, k) => {
    const [w, h] = sizes[k];
    if (wide) ctx.drawImage(img, 0, at, w, h);
    else ctx.drawImage(img, at, 0, w, h);
    at += (wide ? h : w) + gap;
  });
  return canvas.toBuffer('image/jpeg', 88);
}

const imgDir = path.join(root, 'docs', 'live-coding');
fs.rmSync(imgDir, { recursive: true, force: true });
fs.mkdirSync(imgDir, { recursive: true });
let md = `# Live coding: the lecture in one-liners

Each cell below is typed in class as it stands (after the notebook's first cell: \`import { setup, show } from
'cnnviz'; await setup();\`), and draws the picture below it. The pictures come from a real run of the lecture
(\`npm run lecture\`, then \`node tools/cheatsheet.mjs\`). The short forms take a model or its name, an image by
sample name, path, URL or tensor, and a class by name; the heavy step is cached on disk, with a progress bar the
first time. The typed functions underneath (\`saliency(model, image, { target })\`, ...) stay for full control.

`;
let n = 0;
for (const c of picked) {
  n++;
  const name = `${String(n).padStart(2, '0')}-${c.notebook.slice(0, 2)}.jpg`;
  fs.writeFileSync(path.join(imgDir, name), await composite(c.pictures));
  md += `## ${n}. ${c.title}\n\n${c.notebook}, cell ${c.cell}:\n\n\`\`\`ts\n${c.lines.join('\n')}\n\`\`\`\n\n`;
  md += `![${c.notebook} cell ${c.cell}](live-coding/${name})\n\n`;
}
fs.writeFileSync(path.join(root, 'docs', 'live-coding.md'), md);
console.log(`cheatsheet: ${n} one-liners from ${dir} -> docs/live-coding.md`);
