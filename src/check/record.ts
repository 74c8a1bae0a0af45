/**
 * The grader's side inside the kernel: `cnnviz grade` puts a hidden cell in place of each check
 * cell, which runs the check on the student's function with the grader's seed (other hidden
 * images, another hidden 3-channel model) and appends one JSON line to the
 * grader's file: the values the student's function returned on the grader's inputs. The grader
 * judges them in its own process (judge.ts); nothing the kernel says is counted.
 */
import * as fs from 'fs';
import { ascentStep, gradientAscent, regularize } from './ascent';
import { occlusion } from './occlusion';
import { CheckOptions, CheckResult } from './report';
import { RecordedCall, recordingHook, setHook } from './replay';
import { guidedBackprop, guidedRelu } from './guided';
import { features, knn } from './knn';
import { receptiveBox, receptiveFields } from './receptive';
import { saliency } from './saliency';
import { fail } from '../common';

type AnyCheck = (fn: never, opts: CheckOptions) => Promise<CheckResult>;

const CHECKS: Record<string, AnyCheck> = {};

/** Makes a check gradable by name (the checks are registered just below, one line each). */
export function registerCheck(name: string, fn: AnyCheck): void {
  CHECKS[name] = fn;
}

registerCheck('saliency', saliency as AnyCheck);
registerCheck('occlusion', occlusion as AnyCheck);
registerCheck('ascentStep', ascentStep as AnyCheck);
registerCheck('regularize', regularize as AnyCheck);
registerCheck('gradientAscent', gradientAscent as AnyCheck);
registerCheck('knn', knn as AnyCheck);
registerCheck('features', features as AnyCheck);
registerCheck('receptiveFields', receptiveFields as AnyCheck);
registerCheck('receptiveBox', receptiveBox as AnyCheck);
registerCheck('guidedRelu', guidedRelu as AnyCheck);
registerCheck('guidedBackprop', guidedBackprop as AnyCheck);

/** One line of the kernel's recording file: what the student's function returned on the grader's inputs. */
export interface GradedLine {
  check: string;
  /** The kernel's own verdict: never counted, only compared with the grader's (a difference means tampering). */
  passed: boolean;
  message: string;
  calls: RecordedCall[];
  seconds: number;
}

/** The check of this name (the grader runs it again in its own process on the recorded values). */
export function checkNamed(name: string): AnyCheck | undefined {
  return Object.prototype.hasOwnProperty.call(CHECKS, name) ? CHECKS[name] : undefined;
}

/**
 * In the sandboxed kernel: runs one hidden check on the student's function with the grader's
 * seed, records every call of the function (replay.ts), and appends the recording to `file`.
 * Never throws.
 */
export async function gradeOne(o: { check: string; fn: unknown; seed: number; file: string }): Promise<void> {
  const t0 = Date.now();
  const run = checkNamed(o.check);
  const calls: RecordedCall[] = [];
  let r: Pick<CheckResult, 'passed' | 'message'>;
  const before = setHook(recordingHook(calls));
  try {
    if (!run) fail('check.gradeOne', `unknown check '${o.check}'; known: ${Object.keys(CHECKS).join(', ')}`);
    r = await run(o.fn as never, { seed: o.seed, show: false, print: true, raise: false });
  } catch (err) {
    r = { passed: false, message: `the check could not run: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    setHook(before);
  }
  const line: GradedLine = {
    check: o.check,
    passed: r.passed === true,
    message: r.message,
    calls,
    seconds: (Date.now() - t0) / 1000,
  };
  fs.appendFileSync(o.file, `${JSON.stringify(line)}\n`);
}
