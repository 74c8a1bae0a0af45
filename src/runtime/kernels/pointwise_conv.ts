import * as tf from '@tensorflow/tfjs';
import { GEMM_ACTIVATIONS, GemmActivation, pointwise } from './gemm';
import { WasmOps } from './wasm_ops';

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: [number, number] | number;
  activation?: string;
}

/** True for the geometry of a 1x1 conv at stride 1 with no padding (dilation means nothing for 1x1): a product. */
export function isPointwiseInfo(info: tf.backend_util.Conv2DInfo): boolean {
  const { top, bottom, left, right } = info.padInfo;
  return (
    info.filterHeight === 1 &&
    info.filterWidth === 1 &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    top + bottom + left + right === 0 &&
    info.outHeight === info.inHeight &&
    info.outWidth === info.inWidth
  );
}

/** True for a 1x1 NHWC conv at stride 1 with no padding: a matrix product. */
function isPointwise(x: tf.TensorInfo, filter: tf.TensorInfo, a: ConvAttrs): boolean {
  if (a.dataFormat === 'NCHW' || x.shape.length !== 4 || filter.shape.length !== 4) return false;
  if (filter.shape[0] !== 1 || filter.shape[1] !== 1) return false;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
  );
  return isPointwiseInfo(info);
}

/** Conv2D: pointwise layers on our loop (./gemm), everything else on the built-in. */
export const conv2DConfig: tf.KernelConfig = {
  kernelName: 'Conv2D',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const ops = new WasmOps(backend as tf.KernelBackend);
    const out = isPointwise(x, filter, attrs as unknown as ConvAttrs) ? pointwise(ops, x, filter) : undefined;
    return out ?? ops.run('Conv2D', { x, filter }, attrs as Record<string, unknown>);
  },
};

/**
 * FusedConv2D (conv + bias + activation, what a folded network runs): pointwise layers with a
 * rank-1 bias and a linear, ReLU or ReLU6 activation on our loop, the rest on the built-in.
 */
export const fusedConv2DConfig: tf.KernelConfig = {
  kernelName: 'FusedConv2D',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const given = inputs as Record<string, tf.TensorInfo | undefined>;
    const { x, filter, bias, preluActivationWeights } = given as { x: tf.TensorInfo; filter: tf.TensorInfo } & {
      bias?: tf.TensorInfo;
      preluActivationWeights?: tf.TensorInfo;
    };
    const a = attrs as unknown as ConvAttrs;
    const ops = new WasmOps(backend as tf.KernelBackend);
    const activation = (a.activation ?? 'linear') as GemmActivation;
    const ours =
      !preluActivationWeights &&
      (GEMM_ACTIVATIONS as readonly string[]).includes(activation) &&
      (!bias || bias.shape.length === 1) &&
      isPointwise(x, filter, a);
    const out = ours ? pointwise(ops, x, filter, { bias, activation }) : undefined;
    return out ?? ops.run('FusedConv2D', given as Record<string, tf.TensorInfo>, attrs as Record<string, unknown>);
  },
};
