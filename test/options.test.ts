import * as assert from 'assert';
import { checkChoice, checkInt, checkNumber, checkPair } from '../src/common';

// The one option-check family: caller first, every message names the caller, the option, the bad value and what
// would have been valid; an undefined value takes the caller's default, which is not checked.
describe('option checks (common/options)', () => {
  it('checkInt: the value, the default, the bounds and the message for each kind of range', () => {
    assert.strictEqual(checkInt('f', 'k', 3), 3);
    assert.strictEqual(checkInt('f', 'k', undefined, { dflt: 9 }), 9);
    assert.strictEqual(checkInt('f', 'k', undefined, { dflt: 50, max: 10 }), 50, 'the default is the caller’s own');
    assert.strictEqual(checkInt('f', 'k', 0, { min: 0 }), 0);
    assert.strictEqual(checkInt('f', 'k', 10, { max: 10 }), 10);
    assert.throws(() => checkInt('f', 'k', 0), /^Error: f: k must be a positive integer, got 0$/);
    assert.throws(() => checkInt('f', 'k', 2.5, { dflt: 1 }), /^Error: f: k must be a positive integer, got 2\.5$/);
    assert.throws(() => checkInt('f', 'k', '3'), /^Error: f: k must be a positive integer, got 3$/);
    assert.throws(() => checkInt('f', 'k', undefined), /^Error: f: k must be a positive integer, got undefined$/);
    assert.throws(
      () => checkInt('f', 'steps', 11, { max: 10 }),
      /^Error: f: steps must be a positive integer at most 10, got 11$/,
    );
    assert.throws(() => checkInt('f', 'n', -1, { min: 0 }), /^Error: f: n must be an integer >= 0, got -1$/);
    assert.throws(
      () => checkInt('f', 'n', 10, { min: 2, max: 9 }),
      /^Error: f: n must be an integer in \[2, 9\], got 10$/,
    );
    assert.throws(() => checkInt('f', 'n', NaN, { min: 0 }), /got NaN$/);
  });

  it('checkNumber: inclusive and exclusive lower bounds, an upper bound, finite only', () => {
    assert.strictEqual(checkNumber('f', 'x', -3.5), -3.5);
    assert.strictEqual(checkNumber('f', 'x', undefined, { dflt: 0.15, min: 0 }), 0.15);
    assert.strictEqual(checkNumber('f', 'x', 0, { min: 0 }), 0);
    assert.strictEqual(checkNumber('f', 'x', 1, { above: 0, max: 1 }), 1);
    assert.throws(() => checkNumber('f', 'x', Infinity), /^Error: f: x must be a finite number, got Infinity$/);
    assert.throws(() => checkNumber('f', 'x', -1, { min: 0 }), /^Error: f: x must be a finite number >= 0, got -1$/);
    assert.throws(() => checkNumber('f', 'x', 0, { above: 0 }), /^Error: f: x must be a finite number > 0, got 0$/);
    assert.throws(() => checkNumber('f', 'x', 2, { max: 1 }), /^Error: f: x must be a finite number <= 1, got 2$/);
    assert.throws(
      () => checkNumber('f', 'p', 150, { min: 0, max: 100 }),
      /^Error: f: p must be a finite number in \[0, 100\], got 150$/,
    );
    assert.throws(
      () => checkNumber('f', 'p', 0, { above: 0, max: 19 }),
      /^Error: f: p must be a finite number in \(0, 19\], got 0$/,
    );
    assert.throws(() => checkNumber('f', 'p', 'a', { min: 0 }), /got a$/);
  });

  it('checkChoice: a choice, the default, and every valid choice listed', () => {
    const modes = ['heat', 'blended'] as const;
    assert.strictEqual(checkChoice('f', 'mode', 'heat', modes), 'heat');
    assert.strictEqual(checkChoice('f', 'mode', undefined, modes, 'blended'), 'blended');
    assert.throws(
      () => checkChoice('f', 'mode', 'x', modes, 'heat'),
      /^Error: f: unknown mode 'x'; valid choices: heat, blended$/,
    );
    assert.throws(
      () => checkChoice('f', 'mode', undefined, modes),
      /^Error: f: unknown mode 'undefined'; valid choices: heat, blended$/,
    );
  });

  it('checkPair: a number or a pair, the default', () => {
    assert.deepStrictEqual(checkPair('f', 'window', 3, [1, 1]), [3, 3]);
    assert.deepStrictEqual(checkPair('f', 'window', [2, 5], [1, 1]), [2, 5]);
    assert.deepStrictEqual(checkPair('f', 'window', undefined, [4, 4]), [4, 4]);
    assert.throws(
      () => checkPair('f', 'stride', [2, 0], [1, 1]),
      /^Error: f: stride must be a positive integer or a pair of them, got \[2,0\]$/,
    );
  });

  it('a call wrapped by named() keeps the check’s own caller', () => {
    // BY_WRAPPER ('') is the caller of widget code: the message is plain and the wrapper names it
    assert.throws(
      () => checkChoice('', 'sign', 'both', ['all'] as const),
      /^Error: unknown sign 'both'; valid choices: all$/,
    );
  });
});
