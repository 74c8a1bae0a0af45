/**
 * Which layer Grad-CAM taps by default. Only tfjs is imported, so the explorer page
 * (explorer/compute.ts) bundles this same module and picks the same layer as gradCam().
 */
import * as tf from '@tensorflow/tfjs';

/** Layers that keep a map's shape element by element: the CAM layer is followed through them. */
const ELEMENTWISE = ['BatchNormalization', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'Dropout'];

/** Layers whose output is a spatial map [N, h, w, c]. */
export function spatialLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.filter((l) => {
    const s = (Array.isArray(l.outputShape[0]) ? l.outputShape[0] : l.outputShape) as (number | null)[];
    return s.length === 4 && l.getClassName() !== 'InputLayer';
  });
}

/** True when the layer's output is a spatial map larger than 1x1 (or of open size). */
function largerThanOne(l: tf.layers.Layer): boolean {
  const s = (Array.isArray(l.outputShape[0]) ? l.outputShape[0] : l.outputShape) as (number | null)[];
  return s[1] === null || s[2] === null || (s[1] as number) * (s[2] as number) > 1;
}

/**
 * The end of the last convolution block whose map is larger than 1x1 (the last such conv, followed
 * through its batch norm and activation layers), else the last layer with a spatial map larger than
 * 1x1; null when there is none.
 */
export function camLayerName(model: tf.LayersModel): string | null {
  const spatial = spatialLayers(model).filter(largerThanOne);
  const convs = spatial.filter((l) => /Conv/.test(l.getClassName()));
  let pick = convs[convs.length - 1] ?? spatial[spatial.length - 1];
  if (!pick) return null;
  for (let i = model.layers.indexOf(pick) + 1; i < model.layers.length; i++) {
    const next = model.layers[i];
    const input = next.inboundNodes[0]?.inboundLayers ?? [];
    if (!ELEMENTWISE.includes(next.getClassName()) || input.length !== 1 || input[0] !== pick) break;
    pick = next;
  }
  return pick.name;
}
