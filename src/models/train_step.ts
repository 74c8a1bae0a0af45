import * as tf from '@tensorflow/tfjs';

/**
 * Loss and gradients of one (half-)batch: the same maths on the main thread and in a worker,
 * so training with one thread or two follows the same path. Cross-entropy is taken on the
 * logits (numerically stable); `weight` scales the loss so halves of a batch add up exactly.
 */
export function lossAndGrads(
  model: tf.LayersModel,
  logitsModel: tf.LayersModel,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  classes: number,
  weight: number,
): { loss: number; grads: Float32Array[] } {
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const { value, grads } = tf.variableGrads(() => {
    const logits = logitsModel.apply(x, { training: true }) as tf.Tensor2D;
    const y = tf.oneHot(labels, classes).toFloat();
    return tf.losses.softmaxCrossEntropy(y, logits, undefined, undefined, tf.Reduction.SUM).mul(weight) as tf.Scalar;
  }, vars);
  const loss = value.dataSync()[0];
  // Copies, not views of backend memory: they are transferred to another thread.
  const out = vars.map((v) => (grads[v.name].dataSync() as Float32Array).slice());
  tf.dispose([value, ...Object.values(grads)]);
  return { loss, grads: out };
}

/** The sub-model from the input to the `logits` layer (or the last layer's input when absent). */
export function logitsOf(model: tf.LayersModel): tf.LayersModel {
  const layer = model.layers.find((l) => l.name === 'logits') ?? model.layers[model.layers.length - 2];
  return tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor });
}
