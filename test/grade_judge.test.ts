import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { readAssignments, readNotebook, sourceOf } from '../src/check/assignments';
import { gradeSubmissions, StudentRow } from '../src/check/grade';
import { csvCell, mergeReports, writeReports } from '../src/check/grade_report';
import { judge } from '../src/check/judge';
import { gradeOne, GradedLine } from '../src/check/record';
import { BadRecording, decode, encode } from '../src/check/replay';
import { REPO } from './util/notebook';

/**
 * Fast: the grader's side of `cnnviz grade` without kernels. A recording made in this process
 * (as the sandboxed kernel makes it) is judged like the grader judges it, then altered the ways a
 * hostile kernel could alter it; the CSV's formula guard, the shard merge and the refusal to grade
 * without a sandbox.
 */

const TEMPLATES = path.join(REPO, 'notebooks', 'assignments');
const SEED = 2027;

/** The teacher's solution of assignment 05, compiled from its task cells. */
function solutionFns(): { myReceptiveFields: unknown; myBox: unknown } {
  const nb = readNotebook(path.join(REPO, 'teacher', 'solutions', '05-receptive-fields.ipynb'));
  const src = nb.cells.filter((c) => c.metadata?.cnnviz?.task).map(sourceOf);
  const ts = require('typescript') as { transpile: (s: string) => string };
  return new Function(`${ts.transpile(src.join('\n'))}\nreturn { myReceptiveFields, myBox };`)() as {
    myReceptiveFields: unknown;
    myBox: unknown;
  };
}

async function recorded(check: string, fn: unknown): Promise<GradedLine> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-judge-')), 'results.jsonl');
  const log = console.log;
  console.log = () => undefined;
  try {
    await gradeOne({ check, fn, seed: SEED, file });
  } finally {
    console.log = log;
  }
  return JSON.parse(fs.readFileSync(file, 'utf8').trim()) as GradedLine;
}

