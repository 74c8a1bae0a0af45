/**
 * The assignment notebooks as the grader sees them. A template marks its cells in metadata
 * (`metadata.cnnviz`), the way nbgrader marks grade cells with a grade_id:
 *  - the notebook: `{ assignment: '01-saliency' }`;
 *  - a check cell: `{ check: 'saliency' }`, whose source names the student's function
 *    (`await check.saliency(mySaliency);`);
 *  - a TODO cell: `{ task: 'mySaliency' }`;
 *  - an answer cell (markdown): `{ answer: 'saliency-1' }`, collected into the report.
 * Solutions are the same notebooks with the TODO cells filled in.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fail } from '../common';

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: Record<string, unknown> & { cnnviz?: CellMark };
  outputs?: unknown[];
  execution_count?: number | null;
  id?: string;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown> & { cnnviz?: { assignment?: string } };
  nbformat: number;
  nbformat_minor: number;
}

export interface CellMark {
  check?: string;
  task?: string;
  answer?: string;
  role?: 'student' | 'hidden';
}

export interface CheckSpec {
  check: string;
  /** The student's function the check is called with. */
  fn: string;
  /** The template's check cell, to tell an edited one. */
  source: string;
}

export interface AssignmentSpec {
  id: string;
  title: string;
  file: string;
  checks: CheckSpec[];
  /** Answer cells: id, the question (the markdown cell just above), the placeholder text. */
  answers: Array<{ id: string; question: string; placeholder: string }>;
}

export function sourceOf(c: NotebookCell): string {
  return Array.isArray(c.source) ? c.source.join('') : c.source;
}

export function readNotebook(file: string): Notebook {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
}

const CHECK_CALL = /^\s*await\s+check\.(\w+)\(\s*([A-Za-z_$][\w$]*)/m;

/** The checks, tasks and answers a template declares. */
export function specOf(file: string, nb: Notebook = readNotebook(file)): AssignmentSpec {
  const id = nb.metadata.cnnviz?.assignment ?? path.basename(file, '.ipynb');
  const checks: CheckSpec[] = [];
  const answers: AssignmentSpec['answers'] = [];
  nb.cells.forEach((c, i) => {
    const mark = c.metadata?.cnnviz;
    if (mark?.check) {
      const m = CHECK_CALL.exec(sourceOf(c));
      if (!m || m[1] !== mark.check)
        fail(
          'cnnviz grade',
          `${file}: the cell marked check '${mark.check}' does not call check.${mark.check}(yourFunction)`,
        );
      checks.push({ check: mark.check, fn: m[2], source: sourceOf(c) });
    }
    if (mark?.answer) {
      const above = i > 0 && nb.cells[i - 1].cell_type === 'markdown' ? sourceOf(nb.cells[i - 1]).trim() : '';
      answers.push({
        id: mark.answer,
        question: above.replace(/^\*\*\d+\.\*\*\s*/, ''),
        placeholder: sourceOf(c).trim(),
      });
    }
  });
  const title = (
    sourceOf(nb.cells.find((c) => c.cell_type === 'markdown') ?? { cell_type: 'markdown', source: id }).split(
      '\n',
    )[0] ?? id
  ).replace(/^#+\s*/, '');
  return { id, title, file, checks, answers };
}

/** The templates of a folder (not its subfolders): every notebook that declares an assignment id. */
export function readAssignments(dir: string): AssignmentSpec[] {
  if (!fs.existsSync(dir)) fail('cnnviz', `no assignments folder at ${dir}`);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()
    .map((f) => path.join(dir, f))
    .map((f) => ({ f, nb: readNotebook(f) }))
    .filter(({ nb }) => nb.metadata.cnnviz?.assignment)
    .map(({ f, nb }) => specOf(f, nb));
}

/** Which assignment a submitted notebook is: its metadata, else its file name, else its check cells. */
export function identify(nb: Notebook, file: string, specs: AssignmentSpec[]): AssignmentSpec | undefined {
  const byMeta = nb.metadata?.cnnviz?.assignment;
  if (byMeta) {
    const s = specs.find((x) => x.id === byMeta);
    if (s) return s;
  }
  const base = path.basename(file, '.ipynb').toLowerCase();
  const byName =
    specs.find((s) => base.includes(s.id.toLowerCase())) ?? specs.find((s) => base.startsWith(s.id.slice(0, 3)));
  if (byName) return byName;
  const calls = new Set((nb.cells ?? []).map((c) => CHECK_CALL.exec(sourceOf(c))?.[1]).filter((x): x is string => !!x));
  return specs.find((s) => s.checks.length > 0 && s.checks.every((c) => calls.has(c.check)));
}

/** A student's copy: outputs and execution counts cleared, nothing else changed. */
export function cleared(nb: Notebook): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((c) => (c.cell_type === 'code' ? { ...c, outputs: [], execution_count: null } : { ...c })),
  };
}

/** Writes the student versions of the templates in `templatesDir` to `outDir`; returns the files written. */
export function exportAssignments(templatesDir: string, outDir: string): string[] {
  const specs = readAssignments(templatesDir);
  if (specs.length === 0) fail('cnnviz assignments export', `no assignment templates in ${templatesDir}`);
  fs.mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  for (const s of specs) {
    const target = path.join(outDir, path.basename(s.file));
    fs.writeFileSync(target, `${JSON.stringify(cleared(readNotebook(s.file)), null, 1)}\n`);
    written.push(target);
  }
  return written;
}
