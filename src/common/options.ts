/**
 * Checking option values: one family, caller first like `fail(caller, ...)`, so every message names the
 * caller, the option, the bad value and what would have been valid. `dflt` is what an undefined value
 * means; it is the caller's own choice and is not checked (pass `opts.x ?? d` as the value to check it).
 */
import { fail } from './errors';

/** Bounds of an integer option: `min` (1 unless given) to `max` (no upper bound unless given). */
export interface IntBounds {
  min?: number;
  max?: number;
  dflt?: number;
}

/** Bounds of a number option: `min` (inclusive) or `above` (exclusive), and `max` (inclusive). */
export interface NumberBounds {
  min?: number;
  above?: number;
  max?: number;
  dflt?: number;
}

/**
 * An integer option in [min, max] (min 1 unless given): `caller: k must be a positive integer, got 0`,
 * `... a positive integer at most 10000`, `... an integer >= 0`, `... an integer in [2, 9]`.
 */
export function checkInt(caller: string, option: string, value: unknown, bounds: IntBounds = {}): number {
  if (value === undefined && bounds.dflt !== undefined) return bounds.dflt;
  const { min = 1, max = Infinity } = bounds;
  // an upper bound keeps a typo (1e9 steps) from a loop that never ends or an allocation that cannot succeed
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const most = max === Infinity ? '' : ` at most ${max}`;
    const range =
      min === 1
        ? `a positive integer${most}`
        : max === Infinity
          ? `an integer >= ${min}`
          : `an integer in [${min}, ${max}]`;
    fail(caller, `${option} must be ${range}, got ${String(value)}`);
  }
  return value;
}

/**
 * A finite number option within its bounds: `caller: theta must be a finite number > 0, got -1`,
 * `... >= 0`, `... <= 1`, `... in [0, 100]`, `... in (0, 19]`.
 */
export function checkNumber(caller: string, option: string, value: unknown, bounds: NumberBounds = {}): number {
  if (value === undefined && bounds.dflt !== undefined) return bounds.dflt;
  const { min = -Infinity, above = -Infinity, max = Infinity } = bounds;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value <= above || value > max) {
    fail(caller, `${option} must be a finite number${rangeText(bounds)}, got ${String(value)}`);
  }
  return value;
}

function rangeText({ min, above, max }: NumberBounds): string {
  const lower =
    above !== undefined
      ? { open: '(', op: '>', at: above }
      : min !== undefined
        ? { open: '[', op: '>=', at: min }
        : null;
  if (lower && max !== undefined) return ` in ${lower.open}${lower.at}, ${max}]`;
  if (lower) return ` ${lower.op} ${lower.at}`;
  return max !== undefined ? ` <= ${max}` : '';
}

/** `value` if one of `choices` (`dflt` when undefined, if given); else `caller: unknown x 'v'; valid choices: a, b`. */
export function checkChoice<T extends string>(
  caller: string,
  option: string,
  value: unknown,
  choices: readonly T[],
  dflt?: T,
): T {
  if (value === undefined && dflt !== undefined) return dflt;
  if (!choices.includes(value as T))
    fail(caller, `unknown ${option} '${String(value)}'; valid choices: ${choices.join(', ')}`);
  return value as T;
}

/** [h, w] from a number or a pair, each a positive integer (`dflt` when undefined). */
export function checkPair(
  caller: string,
  option: string,
  value: number | readonly [number, number] | undefined,
  dflt: [number, number],
): [number, number] {
  if (value === undefined) return dflt;
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!p.every((v) => Number.isInteger(v) && v >= 1))
    fail(caller, `${option} must be a positive integer or a pair of them, got ${JSON.stringify(value)}`);
  return p;
}
