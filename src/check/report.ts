/**
 * What a check reports: one line that says passed or failed, and for a failure what is wrong and
 * what to try. Checks do not throw on a wrong answer (the notebook keeps running, as with
 * otter-grader's checks); `{ raise: true }` or env CNNVIZ_CHECK_RAISE=1 makes a failure an error
 * for autograders. Results are remembered per check name for `passed()` and `summary()`.
 */
import * as tf from '@tensorflow/tfjs';
import { inspect } from 'util';
import { withRefused } from '../runtime/guard';
import { currentWriter, swallowEcho } from '../widgets/kernel/bridge';
import { explain } from './compare';
import { currentHook } from './replay';

export interface CheckResult {
  /** Check name, e.g. 'saliency'. */
  name: string;
  passed: boolean;
  /** One paragraph: what passed, or what is wrong and what to try. */
  message: string;
  /** Hidden cases compared (0 when the function could not be run). */
  cases: number;
  /** Side remarks that do not fail the check (e.g. tensors left behind). */
  notes: string[];
}

export interface CheckOptions {
  /** Throw an Error with the message when the check fails (default: env CNNVIZ_CHECK_RAISE). */
  raise?: boolean;
  /** Print the result line (default true). */
  print?: boolean;
  /** Draw your result beside the reference (default true). */
  show?: boolean;
  /** Seed of the hidden cases and the hidden 3-channel model (the grader uses its own). */
  seed?: number;
}

const results = new Map<string, CheckResult>();

/** The names only the assignment checks may record (check.close cannot claim them). */
export const GRADED_CHECKS: readonly string[] = [
  'saliency',
  'occlusion',
  'ascentStep',
  'regularize',
  'gradientAscent',
  'knn',
  'features',
  'receptiveFields',
  'receptiveBox',
  'guidedRelu',
  'guidedBackprop',
];

export class CheckFailed extends Error {
  constructor(readonly result: CheckResult) {
    super(result.message);
    this.name = 'CheckFailed';
    // The message is the whole story; a stack into cnnviz would only distract.
    this.stack = `CheckFailed: ${result.message}`;
  }
}

function raiseWanted(opt: boolean | undefined): boolean {
  if (opt !== undefined) return opt;
  const env = (process.env.CNNVIZ_CHECK_RAISE ?? '').toLowerCase();
  return env === '1' || env === 'true';
}

const MARKER = '\u2063cnnviz-check\u2063';

/**
 * A result that does not print itself again when it is a cell's last value (`await check.x(f)`):
 * the check already printed its line. Outside a kernel it inspects as a one-line summary.
 */
class Outcome implements CheckResult {
  name: string;
  passed: boolean;
  message: string;
  cases: number;
  notes: string[];
  constructor(r: CheckResult) {
    this.name = r.name;
    this.passed = r.passed;
    this.message = r.message;
    this.cases = r.cases;
    this.notes = r.notes;
  }
  [inspect.custom](): string {
    if (currentWriter()) return swallowEcho(MARKER);
    return `CheckResult<${this.name}: ${this.passed ? 'passed' : 'failed'}>`;
  }
}

/** Records, prints and (if asked) raises. */
export function finish(plain: CheckResult, opts: CheckOptions): CheckResult {
  const result = new Outcome(plain);
  results.set(result.name, result);
  if (opts.print !== false) {
    const head = result.passed ? `✓ check.${result.name} passed` : `✗ check.${result.name} failed`;
    const notes = result.notes.length ? `\n${result.notes.map((n) => `  note: ${n}`).join('\n')}` : '';
    console.log(`${head}: ${result.message}${notes}`);
  }
  if (!result.passed && raiseWanted(opts.raise)) throw new CheckFailed(result);
  return result;
}

/** Records and prints a failed check: its message, the cases run before it failed, and any notes. */
export function failed(
  name: string,
  message: string,
  cases: number,
  opts: CheckOptions,
  notes: string[] = [],
): CheckResult {
  return finish({ name, passed: false, message, cases, notes }, opts);
}

/** Whether the check of this name ran and passed in this kernel. */
export function passed(name: string): boolean {
  return results.get(name)?.passed === true;
}

/** Every check run so far in this kernel, and a line each. */
export function summary(opts: { print?: boolean } = {}): CheckResult[] {
  const all = [...results.values()];
  if (opts.print !== false) {
    if (all.length === 0) console.log('no checks have run yet');
    for (const r of all) console.log(`${r.passed ? '✓' : '✗'} ${r.name}`);
    if (all.length) console.log(`${all.filter((r) => r.passed).length} of ${all.length} checks passed`);
  }
  return all;
}

