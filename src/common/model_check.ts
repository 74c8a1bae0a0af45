/**
 * "Is this a model?" before a technique touches it: `saliency({}, x)` gets an error that names the
 * function and what it expected instead of a TypeError from deep inside. Duck-typed (no tfjs import),
 * so a model from another copy of TensorFlow.js (tslab loads its own) passes.
 */
import { fail } from './errors';

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v !== 'object') return `${typeof v} ${String(v).slice(0, 40)}`;
  const name = (v as object).constructor?.name;
  const keys = Object.keys(v as object).slice(0, 5);
  const what = name && name !== 'Object' ? `a ${name}` : 'an object';
  return `${what}${keys.length ? ` with keys ${keys.join(', ')}` : ' {}'}`;
}

/** Throws `caller: expected a tf.LayersModel ...` unless `model` has layers, inputs and predict. */
export function checkModel(model: unknown, caller: string): void {
  const m = model as { layers?: unknown; inputs?: unknown; predict?: unknown } | null;
  if (
    !m ||
    typeof m !== 'object' ||
    !Array.isArray(m.layers) ||
    !Array.isArray(m.inputs) ||
    typeof m.predict !== 'function'
  )
    fail(
      caller,
      `expected a tf.LayersModel (from models.load or tf.loadLayersModel) as the model, got ${describe(model)}`,
    );
}
