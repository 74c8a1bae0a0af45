import { fail } from '../common';
/**
 * While an assignment check runs a student's function, the cnnviz routines that check grades
 * refuse to run: a student who wraps `saliency` inside `mySaliency` learns why the check fails
 * instead of passing by comparing the library with itself. A technique calls `refuseInsideCheck`
 * first thing at its public entry; the checks (src/check) open and close the window around each
 * call of the student's function. Outside a check this is one Map lookup.
 *
 * Called from: saliency, smoothGrad, integratedGradients, gradCam, guidedGradCam, occlusion,
 * kernelShap, classVisualization, guidedBackprop, deconvnet, featureVectors, nearestNeighbors
 * (techniques/), models.layers, models.receptiveField,
 * propagate, inputBox (models/). A technique that a check should refuse adds one line at its entry.
 *
 * A teaching aid, not a defence: code in the same process can always go around it. `cnnviz grade`
 * does not rely on it (the checks are judged outside the kernel, see check/judge.ts), and there is
 * no way in this module to lift the refusals (an `allowAll` once here was used by a hostile
 * submission to call the reference from inside its own function).
 */

/** technique name -> the check that refuses it right now. */
const refused = new Map<string, string>();

/** Throws when `name` is refused by the check now running a student's function. */
export function refuseInsideCheck(name: string): void {
  const check = refused.get(name);
  if (check !== undefined) fail(name, `not available inside check.${check}; write your own`);
}

/** Runs `fn` (a student's function) with `names` refused; restored afterwards, even on a throw. */
export async function withRefused<T>(check: string, names: readonly string[], fn: () => T | Promise<T>): Promise<T> {
  const before = names.map((n) => [n, refused.get(n)] as const);
  for (const n of names) refused.set(n, check);
  try {
    return await fn();
  } finally {
    for (const [n, old] of before) {
      if (old === undefined) refused.delete(n);
      else refused.set(n, old);
    }
  }
}
