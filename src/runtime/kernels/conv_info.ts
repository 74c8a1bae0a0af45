import * as tf from '@tensorflow/tfjs';
import { WasmOps } from './wasm_ops';

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

type Shape4 = [number, number, number, number];

/**
 * A wasm kernel for a conv gradient: dX from dY and the filter (the input's shape among the
 * attributes), or dW from x and dY (the filter's shape among them). `grad` gets the conv
 * geometry and the filter's shape.
 */
export function convGradKernel(
  kernelName: string,
  of: 'input' | 'filter',
  depthwise: boolean,
  grad: (
    ops: WasmOps,
    inputs: Record<string, tf.TensorInfo>,
    info: tf.backend_util.Conv2DInfo,
    filterShape: Shape4,
  ) => tf.TensorInfo,
): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const given = inputs as Record<string, tf.TensorInfo>;
      const a = attrs as unknown as ConvGradAttrs & { inputShape: Shape4; filterShape: Shape4 };
      const xShape = of === 'input' ? a.inputShape : (given.x.shape as Shape4);
      const filterShape = of === 'input' ? (given.filter.shape as Shape4) : a.filterShape;
      const info = convInfoFor(kernelName, xShape, filterShape, a, depthwise);
      return grad(new WasmOps(backend as tf.KernelBackend), given, info, filterShape);
    },
  };
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
