/**
 * The grader's side inside the kernel: `cnnviz grade` puts a hidden cell in place of each check
 * cell, which runs the check on the student's function with the grader's seed (other hidden
 * images, another hidden 3-channel model) and appends the result as one JSON line to the
 * grader's file. The token, fresh per grading run, marks the lines the grader wrote.
 */
import * as fs from 'fs';
import { ascentStep, gradientAscent, regularize } from './ascent';
import { occlusion } from './occlusion';
import { CheckOptions, CheckResult } from './report';
import { guidedBackprop, guidedRelu } from './guided';
import { features, knn } from './knn';
import { receptiveBox, receptiveFields } from './receptive';
import { saliency } from './saliency';

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

export interface GradedLine {
  token: string;
  check: string;
  passed: boolean;
  message: string;
  cases: number;
  notes: string[];
  seconds: number;
}

/** Runs one hidden check for the grader and appends its result to `file`. Never throws. */
export async function gradeOne(o: {
  check: string;
  fn: unknown;
  seed: number;
  file: string;
  token: string;
}): Promise<void> {
  const t0 = Date.now();
  const run = CHECKS[o.check];
  let r: Pick<CheckResult, 'passed' | 'message' | 'cases' | 'notes'>;
  if (!run)
    r = {
      passed: false,
      message: `check.gradeOne: unknown check '${o.check}'; known: ${Object.keys(CHECKS).join(', ')}`,
      cases: 0,
      notes: [],
    };
  else {
    try {
      r = await run(o.fn as never, { seed: o.seed, show: false, print: true, raise: false });
    } catch (err) {
      r = {
        passed: false,
        message: `the check could not run: ${err instanceof Error ? err.message : String(err)}`,
        cases: 0,
        notes: [],
      };
    }
  }
  const line: GradedLine = {
    token: o.token,
    check: o.check,
    passed: r.passed === true,
    message: r.message,
    cases: r.cases,
    notes: r.notes,
    seconds: (Date.now() - t0) / 1000,
  };
  fs.appendFileSync(o.file, `${JSON.stringify(line)}\n`);
}
