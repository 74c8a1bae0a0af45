// Argument checks the short forms of notebooks 00, 01, 05, 08 share: a layer by name, where a misspelt name gets
// the model's layer names (a small model's all, a large one's closest: MobileNet has 90).
import type * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import { editDistance } from '../models/class_names';

/** The `count` names closest to `query` by edit distance (ties: in the given order). */
export function closestNames(query: string, names: readonly string[], count = 5): string[] {
  const q = query.toLowerCase();
  return names
    .map((name, i) => ({ name, i, d: editDistance(q, name.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, count)
    .map((s) => s.name);
}

/** Up to this many layers, a misspelt layer gets them all; beyond, the closest five. */
const LIST_ALL = 16;

/**
 * The layer called `name`; else `caller: unknown layer 'x'; valid choices: ...` (a small model) or
 * `...; did you mean conv_pw_11_relu, ...? (90 layers: models.layers(net) lists them)`.
 */
export function layerOf(model: tf.LayersModel, name: unknown, caller: string): tf.layers.Layer {
  const found = typeof name === 'string' ? model.layers.find((l) => l.name === name) : undefined;
  if (found) return found;
  const names = model.layers.map((l) => l.name);
  const what = typeof name === 'string' ? `'${name}'` : String(name);
  if (names.length <= LIST_ALL) fail(caller, `unknown layer ${what}; valid choices: ${names.join(', ')}`);
  const near = closestNames(String(name), names).join(', ');
  return fail(
    caller,
    `unknown layer ${what}; did you mean ${near}? (${names.length} layers: models.layers(net) lists them)`,
  );
}

/** The layer's output [H, W, C] of a conv or pool layer (after the batch dimension), or an error naming it. */
export function mapShapeOf(model: tf.LayersModel, name: unknown, caller: string): [number, number, number] {
  const layer = layerOf(model, name, caller);
  const shape = layer.outputShape as number[];
  if (shape.length !== 4) {
    fail(caller, `layer '${layer.name}' has no maps (output [${shape.join(', ')}]); pick a conv or pool layer`);
  }
  return [shape[1], shape[2], shape[3]];
}
