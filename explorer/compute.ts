/**
 * The page's computations, on the browser's TensorFlow.js (WebGL, else wasm). The methods are the node side's own
 * modules, which import only tfjs so the page bundles them: the logits rule (runtime/logits), guided ReLUs
 * (techniques/core/relu_rules), the unit explained (core/unit), the channel reduction of saliency
 * (attribution/reduce), Grad-CAM's layer and map (attribution/cam_layer, cam_map), occlusion's grid
 * (attribution/occlusion_grid), layer patching (runtime/layer_patch). What stays here is the page's: one backward
 * pass for saliency and Grad-CAM together, batches that report as they finish, typed arrays for the canvases, and
 * the browser backends' gradient patches (browser_gradients.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { internals, one, patch } from '../src/runtime/layer_patch';
import { logits } from '../src/runtime/logits';
import { reluProblem, overrideRelus } from '../src/techniques/core/relu_rules';
import { unitValues } from '../src/techniques/core/unit';
import { camLayerName } from '../src/techniques/attribution/cam_layer';
import { camMap, upsampleMaps } from '../src/techniques/attribution/cam_map';
import { reduceChannels } from '../src/techniques/attribution/reduce';
import {
  defaultStride,
  defaultWindow,
  occludedCopies,
  occlusionGrid,
  pixelDrops,
} from '../src/techniques/attribution/occlusion_grid';
import { forGradients } from './browser_gradients';

export interface Activation {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

export class Net {
  private readonly sub = new Map<string, tf.LayersModel>();
  /** the layer Grad-CAM explains: the last convolution with a map larger than 1x1 */
  readonly camLayer: string | null;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;

  constructor(readonly model: tf.LayersModel) {
    [this.height, this.width, this.channels] = model.inputs[0].shape.slice(1) as number[];
    const out = model.outputs[0].shape;
    this.classes = out[out.length - 1] as number;
    this.camLayer = camLayerName(model);
  }

  /** Pixels HWC in [0, 1] -> a batch of one. */
  input(pixels: Float32Array): tf.Tensor4D {
    return tf.tensor4d(pixels, [1, this.height, this.width, this.channels]);
  }

  upTo(layer: string): tf.LayersModel {
    let m = this.sub.get(layer);
    if (!m) {
      const l = this.model.getLayer(layer);
      m = tf.model({
        inputs: this.model.inputs,
        outputs: (l.inboundNodes.length > 1 ? l.getOutputAt(0) : l.output) as tf.SymbolicTensor,
      });
      this.sub.set(layer, m);
    }
    return m;
  }

  /** Probabilities of one image. */
  async predict(x: tf.Tensor4D): Promise<Float32Array> {
    const p = tf.tidy(() => one(this.model.predict(x) as tf.Tensor));
    const out = (await p.data()) as Float32Array;
    p.dispose();
    return out;
  }

  /** Probabilities and one layer's activation from a single forward pass (what a new image needs first). */
  async predictWith(x: tf.Tensor4D, layer: string): Promise<{ probs: Float32Array; activation: Activation }> {
    let m = this.sub.get(`probs+${layer}`);
    if (!m) {
      const l = this.model.getLayer(layer);
      m = tf.model({
        inputs: this.model.inputs,
        outputs: [
          this.model.outputs[0],
          (l.inboundNodes.length > 1 ? l.getOutputAt(0) : l.output) as tf.SymbolicTensor,
        ],
      });
      this.sub.set(`probs+${layer}`, m);
    }
    const [p, y] = m.predict(x) as tf.Tensor[];
    const [, h, w, c] = y.shape as number[];
    const [probs, data] = (await Promise.all([p.data(), y.data()])) as Float32Array[];
    tf.dispose([p, y]);
    return { probs, activation: { data, height: h, width: w, channels: c } };
  }

  async activation(x: tf.Tensor4D, layer: string): Promise<Activation> {
    const y = tf.tidy(() => one(this.upTo(layer).predict(x) as tf.Tensor));
    const [, h, w, c] = y.shape as number[];
    const data = (await y.data()) as Float32Array;
    y.dispose();
    return { data, height: h, width: w, channels: c };
  }

  /**
   * Saliency (Simonyan 2014: max over channels of |d logit_c / d pixel|) and Grad-CAM (Selvaraju
   * 2017, at the last convolution, upsampled to the image), both [H * W], from one backward pass:
   * the gradient at the convolution's output is the gradient with respect to a zero added there.
   */
  async classMaps(x: tf.Tensor4D, cls: number): Promise<{ saliency: Float32Array; gradCam: Float32Array | null }> {
    const layer = this.camLayer ? this.model.getLayer(this.camLayer) : null;
    const [sal, cam] = tf.tidy((): tf.Tensor[] =>
      forGradients(this.model, () => {
        let activation: tf.Tensor | undefined;
        const restore = layer
          ? (() => {
              const inner = internals(layer).call.bind(layer);
              return (delta: tf.Tensor) =>
                patch(layer, 'call', (inputs, kwargs) => {
                  const out = one(inner(inputs, kwargs));
                  activation = tf.keep(out);
                  return tf.add(out, delta);
                });
            })()
          : null;
        const zeros = tf.zeros(layer ? [1, ...(layer.outputShape as number[]).slice(1)] : [1]);
        const score = (input: tf.Tensor, delta: tf.Tensor): tf.Scalar => {
          const undo = restore ? restore(delta) : null;
          try {
            return tf.sum(tf.slice(logits(this.model, input), [0, cls], [-1, 1]));
          } finally {
            undo?.();
          }
        };
        const [gx, gDelta] = tf.grads(score as (...a: tf.Tensor[]) => tf.Scalar)([x, zeros]);
        const saliency = reduceChannels(gx, 'maxAbs');
        if (!layer || !activation) return [saliency];
        const map = camMap(gDelta as tf.Tensor4D, activation as tf.Tensor4D);
        activation.dispose();
        return [saliency, upsampleMaps(map, this.height, this.width)];
      }),
    );
    const out = {
      saliency: (await sal.data()) as Float32Array,
      gradCam: cam ? ((await cam.data()) as Float32Array) : null,
    };
    tf.dispose([sal, ...(cam ? [cam] : [])]);
    return out;
  }

  /** Why guided backprop cannot run on this model, or null when it can. */
  guidedProblem(): string | null {
    return reluProblem(this.model, 'guided');
  }

  /** Guided backprop of channel `channel` of `layer` (its mean over positions), [H * W * C]. */
  async guided(x: tf.Tensor4D, layer: string, channel: number): Promise<Float32Array> {
    const problem = this.guidedProblem();
    if (problem) throw new Error(problem);
    const g = tf.tidy(() =>
      forGradients(this.model, () => {
        const restores = overrideRelus(this.model, 'guided', 'guided backprop');
        try {
          return tf.grad((input: tf.Tensor) =>
            tf.sum(unitValues(one(this.upTo(layer).apply(input, { training: false }) as tf.Tensor), channel)),
          )(x);
        } finally {
          restores.reverse().forEach((r) => r());
        }
      }),
    );
    const out = (await g.data()) as Float32Array;
    g.dispose();
    return out;
  }

  /** Occlusion (Zeiler & Fergus 2014) with the node side's defaults; calls `onPart` as batches finish. */
  async occlusion(
    x: tf.Tensor4D,
    cls: number,
    onPart: (pixelDrop: Float32Array, done: number, total: number) => void,
    cancelled: () => boolean,
    batchSize = 32,
  ): Promise<Float32Array | null> {
    const [h, w, c] = [this.height, this.width, this.channels];
    const window = defaultWindow(h, w);
    const grid = occlusionGrid(h, w, window, defaultStride(window));
    const count = grid.rows.length * grid.cols.length;
    const mean = tf.tidy(() => tf.mul(tf.ones([1, h, w, c]), tf.mean(x, [1, 2], true)) as tf.Tensor4D);
    const base = (await this.predict(x))[cls];
    const drops = new Float32Array(count);
    try {
      for (let start = 0; start < count; start += batchSize) {
        if (cancelled()) return null;
        const b = Math.min(batchSize, count - start);
        const scores = tf.tidy(() =>
          tf.slice(one(this.model.predict(occludedCopies(x, mean, grid, start, b)) as tf.Tensor), [0, cls], [-1, 1]),
        );
        const v = (await scores.data()) as Float32Array;
        scores.dispose();
        for (let k = 0; k < b; k++) drops[start + k] = base - v[k];
        onPart(pixelDrops(drops, grid, h, w, start + b), start + b, count);
      }
    } finally {
      mean.dispose();
    }
    return pixelDrops(drops, grid, h, w);
  }
}
