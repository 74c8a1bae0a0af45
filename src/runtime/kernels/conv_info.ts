import * as tf from '@tensorflow/tfjs';

export type PadAttr = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: PadAttr;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: [number, number] | number;
}

/** The conv geometry of a gradient kernel, NHWC only (the only layout the wasm backend runs). */
export function convInfoFor(
  kernel: string,
  xShape: number[],
  filterShape: number[],
  attrs: ConvGradAttrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  if (attrs.dataFormat === 'NCHW') {
    throw new Error(`cnnviz: ${kernel} on wasm got dataFormat 'NCHW'; valid choices: 'NHWC'`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}

/**
 * Rows a conv reads, and the padding after the input that makes exactly that many
 * (negative: that many trailing input rows are never read).
 */
export function trailingPad(
  inSize: number,
  before: number,
  outSize: number,
  stride: number,
  kernel: number,
  dilation: number,
): number {
  const needed = (kernel - 1) * dilation + (outSize - 1) * stride + 1;
  return needed - inSize - before;
}