/** Forget earlier results (for tests). */
export function resetResults(): void {
  results.clear();
}

const TODO = /\bTODO\b|not implemented/i;

/** How a student's function failed, in words that say what to do. */
export function explainThrow(err: unknown, fnName: string): string {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n')[0];
  if (TODO.test(msg))
    return explain(
      `${fnName} is not implemented yet.`,
      `a result from ${fnName}`,
      `the error "${first}"`,
      `Replace the TODO in the cell that defines ${fnName}, run that cell, then run this check again`,
    );
  let hint =
    'read the error, print the shapes of your intermediate tensors (t.shape), and try your function on one image ' +
    'in a cell of its own';
  const refused = /^([\w.]+): not available inside check\.(\w+); write your own/.exec(first);
  if (refused)
    hint =
      `the check compares your code with cnnviz's ${refused[1]}, so it cannot call it for you: write the computation ` +
      `with tf operations`;
  else if (/is not a function/.test(first)) hint = 'a name is misspelled or used before the cell defining it ran';
  else if (/disposed/i.test(first))
    hint = 'a tensor was disposed too early; keep what you return out of tf.dispose, or return it from tf.tidy';
  else if (/gradient|grad/i.test(first))
    hint = 'tf.grad(f) needs f to return a scalar computed from its argument with tensor operations';
  else if (/shape|rank/i.test(first))
    hint = 'print the shapes of your intermediate tensors (t.shape) and compare them with the ones the task gives';
  return explain(`${fnName} threw an error.`, `a result from ${fnName}`, `the error "${first}"`, hint);
}

/**
 * Runs a student's function on a hidden input: its value, or the failure in words; tensors left
 * behind counted. While it runs, the cnnviz routines named in `refuse` refuse to run (see
 * runtime/guard), so the function cannot hand the work to the reference it is compared with.
 */
export async function callStudent(
  fn: unknown,
  fnName: string,
  args: unknown[],
  guard?: { check: string; refuse: readonly string[] },
): Promise<{ value?: unknown; error?: string; leaked: number }> {
  // Grading: recorded in the kernel, answered from the recording in the grader (see replay.ts).
  const hook = currentHook();
  if (hook) return hook(args, (a) => callDirect(fn, fnName, a, guard));
  return callDirect(fn, fnName, args, guard);
}

async function callDirect(
  fn: unknown,
  fnName: string,
  args: unknown[],
  guard?: { check: string; refuse: readonly string[] },
): Promise<{ value?: unknown; error?: string; leaked: number }> {
  if (typeof fn !== 'function') {
    return {
      error: explain(
        `check: your function ${fnName} is missing.`,
        `your function itself (e.g. check.x(${fnName}))`,
        fn === undefined ? 'undefined' : typeof fn,
        `run the cell that defines ${fnName} first`,
      ),
      leaked: 0,
    };
  }
  const before = tf.memory().numTensors;
  let value: unknown;
  try {
    const call = () => (fn as (...a: unknown[]) => unknown)(...args);
    value = guard ? await withRefused(guard.check, guard.refuse, call) : await call();
  } catch (err) {
    return { error: explainThrow(err, fnName), leaked: 0 };
  }
  const returned = value instanceof tf.Tensor && !value.isDisposed ? 1 : 0;
  return { value, leaked: Math.max(0, tf.memory().numTensors - before - returned) };
}

/** A check's calls of the student's function: how many so far, and the tensors they left behind. */
export class StudentCalls {
  count = 0;
  leaked = 0;

  constructor(
    private readonly fn: unknown,
    readonly fnName: string,
    private readonly guard: { check: string; refuse: readonly string[] },
  ) {}

  /**
   * callStudent on `args`, then the tensors in `copies` freed (copies of hidden inputs handed to the
   * function, so it cannot change a case), and the call and its leaks counted.
   */
  async call(args: unknown[], copies: tf.Tensor[] = []): Promise<{ value?: unknown; error?: string; leaked: number }> {
    const run = await callStudent(this.fn, this.fnName, args, this.guard);
    tf.dispose(copies);
    this.leaked += run.leaked;
    this.count++;
    return run;
  }
}

export function leakNote(leaked: number, calls: number, fnName: string): string[] {
  if (leaked <= 0) return [];
  return [
    `${fnName} left ${Math.round(leaked / calls)} tensor(s) in memory per call; wrap the work in tf.tidy(() => ` +
      `...) so they are freed`,
  ];
}

/** The name a check prints for the student's function. */
export function nameOf(fn: unknown, fallback = 'your function'): string {
  return typeof fn === 'function' && fn.name ? fn.name : fallback;
}