describe('grade: judged outside the kernel (fast)', function () {
  this.timeout(120_000);
  const fns = solutionFns();

  it('passes an honest recording, with no tampering named', async () => {
    const line = await recorded('receptiveFields', fns.myReceptiveFields);
    assert.ok(line.passed && line.calls.length > 0, line.message);
    const j = await judge('receptiveFields', 'myReceptiveFields', SEED, line);
    assert.deepStrictEqual([j.passed, j.tampered], [true, undefined], j.message);
    const box = await judge('receptiveBox', 'myBox', SEED, await recorded('receptiveBox', fns.myBox));
    assert.deepStrictEqual([box.passed, box.tampered], [true, undefined], box.message);
  });

  it('fails a recording whose values were changed, and names a kernel that claimed a pass', async () => {
    const line = await recorded('receptiveFields', fns.myReceptiveFields);
    const wrong = JSON.parse(JSON.stringify(line).replace(/"size",(\d+)/, (_, n) => `"size",${Number(n) + 1}`));
    assert.notDeepStrictEqual(wrong, line);
    const j = await judge('receptiveFields', 'myReceptiveFields', SEED, wrong);
    assert.strictEqual(j.passed, false);
    assert.match(j.tampered ?? '', /kernel said the check passed; the grader's judgement of the same values failed/);
  });

  it('fails a forged line: no recorded calls, calls on other inputs, unreadable values', async () => {
    const line = await recorded('receptiveFields', fns.myReceptiveFields);
    const forged = await judge('receptiveFields', 'f', SEED, { check: 'receptiveFields', passed: true, calls: [] });
    assert.strictEqual(forged.passed, false);
    assert.match(forged.tampered ?? '', /recorded 0 calls, fewer than the check makes/);
    const other = await judge('receptiveFields', 'f', SEED + 1, line);
    assert.strictEqual(other.passed, false);
    assert.match(other.tampered ?? '', /inputs other than the grader's/);
    const bad = { ...line, calls: line.calls.map((c) => ({ ...c, value: { t: 'tensor', shape: [1e9], data: '' } })) };
    const unreadable = await judge('receptiveFields', 'f', SEED, bad);
    assert.strictEqual(unreadable.passed, false);
    assert.match(unreadable.tampered ?? '', /could not be read/);
    const noLine = await judge('receptiveFields', 'f', SEED, 'passed');
    assert.strictEqual(noLine.passed, false);
  });

  it('serializes tensors, typed arrays and odd numbers, and refuses what it did not write', () => {
    const t = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const before = tf.memory().numTensors;
    const w = JSON.parse(JSON.stringify(encode({ t, a: Int32Array.of(5, 6), n: [NaN, -Infinity], u: undefined })));
    const made: tf.Tensor[] = [];
    const back = decode(w, [], made) as { t: tf.Tensor; a: Int32Array; n: number[]; u: undefined };
    assert.deepStrictEqual(Array.from(back.t.dataSync()), [1, 2, 3, 4]);
    assert.deepStrictEqual(back.t.shape, [2, 2]);
    assert.deepStrictEqual(Array.from(back.a), [5, 6]);
    assert.ok(Number.isNaN(back.n[0]) && back.n[1] === -Infinity && 'u' in back);
    tf.dispose([...made, t]);
    assert.strictEqual(tf.memory().numTensors, before - 1);
    assert.throws(() => decode({ t: 'tensor', shape: [3], dtype: 'float32', data: 'AAAA' }), BadRecording);
    assert.throws(() => decode({ t: 'eval', code: '1' }), BadRecording);
    const proto = decode({ t: 'object', entries: [['__proto__', { t: 'object', entries: [['polluted', true]] }]] });
    assert.strictEqual(Object.getPrototypeOf(proto), Object.prototype);
    assert.strictEqual(({} as Record<string, unknown>).polluted, undefined);
  });

  it('writes CSV cells a spreadsheet would run as a formula as text', () => {
    assert.strictEqual(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
    for (const s of ['+1', '-1+2', '@SUM(A1)', '\tx', '\rx'])
      assert.ok(csvCell(s).replace(/^"/, '').startsWith("'"), s);
    assert.strictEqual(csvCell(-2), '-2');
    assert.strictEqual(csvCell('plain text'), 'plain text');
  });

  it('merges the reports of shards into one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-merge-'));
    const specs = readAssignments(TEMPLATES);
    const row = (student: string, passed: boolean): StudentRow => ({
      student,
      score: passed ? 1 : 0,
      max: 1,
      seconds: 2,
      notebooks: [
        {
          student,
          file: `${student}/01-saliency.ipynb`,
          assignment: '01-saliency',
          checks: [{ check: 'saliency', passed, message: passed ? 'ok' : 'wrong' }],
          problems: [],
          answers: {},
          seconds: 2,
        },
      ],
    });
    writeReports([row('ann', true), row('bob', false)], specs, path.join(dir, 'a'), 10);
    writeReports([row('cyd', true)], specs, path.join(dir, 'b'), 12);
    const merged = mergeReports(
      [path.join(dir, 'a', 'report.json'), path.join(dir, 'b', 'report.json')],
      path.join(dir, 'all'),
      specs,
    );
    assert.strictEqual(merged.students, 3);
    const csv = fs.readFileSync(merged.files.csv, 'utf8').trim().split('\n');
    assert.deepStrictEqual(
      csv.slice(1).map((l) => l.split(',').slice(0, 3).join(',')),
      ['ann,1,1', 'bob,0,1', 'cyd,1,1'],
    );
    assert.throws(() => mergeReports([merged.files.csv], path.join(dir, 'x'), specs), /not a report\.json/);
  });

  it('refuses to grade where the sandbox cannot be built, unless --unsafe', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-nobox-'));
    fs.mkdirSync(path.join(dir, 'subs', 'ann'), { recursive: true });
    fs.copyFileSync(path.join(TEMPLATES, '05-receptive-fields.ipynb'), path.join(dir, 'subs', 'ann', '05.ipynb'));
    process.env.CNNVIZ_SANDBOX_OFF = '1';
    try {
      await assert.rejects(
        gradeSubmissions(path.join(dir, 'subs'), {
          out: path.join(dir, 'report'),
          assignments: readAssignments(TEMPLATES),
          root: REPO,
          python: 'python3',
        }),
        /the sandbox cannot be built here \(turned off by CNNVIZ_SANDBOX_OFF=1\).*--unsafe/,
      );
    } finally {
      delete process.env.CNNVIZ_SANDBOX_OFF;
    }
    assert.ok(!fs.existsSync(path.join(dir, 'report', 'report.csv')));
  });
});
