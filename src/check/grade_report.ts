/**
 * The grader's reports: report.csv (one row per student), report.html (failed checks with their messages),
 * report.json.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AssignmentSpec } from './assignments';
import type { StudentRow } from './grade_outcome';
import { fail } from '../common';

/**
 * One CSV cell. Text that a spreadsheet would read as a formula (=, +, -, @, a tab or a carriage
 * return first, as OWASP's CSV-injection advice lists) gets a leading apostrophe, so
 * `=HYPERLINK(...)` in a student's answer stays text.
 */
export function csvCell(v: string | number): string {
  let s = String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * Columns: student, score, max, seconds, one per check (1 passed, 0 failed, empty when that notebook was not
 * submitted), problems, one per answer.
 */
export function csvOf(rows: StudentRow[], specs: AssignmentSpec[]): string {
  const graded = specs.filter((s) => rows.some((r) => r.notebooks.some((n) => n.assignment === s.id)));
  const checkCols = graded.flatMap((s) => s.checks.map((c) => ({ a: s.id, c: c.check })));
  const answerCols = graded.flatMap((s) => s.answers.map((q) => ({ a: s.id, q: q.id })));
  const head = [
    'student',
    'score',
    'max',
    'seconds',
    ...checkCols.map((x) => `${x.a}/${x.c}`),
    'problems',
    ...answerCols.map((x) => `${x.a}/answer:${x.q}`),
  ];
  const lines = [head.map(csvCell).join(',')];
  for (const r of rows) {
    const cells: Array<string | number> = [r.student, r.score, r.max, r.seconds.toFixed(1)];
    for (const x of checkCols) {
      const nb = r.notebooks.find((n) => n.assignment === x.a);
      const c = nb?.checks.find((y) => y.check === x.c);
      cells.push(c ? (c.passed ? 1 : 0) : '');
    }
    const problems: string[] = [];
    for (const nb of r.notebooks) {
      const where = `${nb.assignment ?? path.basename(nb.file)}`;
      for (const c of nb.checks)
        if (!c.passed) problems.push(`${where}/${c.check}: ${c.message.replace(/\s*\n\s*/g, ' ')}`);
      for (const p of nb.problems) problems.push(`${where}: ${p}`);
    }
    for (const s of graded)
      if (!r.notebooks.some((n) => n.assignment === s.id)) problems.push(`${s.id}: not submitted`);
    cells.push(problems.join(' | '));
    for (const x of answerCols) cells.push(r.notebooks.find((n) => n.assignment === x.a)?.answers[x.q] ?? '');
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

const STYLE = [
  'body{font-family:sans-serif;margin:2em;max-width:70em}td,th{padding:3px 10px;text-align:left}',
  'td.ok{color:#070}td.bad{color:#b00;font-weight:bold}td.none{color:#999}\n',
  'pre{white-space:pre-wrap;background:#f6f6f6;padding:6px}ul.problems li{color:#840}',
  '.answer .q{font-weight:bold;margin-top:.5em}section{border-top:1px solid #ccc;margin-top:1.5em}',
].join('');

export function htmlOf(rows: StudentRow[], specs: AssignmentSpec[], seconds: number, sandbox = 'bubblewrap'): string {
  const graded = specs.filter((s) => rows.some((r) => r.notebooks.some((n) => n.assignment === s.id)));
  const checkCols = graded.flatMap((s) => s.checks.map((c) => ({ a: s.id, c: c.check })));
  const summary = rows
    .map((r) => {
      const marks = checkCols.map((x) => {
        const c = r.notebooks.find((n) => n.assignment === x.a)?.checks.find((y) => y.check === x.c);
        return `<td class="${c ? (c.passed ? 'ok' : 'bad') : 'none'}">${c ? (c.passed ? '✓' : '✗') : '–'}</td>`;
      });
      return (
        `<tr><td><a href="#${esc(encodeURIComponent(r.student))}">${esc(r.student)}</a></td>` +
        `<td>${r.score} / ${r.max}</td><td>${r.seconds.toFixed(1)} s</td>${marks.join('')}</tr>`
      );
    })
    .join('\n');
  const details = rows
    .map((r) => {
      const parts = r.notebooks.map((nb) => {
        const failed = nb.checks
          .filter((c) => !c.passed)
          .map((c) => `<li><b>check.${esc(c.check)}</b> failed<pre>${esc(c.message)}</pre></li>`);
        const passed = nb.checks.filter((c) => c.passed).map((c) => esc(c.check));
        const problems = nb.problems.map((p) => `<li>${esc(p)}</li>`);
        const spec = specs.find((s) => s.id === nb.assignment);
        const written = Object.entries(nb.answers).filter(([, text]) => text);
        const answers = written.length
          ? Object.entries(nb.answers).map(([id, text]) => {
              const q = spec?.answers.find((a) => a.id === id);
              const title = `${esc(id)}${q?.question ? `: ${esc(q.question)}` : ''}`;
              const body = text ? esc(text) : '<i>(no answer)</i>';
              return `<div class="answer"><div class="q">${title}</div><pre>${body}</pre></div>`;
            })
          : Object.keys(nb.answers).length
            ? ['<p class="none">no answers written</p>']
            : [];
        const lists = [
          passed.length ? `<p>passed: ${passed.join(', ')}</p>` : '',
          failed.length ? `<ul>${failed.join('')}</ul>` : '',
          problems.length ? `<p>problems:</p><ul class="problems">${problems.join('')}</ul>` : '',
          answers.length ? `<p>answers:</p>${answers.join('')}` : '',
        ];
        return (
          `<h3>${esc(nb.assignment ?? 'unknown notebook')} ` +
          `<small>${esc(path.basename(nb.file))}, ${nb.seconds.toFixed(1)} s</small></h3>\n${lists.join('')}`
        );
      });
      return (
        `<section id="${esc(encodeURIComponent(r.student))}"><h2>${esc(r.student)}: ${r.score} / ${r.max}</h2>` +
        `${parts.join('\n')}</section>`
      );
    })
    .join('\n');
  const heads = checkCols.map((x) => `<th>${esc(x.a)}<br>${esc(x.c)}</th>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>cnnviz grades</title>
<style>${STYLE}</style>
<h1>cnnviz grades</h1><p>${rows.length} students, graded ${new Date().toISOString()} in ${seconds.toFixed(0)} s.
Sandbox: ${esc(sandbox)}.</p>
<table><tr><th>student</th><th>score</th><th>time</th>${heads}</tr>
${summary}
</table>
${details}
`;
}

export function writeReports(
  rows: StudentRow[],
  specs: AssignmentSpec[],
  out: string,
  seconds: number,
  sandbox = 'bubblewrap',
): { csv: string; html: string; json: string } {
  fs.mkdirSync(out, { recursive: true });
  const files = {
    csv: path.join(out, 'report.csv'),
    html: path.join(out, 'report.html'),
    json: path.join(out, 'report.json'),
  };
  fs.writeFileSync(files.csv, csvOf(rows, specs));
  fs.writeFileSync(files.html, htmlOf(rows, specs, seconds, sandbox));
  fs.writeFileSync(files.json, `${JSON.stringify({ seconds, sandbox, rows }, null, 1)}\n`);
  return files;
}

/**
 * One report from several (the shards of a class graded on several machines): rows of the same
 * student are joined, scores added up again, the time is the longest shard's.
 */
export function mergeReports(
  files: string[],
  out: string,
  specs: AssignmentSpec[],
): { students: number; files: { csv: string; html: string; json: string } } {
  const byStudent = new Map<string, StudentRow['notebooks']>();
  let seconds = 0;
  const sandboxes = new Set<string>();
  for (const f of files) {
    let data: { seconds?: number; sandbox?: string; rows?: StudentRow[] };
    try {
      data = JSON.parse(fs.readFileSync(f, 'utf8')) as typeof data;
    } catch (err) {
      fail('cnnviz grade merge', `${f} is not a report.json (${(err as Error).message})`);
    }
    if (!Array.isArray(data.rows)) fail('cnnviz grade merge', `${f} has no rows; give report.json files`);
    seconds = Math.max(seconds, data.seconds ?? 0);
    sandboxes.add(data.sandbox ?? 'unknown');
    for (const r of data.rows) byStudent.set(r.student, [...(byStudent.get(r.student) ?? []), ...r.notebooks]);
  }
  const graded = specs.filter((s) => [...byStudent.values()].some((nbs) => nbs.some((n) => n.assignment === s.id)));
  const max = graded.reduce((n, s) => n + s.checks.length, 0);
  const rows: StudentRow[] = [...byStudent.keys()].sort().map((student) => {
    const notebooks = byStudent.get(student)!;
    const score = notebooks.reduce((n, r) => n + r.checks.filter((c) => c.passed).length, 0);
    return { student, score, max, seconds: notebooks.reduce((t, r) => t + r.seconds, 0), notebooks };
  });
  return { students: rows.length, files: writeReports(rows, specs, out, seconds, [...sandboxes].join(', ')) };
}
