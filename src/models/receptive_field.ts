import * as tf from '@tensorflow/tfjs';
import { refuseInsideCheck } from '../runtime/guard';

/**
 * Where a unit of a layer looks in the input image. Unit (y, x) of the layer's output sees
 * input rows offset[0] + y*stride[0] ... + size[0] - 1 (and likewise columns); offsets
 * below 0 or ends past the image are padding.
 */
export interface ReceptiveField {
  size: [number, number];
  stride: [number, number];
  offset: [number, number];
  /** True once a layer mixes all positions (Dense, Flatten, global pooling). */
  global?: boolean;
}

export interface InputBox {
  /** Clipped to the image: rows top..bottom-1, columns left..right-1. */
  top: number;
  left: number;
  bottom: number;
  right: number;
  /** How much of the receptive field fell outside the image on each side. */
  padding: { top: number; left: number; bottom: number; right: number };
}

export const INPUT_FIELD: ReceptiveField = { size: [1, 1], stride: [1, 1], offset: [0, 0] };

function pair(v: number | number[] | undefined, dflt: number): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt];
  if (typeof v === 'number') return [v, v];
  return [v[0], v.length > 1 ? v[1] : v[0]];
}

/** TensorFlow's 'same' padding before the first row/column for one axis. */
function samePadBefore(inSize: number, k: number, s: number): number {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  return Math.floor(total / 2);
}

interface SpatialConfig {
  kernelSize?: number | number[];
  poolSize?: number | number[];
  strides?: number | number[];
  dilationRate?: number | number[];
  padding?: string | number | number[][];
  cropping?: number | number[][];
}

/** Receptive field of a layer's output given the field of its input and the input's spatial size. */
export function propagate(
  layer: tf.layers.Layer,
  input: ReceptiveField,
  inSize: [number, number] | undefined,
): ReceptiveField {
  refuseInsideCheck('models.propagate');
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as SpatialConfig;
  if (input.global) return input;
  const conv = [
    'Conv2D',
    'DepthwiseConv2D',
    'SeparableConv2D',
    'MaxPooling2D',
    'AveragePooling2D',
    'MaxPool2D',
    'AvgPool2D',
  ];
  if (conv.includes(cls)) {
    const k = pair(cfg.kernelSize ?? cfg.poolSize, 1);
    const s = pair(cfg.strides ?? (cfg.poolSize !== undefined ? cfg.poolSize : 1), 1);
    const d = pair(cfg.dilationRate, 1);
    const kEff: [number, number] = [d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1];
    const pad: [number, number] =
      cfg.padding === 'same' && inSize
        ? [samePadBefore(inSize[0], kEff[0], s[0]), samePadBefore(inSize[1], kEff[1], s[1])]
        : [0, 0];
    return {
      size: [input.size[0] + (kEff[0] - 1) * input.stride[0], input.size[1] + (kEff[1] - 1) * input.stride[1]],
      stride: [input.stride[0] * s[0], input.stride[1] * s[1]],
      offset: [input.offset[0] - pad[0] * input.stride[0], input.offset[1] - pad[1] * input.stride[1]],
    };
  }
  if (cls === 'ZeroPadding2D') {
    const p = cfg.padding as number | number[][];
    const [top, left] = typeof p === 'number' ? [p, p] : [p[0][0], p[1][0]];
    return { ...input, offset: [input.offset[0] - top * input.stride[0], input.offset[1] - left * input.stride[1]] };
  }
  if (cls === 'Cropping2D') {
    const c = cfg.cropping as number | number[][];
    const [top, left] = typeof c === 'number' ? [c, c] : [c[0][0], c[1][0]];
    return { ...input, offset: [input.offset[0] + top * input.stride[0], input.offset[1] + left * input.stride[1]] };
  }
  const global = [
    'Flatten',
    'Dense',
    'GlobalAveragePooling2D',
    'GlobalMaxPooling2D',
    'GlobalAvgPool2D',
    'GlobalMaxPool2D',
    'Reshape',
  ];
  if (global.includes(cls)) return { ...input, global: true };
  // Element-wise layers (activations, batch norm, dropout, merges of aligned branches) keep the field.
  return input;
}

/** The input box seen by unit (y, x), clipped to an image of size [height, width]. */
export function inputBox(rf: ReceptiveField, y: number, x: number, imageSize: [number, number]): InputBox {
  refuseInsideCheck('models.inputBox');
  const top0 = rf.offset[0] + y * rf.stride[0];
  const left0 = rf.offset[1] + x * rf.stride[1];
  const bottom0 = top0 + rf.size[0];
  const right0 = left0 + rf.size[1];
  const [h, w] = imageSize;
  return {
    top: Math.max(0, top0),
    left: Math.max(0, left0),
    bottom: Math.min(h, bottom0),
    right: Math.min(w, right0),
    padding: {
      top: Math.max(0, -top0),
      left: Math.max(0, -left0),
      bottom: Math.max(0, bottom0 - h),
      right: Math.max(0, right0 - w),
    },
  };
}
