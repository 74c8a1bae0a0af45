/** check.close: any value against a reference value, for checks a teacher writes in a notebook. */
import { compareValues, KnownMistake, readValue } from './compare';
import { CheckOptions, CheckResult, finish, GRADED_CHECKS, failed } from './report';
import { fail } from '../common';

export interface CloseOptions extends CheckOptions {
  /** Name the result is remembered under (default 'close'). */
  name?: string;
  /** What the value is, for messages (default 'your value'). */
  what?: string;
  /** Relative tolerance against the largest reference magnitude (default 1e-3). */
  tolerance?: number;
  mistakes?: KnownMistake[];
}

/** Compares a value (tensor, nested array, typed array, number) with the reference. */
export function close(yours: unknown, reference: unknown, opts: CloseOptions = {}): CheckResult {
  const name = opts.name ?? 'close';
  if (GRADED_CHECKS.includes(name))
    fail(
      'check.close',
      `the name '${name}' belongs to check.${name}, which runs your function on hidden inputs; record ` +
        `your own comparisons under another name (got name '${name}'; taken: ${GRADED_CHECKS.join(', ')})`,
    );
  const what = opts.what ?? 'your value';
  const got = readValue(yours, what);
  if (typeof got === 'string') return failed(name, got, 0, opts);
  const ref = readValue(reference, 'the reference');
  if (typeof ref === 'string') fail('check.close', ref);
  const cmp = compareValues(got, ref, { what, tolerance: opts.tolerance, mistakes: opts.mistakes });
  return finish(
    { name, passed: cmp.ok, message: cmp.ok ? `${what} matches the reference` : cmp.message, cases: 1, notes: [] },
    opts,
  );
}
