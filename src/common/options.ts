/**
 * Checking option values, one helper a kind, so every message names the caller, the option,
 * the bad value and what would have been valid.
 */
import { fail } from './errors';

/** `value` if it is one of `choices` (`dflt` when undefined); else `caller: unknown option 'v'; valid choices: ...`. */
export function oneOf<T extends string>(
  value: T | undefined,
  choices: readonly T[],
  dflt: T,
  caller: string,
  option: string,
): T {
  if (value === undefined) return dflt;
  if (!choices.includes(value))
    fail(caller, `unknown ${option} '${String(value)}'; valid choices: ${choices.join(', ')}`);
  return value;
}

/** A positive integer option (`dflt` when undefined). */
export function positiveInt(
  value: number | undefined,
  dflt: number,
  caller: string,
  option: string,
  max = Infinity,
): number {
  if (value === undefined) return dflt;
  // an upper bound keeps a typo (1e9 steps) from a loop that never ends or an allocation that cannot succeed
  const most = max === Infinity ? '' : ` at most ${max}`;
  if (!Number.isInteger(value) || value < 1 || value > max)
    fail(caller, `${option} must be a positive integer${most}, got ${value}`);
  return value;
}

/** A finite number option in [min, max] (`dflt` when undefined). */
export function finiteNumber(
  value: number | undefined,
  dflt: number,
  caller: string,
  option: string,
  min = -Infinity,
  max = Infinity,
): number {
  if (value === undefined) return dflt;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = min > -Infinity || max < Infinity ? ` in [${min}, ${max}]` : '';
    fail(caller, `${option} must be a finite number${range}, got ${value}`);
  }
  return value;
}

/** [h, w] from a number or a pair, each a positive integer. */
export function pairOf(
  value: number | readonly [number, number] | undefined,
  dflt: [number, number],
  caller: string,
  option: string,
): [number, number] {
  if (value === undefined) return dflt;
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!p.every((v) => Number.isInteger(v) && v >= 1))
    fail(caller, `${option} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  return p;
}

/** An integer option in [min, max]. */
export function checkInt(caller: string, option: string, value: number, min: number, max = Infinity): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    fail(caller, `${option} must be ${range}, got ${value}`);
  }
  return value;
}

/** A numeric option in (min, max] (or [min, max] when `minExclusive` is false). */
export function checkNumber(
  caller: string,
  option: string,
  value: number,
  min: number,
  max = Infinity,
  minExclusive = true,
): number {
  const okMin = minExclusive ? value > min : value >= min;
  if (typeof value !== 'number' || !Number.isFinite(value) || !okMin || value > max) {
    const lo = minExclusive ? `> ${min}` : `>= ${min}`;
    fail(caller, `${option} must be a number ${lo}${max === Infinity ? '' : ` and <= ${max}`}, got ${value}`);
  }
  return value;
}

/** `value` if it is one of `choices`, with no default (a required choice). */
export function checkChoice<T extends string>(
  caller: string,
  option: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (!choices.includes(value as T))
    fail(caller, `unknown ${option} '${String(value)}'; valid choices: ${choices.join(', ')}`);
  return value as T;
}
