#!/usr/bin/env node
// Shipped notebooks, as JupyterLab 4 and Notebook 7 would save them: no outputs, no execution
// counts, the cnnviz kernelspec, the language_info that tslab's kernel reports (so opening a
// notebook does not mark it modified), nbformat 4.5 with cell ids, keys sorted, indent 1.
//
//   node kernel-setup/notebooks.js --check [paths...]   fail on outputs or missing metadata;
//                                                       report (not fail) other differences
//   node kernel-setup/notebooks.js --strict [paths...]  fail on any difference from the normal form
//   node kernel-setup/notebooks.js --write [paths...]   rewrite the notebooks in the normal form
//
// Paths are notebooks or folders (searched for *.ipynb, .ipynb_checkpoints skipped); default: notebooks/.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const KERNELSPEC = { display_name: 'TypeScript (cnnviz)', language: 'typescript', name: 'cnnviz' };

/** What tslab's kernel_info_reply says (read from tslab itself, so an upgrade follows). */
function languageInfo() {
  try {
    const j = require(path.join(root, 'node_modules', 'tslab', 'dist', 'jupyter.js'));
    return j.JupyterHandlerImpl.prototype.handleKernel.call({ isJs: false }).language_info;
  } catch {
    // tslab 1.0's reply, for a checkout without node_modules
    return {
      codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
      file_extension: '.ts',
      mimetype: 'text/typescript',
      name: 'typescript',
      version: '3.7.2',
    };
  }
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]);
    return out;
  }
  return v;
}

/** nbformat's multiline strings: a list of lines, each keeping its newline. */
function lines(src) {
  const text = Array.isArray(src) ? src.join('') : String(src ?? '');
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** The normal form of one notebook (its relative path seeds the ids of cells that have none). */
function normalize(nb, rel) {
  const used = new Set();
  const cells = nb.cells.map((c, i) => {
    const cell = { ...c, source: lines(c.source) };
    const meta = { ...(c.metadata ?? {}) };
    for (const k of ['execution', 'ExecuteTime', 'collapsed', 'scrolled']) delete meta[k];
    cell.metadata = meta;
    if (c.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    } else {
      delete cell.outputs;
      delete cell.execution_count;
    }
    let id = typeof c.id === 'string' && /^[a-zA-Z0-9-_]{1,64}$/.test(c.id) ? c.id : '';
    if (!id || used.has(id)) id = crypto.createHash('sha1').update(`${rel}#${i}`).digest('hex').slice(0, 8);
    used.add(id);
    cell.id = id;
    return cell;
  });
  const metadata = { ...nb.metadata, kernelspec: KERNELSPEC, language_info: languageInfo() };
  return sortKeys({ cells, metadata, nbformat: 4, nbformat_minor: 5 });
}

function text(nb) {
  return JSON.stringify(nb, null, 1) + '\n';
}

/** Problems that fail --check: outputs in a shipped notebook, or metadata a front end would add. */
function problems(nb) {
  const out = [];
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== 'code') return;
    if ((c.outputs ?? []).length > 0) out.push(`cell ${i} has ${c.outputs.length} output(s)`);
    if (c.execution_count != null) out.push(`cell ${i} has execution_count ${c.execution_count}`);
  });
  const ks = nb.metadata?.kernelspec;
  if (!ks || ks.name !== KERNELSPEC.name) out.push(`metadata.kernelspec is not the cnnviz kernel (${JSON.stringify(ks)})`);
  const li = nb.metadata?.language_info;
  if (!li || li.name !== 'typescript' || !li.file_extension) out.push('metadata.language_info is missing');
  return out;
}

function findNotebooks(p, acc) {
  const st = fs.statSync(p);
  if (st.isFile()) {
    if (p.endsWith('.ipynb')) acc.push(p);
  } else if (st.isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) {
      if (e === '.ipynb_checkpoints' || e === 'node_modules') continue;
      findNotebooks(path.join(p, e), acc);
    }
  }
  return acc;
}

function main(argv) {
  const modes = argv.filter((a) => a.startsWith('--'));
  const mode = modes[0] ?? '--check';
  if (modes.length > 1 || !['--check', '--strict', '--write'].includes(mode)) {
    console.error(`notebooks.js: unknown option '${modes.join(' ')}'; valid choices: --check, --strict, --write`);
    return 2;
  }
  const args = argv.filter((a) => !a.startsWith('--'));
  const files = [];
  for (const a of args.length ? args : [path.join(root, 'notebooks')]) {
    if (!fs.existsSync(a)) {
      console.error(`notebooks.js: no such file or folder '${a}'`);
      return 2;
    }
    findNotebooks(a, files);
  }
  let failed = 0;
  let differ = 0;
  for (const f of files) {
    const raw = fs.readFileSync(f, 'utf8');
    const nb = JSON.parse(raw);
    const rel = path.relative(root, path.resolve(f));
    const want = text(normalize(nb, rel));
    if (mode === '--write') {
      if (want !== raw) {
        fs.writeFileSync(f, want);
        console.log(`normalized ${rel}`);
      }
      continue;
    }
    const bad = problems(nb);
    if (bad.length) {
      failed++;
      console.error(`${rel}: ${bad.join('; ')}`);
    } else if (want !== raw) {
      differ++;
      if (mode === '--strict') {
        failed++;
        console.error(`${rel}: not in the normal form (node kernel-setup/notebooks.js --write ${rel})`);
      }
    }
  }
  if (mode === '--write') return 0;
  if (failed) {
    console.error(`notebooks.js: ${failed} of ${files.length} notebooks need fixing (outputs stripped, metadata).`);
    return 1;
  }
  console.log(
    `notebooks.js: ${files.length} notebooks have no outputs and the cnnviz metadata` +
      (differ ? `; ${differ} not in the normal form yet (--strict lists them, --write fixes them)` : ''),
  );
  return 0;
}

module.exports = { normalize, problems, text };
if (require.main === module) process.exitCode = main(process.argv.slice(2));
