// kernel-setup/notebooks.js, the shipped notebooks' normal form, on copies in a temp folder:
// --check fails on outputs and on missing metadata, --write strips outputs and adds tslab's
// language_info, cell ids and nbformat 4.5, and a second --write changes nothing.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { REPO } from './util/notebook';

const SCRIPT = path.join(REPO, 'kernel-setup', 'notebooks.js');

function run(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('notebook hygiene (kernel-setup/notebooks.js)', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-nb-'));
    file = path.join(dir, 'copy.ipynb');
    const nb = JSON.parse(fs.readFileSync(path.join(REPO, 'notebooks/gallery/widgets.ipynb'), 'utf8'));
    const code = nb.cells.find((c: { cell_type: string }) => c.cell_type === 'code');
    code.outputs = [{ output_type: 'stream', name: 'stdout', text: ['hello\n'] }];
    code.execution_count = 3;
    delete nb.metadata.language_info;
    for (const c of nb.cells) delete c.id;
    nb.nbformat_minor = 4;
    fs.writeFileSync(file, JSON.stringify(nb));
    fs.mkdirSync(path.join(dir, '.ipynb_checkpoints'));
    fs.writeFileSync(path.join(dir, '.ipynb_checkpoints', 'copy-checkpoint.ipynb'), '{not json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--check fails on outputs, an execution count and missing language_info (checkpoints skipped)', () => {
    const r = run('--check', dir);
    assert.strictEqual(r.status, 1, r.out);
    assert.match(r.out, /cell \d+ has 1 output/);
    assert.match(r.out, /execution_count 3/);
    assert.match(r.out, /language_info is missing/);
  });

  it("--write gives the normal form: no outputs, tslab's language_info, ids, 4.5; idempotent", () => {
    assert.strictEqual(run('--write', dir).status, 0);
    const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const c of nb.cells) {
      assert.match(c.id, /^[a-zA-Z0-9-_]{1,64}$/);
      if (c.cell_type === 'code') assert.deepStrictEqual([c.outputs, c.execution_count], [[], null]);
    }
    assert.strictEqual(new Set(nb.cells.map((c: { id: string }) => c.id)).size, nb.cells.length);
    assert.deepStrictEqual([nb.nbformat, nb.nbformat_minor], [4, 5]);
    assert.strictEqual(nb.metadata.language_info.name, 'typescript');
    assert.strictEqual(nb.metadata.language_info.codemirror_mode.mode, 'typescript');
    assert.strictEqual(nb.metadata.kernelspec.name, 'cnnviz');
    const once = fs.readFileSync(file, 'utf8');
    assert.deepStrictEqual(run('--strict', dir).status, 0);
    run('--write', dir);
    assert.strictEqual(fs.readFileSync(file, 'utf8'), once);
  });

  it('an unknown option is refused with the valid choices', () => {
    const r = run('--fix', dir);
    assert.strictEqual(r.status, 2);
    assert.match(r.out, /unknown option '--fix'; valid choices: --check, --strict, --write/);
  });

  it('the gallery notebook is in the normal form', () => {
    assert.strictEqual(run('--strict', path.join(REPO, 'notebooks/gallery')).status, 0);
  });
});

describe('live-coding limits (tools/notebook_metrics.mjs, run by npm run lint)', () => {
  const METRICS = path.join(REPO, 'tools', 'notebook_metrics.mjs');
  const metrics = (...files: string[]) => {
    const r = spawnSync(process.execPath, [METRICS, ...files], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  let dir: string;
  const notebook = (...cells: string[]) => {
    const file = path.join(dir, 'nb.ipynb');
    const nb = { cells: cells.map((source) => ({ cell_type: 'code', source, outputs: [], metadata: {} })) };
    fs.writeFileSync(file, JSON.stringify(nb));
    return file;
  };
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-metrics-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the lecture notebooks are within the limits', () => {
    const r = metrics();
    assert.strictEqual(r.status, 0, r.out);
    assert.match(r.out, /^lecture +\d+ +\d+ +[0-2]\.\d\d|^lecture +\d+ +\d+ +3\.00/m);
  });

  it('fails past each limit: a wide line, a long cell, too many lines a picture, an any', () => {
    const ok = notebook("await show.gradCam('mobilenet', 'dog', 'malamute');");
    assert.strictEqual(metrics(ok).status, 0);
    const wide = notebook(`await show.gradCam('mobilenet', 'dog', '${'m'.repeat(80)}');`);
    assert.match(metrics(wide).out, /cell 0: a line of 123 characters/);
    assert.strictEqual(metrics(wide).status, 1);
    const long = notebook(['await show.saliency(net, x);', ...Array(12).fill('x = x + 1;')].join('\n'));
    assert.match(metrics(long).out, /cell 0: 13 code lines \(at most 12\)/);
    const dense = notebook('const a = 1;\nconst b = 2;\nconst c = 3;\nawait show.saliency(a, b, c);');
    assert.match(metrics(dense).out, /lecture: 4\.00 code lines per picture \(at most 3\)/);
    const loose = notebook('const net: any = 1;\nawait show.saliency(net);');
    assert.match(metrics(loose).out, /cell 0: 'any' in a lecture cell: const net: any = 1;/);
    assert.strictEqual(metrics(loose).status, 1);
  });
});

describe('the live-coding cheat sheet (docs/live-coding.md, made by tools/cheatsheet.mjs)', () => {
  it("has 20 one-liners, each a lecture notebook's cell as it stands, with its picture", () => {
    const page = fs.readFileSync(path.join(REPO, 'docs', 'live-coding.md'), 'utf8');
    const entries = [
      ...page.matchAll(/\n(\d\d-[\w-]+), cell (\d+):\n\n```ts\n([\s\S]*?)\n```\n\n!\[[^\]]*\]\(([^)]+)\)/g),
    ];
    assert.strictEqual(entries.length, 20, 'one-liners on the page');
    for (const [, notebook, cell, code, picture] of entries) {
      const file = path.join(REPO, 'notebooks', 'lecture15', `${notebook}.ipynb`);
      const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
      const source = [nb.cells[Number(cell)].source].flat().join('');
      for (const line of code.split('\n')) assert.ok(source.includes(line), `${notebook} cell ${cell} lost: ${line}`);
      assert.ok(code.split('\n').length <= 3, `${notebook} cell ${cell}: over 3 lines`);
      assert.ok(fs.statSync(path.join(REPO, 'docs', picture)).size > 5000, `${picture}: missing or empty`);
    }
  });
});
