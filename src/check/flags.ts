/**
 * What the teacher should look at in a notebook's code, found by reading it (the grader's side,
 * before the run). A flag changes no score: the sandbox and the outside judgement are the
 * defence; a flag names an attempt, so that a 0 caused by one is not read as a wrong answer, and
 * so that a right answer reached through the library's internals is seen by a person.
 */
import { Notebook, sourceOf } from './assignments';

const RULES: Array<{ re: RegExp; what: string }> = [
  {
    re: /\ballowAll\b|build\/src\/|runtime\/guard|check\/(record|compare|report|judge|replay)\b|\b(gradeOne|setHook)\b/,
    what: "reaches into the grader's or the library's internal modules",
  },
  {
    re: /child_process|process\.kill\b|\bspawn(Sync)?\s*\(|\bexec(Sync|File)?\s*\(|\bfork\s*\(/,
    what: 'starts or signals processes',
  },
  { re: /\bteacher\b|solutions?\//i, what: "looks for the teacher's files" },
  {
    re: /require\s*\(\s*['"](node:)?fs['"]\s*\)|from\s+['"](node:)?fs(\/promises)?['"]|\b(append|write)File(Sync)?\b/,
    what: 'reads or writes files',
  },
  {
    re: /\b(Map|Object|Array|Function|Promise)\.prototype\b|__proto__|defineProperty\s*\(\s*(check|models|tf)\b/,
    what: 'patches built-in or library objects',
  },
  { re: /\b(net|http|https|dgram|tls)['"]|\bfetch\s*\(|WebSocket/, what: 'opens network connections' },
];

/** One line per kind of attempt found in the student's code cells, naming the cells. */
export function flagsOf(nb: Notebook): string[] {
  const out: string[] = [];
  for (const rule of RULES) {
    const cells: number[] = [];
    nb.cells.forEach((c, i) => {
      if (c.cell_type === 'code' && c.metadata?.cnnviz?.role !== 'hidden' && rule.re.test(sourceOf(c))) cells.push(i);
    });
    if (cells.length) out.push(`flag: the code ${rule.what} (cell${cells.length > 1 ? 's' : ''} ${cells.join(', ')})`);
  }
  return out;
}
