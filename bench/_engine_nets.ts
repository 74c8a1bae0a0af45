/**
 * The three architectures of the engine benchmark, built the same way in bench/engine_torch.py:
 * (a) the shipped lecture CNN (fashion-cnn) on 28x28x1, (b) a VGG-style stack on 64x64x3,
 * (c) a MobileNet-style depthwise-separable net on 96x96x3. Every net ends in a softmax.
 */
import * as tf from '@tensorflow/tfjs';
import { lectureCnn } from '../src/models/architectures';

export type NetName = 'fashion-cnn' | 'vgg' | 'mobilenet';
export const NET_NAMES: readonly NetName[] = ['fashion-cnn', 'vgg', 'mobilenet'];

export interface NetSpec {
  name: NetName;
  inputShape: [number, number, number];
  batch: number;
  build: (seed: number) => tf.LayersModel;
}

function he(seed: number): ReturnType<typeof tf.initializers.heNormal> {
  return tf.initializers.heNormal({ seed });
}

/** conv 64-64-pool-128-128-pool-256-256-pool, then a dense classifier. */
export function vggStyle(seed = 1): tf.Sequential {
  const m = tf.sequential({ name: 'vgg_style' });
  let k = 0;
  const conv = (filters: number, first = false): void => {
    m.add(
      tf.layers.conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: he(seed * 100 + k++),
        ...(first ? { inputShape: [64, 64, 3] } : {}),
      }),
    );
  };
  conv(64, true);
  conv(64);
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  conv(128);
  conv(128);
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  conv(256);
  conv(256);
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + k }) }));
  m.add(tf.layers.activation({ activation: 'softmax' }));
  return m;
}

/**
 * conv 3x3/2 (32), then depthwise 3x3 + pointwise blocks (64, 128/2, 128, 256/2, 256, 512/2),
 * each followed by batch norm and ReLU6, global average pool, dense 10.
 */
export function mobileNetStyle(seed = 1): tf.Sequential {
  const m = tf.sequential({ name: 'mobilenet_style' });
  let k = 0;
  const bnRelu = (): void => {
    m.add(tf.layers.batchNormalization({}));
    m.add(tf.layers.reLU({ maxValue: 6 }));
  };
  m.add(
    tf.layers.conv2d({
      inputShape: [96, 96, 3],
      filters: 32,
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      useBias: false,
      kernelInitializer: he(seed * 100 + k++),
    }),
  );
  bnRelu();
  for (const [filters, stride] of [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
  ]) {
    m.add(
      tf.layers.depthwiseConv2d({
        kernelSize: 3,
        strides: stride,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: he(seed * 100 + k++),
      }),
    );
    bnRelu();
    m.add(
      tf.layers.conv2d({
        filters,
        kernelSize: 1,
        padding: 'same',
        useBias: false,
        kernelInitializer: he(seed * 100 + k++),
      }),
    );
    bnRelu();
  }
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + k }) }));
  m.add(tf.layers.activation({ activation: 'softmax' }));
  return m;
}

export const NETS: Record<NetName, NetSpec> = {
  'fashion-cnn': { name: 'fashion-cnn', inputShape: [28, 28, 1], batch: 64, build: (seed) => lectureCnn({ seed }) },
  vgg: { name: 'vgg', inputShape: [64, 64, 3], batch: 8, build: (seed) => vggStyle(seed) },
  mobilenet: { name: 'mobilenet', inputShape: [96, 96, 3], batch: 8, build: (seed) => mobileNetStyle(seed) },
};
