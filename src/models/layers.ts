import * as tf from '@tensorflow/tfjs';
import { INPUT_FIELD, propagate, ReceptiveField } from './receptive_field';
import { refuseInsideCheck } from '../runtime/guard';
import { fail } from '../common';

export interface LayerInfo {
  name: string;
  /** Keras class name: Conv2D, MaxPooling2D, Dense, ... */
  type: string;
  /** Output shape without the batch dimension, e.g. [28, 28, 32]. */
  outputShape: number[];
  /** Activation inside the layer ('relu', 'linear', 'softmax'), when it has one. */
  activation?: string;
  params: number;
  /** Where one output unit looks in the input; null for layers after the spatial part. */
  receptiveField: ReceptiveField | null;
}

function shapeOf(s: tf.Shape | tf.Shape[]): number[] {
  const one = Array.isArray(s[0]) ? (s as tf.Shape[])[0] : (s as tf.Shape);
  return one.slice(1).map((d) => (d === null ? -1 : d));
}

function spatial(shape: number[]): [number, number] | undefined {
  return shape.length === 3 ? [shape[0], shape[1]] : undefined;
}

/** Every layer of the model with its output shape and receptive field (exact for conv/pool stacks). */
export function layers(model: tf.LayersModel): LayerInfo[] {
  refuseInsideCheck('models.layers');
  const fields = new Map<string, ReceptiveField>();
  const out: LayerInfo[] = [];
  for (const layer of model.layers) {
    const inbound = layer.inboundNodes[0]?.inboundLayers ?? [];
    let input: ReceptiveField = INPUT_FIELD;
    // For merges, the widest incoming field stands for the union of the branches.
    for (const l of inbound) {
      const f = fields.get(l.name);
      if (f && (f.global || f.size[0] * f.size[1] > input.size[0] * input.size[1])) input = f;
    }
    const inShape = inbound.length > 0 ? shapeOf(inbound[0].outputShape) : [];
    const rf = layer.getClassName() === 'InputLayer' ? INPUT_FIELD : propagate(layer, input, spatial(inShape));
    fields.set(layer.name, rf);
    const cfg = layer.getConfig() as { activation?: string };
    out.push({
      name: layer.name,
      type: layer.getClassName(),
      outputShape: shapeOf(layer.outputShape),
      activation: typeof cfg.activation === 'string' ? cfg.activation : undefined,
      params: layer.countParams(),
      receptiveField: rf.global ? null : rf,
    });
  }
  return out;
}

/** The layer called `name`, or an error that lists the layer names. */
export function getLayer(model: tf.LayersModel, name: string, caller = 'cnnviz'): tf.layers.Layer {
  const found = model.layers.find((l) => l.name === name);
  if (!found) {
    fail(caller, `unknown layer '${name}'; layers of this model: ${model.layers.map((l) => l.name).join(', ')}`);
  }
  return found;
}

/** The receptive field of a named layer (throws for layers past the spatial part). */
export function receptiveField(model: tf.LayersModel, name: string): ReceptiveField {
  refuseInsideCheck('models.receptiveField');
  getLayer(model, name, 'models.receptiveField');
  const info = layers(model).find((l) => l.name === name)!;
  if (!info.receptiveField)
    fail('models.receptiveField', `layer '${name}' (${info.type}) sees the whole image; pick a conv or pool layer`);
  return info.receptiveField;
}
