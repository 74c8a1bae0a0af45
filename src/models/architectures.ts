import * as tf from '@tensorflow/tfjs';

export interface CnnOptions {
  inputShape?: [number, number, number];
  classes?: number;
  seed?: number;
  conv1Filters?: number;
  /** Filters of conv2 and conv3 (default 64, 128). */
  widths?: [number, number];
  featureSize?: number;
  /**
   * Batch normalisation after each pooling layer (bn1..bn3): conv -> ReLU -> pool -> BN, so that
   * conv1..conv3 keep their ReLU outputs (what patches and guided backprop look at).
   */
  batchNorm?: boolean;
}

/**
 * The architecture of the shipped models: conv1 (5x5, so its filters are worth looking at)
 * -> pool -> conv2 -> pool -> conv3 -> pool -> features (dense, ReLU) -> logits -> probs.
 * Named layers are the contract the techniques and notebooks rely on.
 */
export function lectureCnn(opts: CnnOptions = {}): tf.Sequential {
  const inputShape = opts.inputShape ?? [28, 28, 1];
  const seed = opts.seed ?? 1;
  const [w2, w3] = opts.widths ?? [64, 128];
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 100 + k });
  const model = tf.sequential({ name: 'lecture_cnn' });
  const bn = (i: number) => {
    if (opts.batchNorm) model.add(tf.layers.batchNormalization({ name: `bn${i}`, momentum: 0.9 }));
  };
  model.add(
    tf.layers.conv2d({
      name: 'conv1',
      inputShape,
      filters: opts.conv1Filters ?? 32,
      kernelSize: 5,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(1),
    }),
  );
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }));
  bn(1);
  model.add(
    tf.layers.conv2d({
      name: 'conv2',
      filters: w2,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(2),
    }),
  );
  model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }));
  bn(2);
  model.add(
    tf.layers.conv2d({
      name: 'conv3',
      filters: w3,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(3),
    }),
  );
  model.add(tf.layers.maxPooling2d({ name: 'pool3', poolSize: 2 }));
  bn(3);
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(
    tf.layers.dense({
      name: 'features',
      units: opts.featureSize ?? 256,
      activation: 'relu',
      kernelInitializer: init(4),
    }),
  );
  model.add(
    tf.layers.dense({
      name: 'logits',
      units: opts.classes ?? 10,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 100 + 5 }),
    }),
  );
  model.add(tf.layers.activation({ name: 'probs', activation: 'softmax' }));
  return model;
}
