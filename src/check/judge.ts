/**
 * The grader's verdict on one check: the check runs in the grader's process, on the grader's
 * hidden inputs and reference, with the student's function answered from the values the
 * sandboxed kernel recorded (replay.ts). Nothing the kernel says about passing is counted; where
 * the kernel's own verdict or its recording disagrees with the grader's, the report says so.
 */
import { checkNamed } from './record';
import { replayHook, ReplayTrouble, setHook } from './replay';
import { fail } from '../common';

export interface Judgement {
  passed: boolean;
  message: string;
  /** Set when the recording shows the kernel's check code or files were changed. */
  tampered?: string;
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `work` after the judgements before it: the replay hook is one per process. */
function inTurn<T>(work: () => Promise<T>): Promise<T> {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
}

/** The student's function as the check sees it: only its name (the recording answers the calls). */
function standIn(fnName: string): () => never {
  const f = () => {
    fail('check', 'the grader answers from the recording');
  };
  Object.defineProperty(f, 'name', { value: fnName });
  return f;
}

/** Judges one recorded line (untrusted JSON from the kernel's folder) for `check`. Never throws. */
export function judge(check: string, fnName: string, seed: number, line: unknown): Promise<Judgement> {
  return inTurn(async () => {
    const run = checkNamed(check);
    if (!run) return { passed: false, message: `the grader knows no check '${check}'` };
    const rec = (typeof line === 'object' && line !== null ? line : {}) as { calls?: unknown; passed?: unknown };
    const calls = Array.isArray(rec.calls) ? rec.calls : [];
    const trouble: ReplayTrouble = { missing: 0, mismatched: 0, bad: [] };
    const before = setHook(replayHook(calls, trouble));
    let passed = false;
    let message: string;
    try {
      const r = await run(standIn(fnName) as never, { seed, show: false, print: false, raise: false });
      passed = r.passed === true;
      message = r.message;
    } catch (err) {
      message = `the check could not run in the grader: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      setHook(before);
    }
    const tampered: string[] = [];
    if (!Array.isArray(rec.calls)) tampered.push('the kernel wrote a result line without the recorded values');
    else if (trouble.missing) tampered.push(`the kernel recorded ${calls.length} calls, fewer than the check makes`);
    if (trouble.mismatched) tampered.push("the kernel recorded values made on inputs other than the grader's");
    if (trouble.bad.length) tampered.push(`the recording could not be read (${trouble.bad[0]})`);
    if (rec.passed === true && !passed)
      tampered.push("the kernel said the check passed; the grader's judgement of the same values failed it");
    if (tampered.length && passed) passed = false;
    return tampered.length
      ? {
          passed,
          message,
          tampered: `${tampered.join('; ')} (check, library or grader code in the kernel was changed)`,
        }
      : { passed, message };
  });
}
