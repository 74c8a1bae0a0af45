/**
 * Class visualization by gradient ascent, in the lecture's three recipes:
 * - 'simonyan' (Simonyan et al. 2014): plain ascent on the pixels; finds high-frequency noise with a high score;
 * - 'yosinski1'..'yosinski4' (Yosinski et al. 2015, Table 1): the same with L2 decay, periodic Gaussian blur,
 *   clipping pixels of small norm or small contribution;
 * - 'olah' (Olah et al. 2017, the default): `featureVisualization`'s Fourier + decorrelated colour image under
 *   random transformations, optimised with Adam.
 */
import * as tf from '@tensorflow/tfjs';
import { gaussian, mulberry32 } from '../../common/random';
import { Cancellable, Work } from '../../runtime/cancel';
import { imageShapeOf, resolveTarget, SCORE_OUTPUTS, Target } from '../core/inputs';
import { gaussianBlur } from '../core/blur';
import { checkNeuron, Explained, explainedValues } from '../core/objective';
import { REGULARIZER_PRESETS, RegularizerPreset, Regularizers } from './regularizers';
import { begin } from '../core/harness';
import { fail, checkNumber, checkChoice, checkInt, shapeText } from '../../common';
import { reserveWasmHeap } from '../../runtime/wasm_guard';
import { activationBytes, GRADIENT_HEAP_FACTOR, renderFeatures, takesAnySize } from './feature_visualization';
import { objectives } from './objectives';
import { RobustnessOptions } from './transforms';

export type ClassVisualizationRecipe = 'olah' | 'simonyan' | Exclude<RegularizerPreset, 'none'>;
export const CLASS_VISUALIZATION_RECIPES: readonly ClassVisualizationRecipe[] = [
  'olah',
  'simonyan',
  'yosinski1',
  'yosinski2',
  'yosinski3',
  'yosinski4',
];
/** Options that only the pixel-space recipes read: given without a recipe, they choose 'simonyan' (or the preset). */
const PIXEL_OPTIONS = [
  'preset',
  'init',
  'range',
  'center',
  'jitter',
  'l2Decay',
  'blurEvery',
  'blurSigma',
  'clipNormPercentile',
  'clipContributionPercentile',
] as const;

export interface ClassVisualizationStep {
  /** 1-based step number. */
  step: number;
  steps: number;
  /** The target score (for a unit: its value before the layer's activation) of the image this step started from. */
  score: number;
  /** The image after this step, HWC values, on snapshot steps (every `snapshotEvery`, and the last). */
  image?: Float32Array;
  shape: [number, number, number];
}

export interface ClassVisualizationOptions extends Regularizers, Cancellable {
  /** Class to maximise (index or name); or give layer + channel for a unit. */
  target?: Target;
  layer?: string;
  channel?: number;
  y?: number;
  x?: number;
  /** Score maximised for a class: before the softmax ('logits', default, as in Simonyan 2014) or the probability. */
  output?: 'logits' | 'probs';
  /**
   * 'olah' (default): Fourier parameterization, decorrelated colour, transformation robustness, Adam;
   * 'simonyan': plain ascent on the pixels; 'yosinski1'..'yosinski4': Yosinski et al.'s Table 1 regularizers.
   * Without a recipe, any pixel-space option (preset, init, range, center, jitter, a regularizer) picks the
   * pixel recipe ('simonyan', or the preset's).
   */
  recipe?: ClassVisualizationRecipe;
  /** 'olah': side of the returned image (default the model's input size). */
  size?: number;
  /** 'olah': side at which the image is optimised (default min(size, 128); models that take any size). */
  optimizeSize?: number;
  /** 'olah': the random transformations each step (false: none). */
  transforms?: RobustnessOptions | false;
  /** Gradient-ascent steps (default 200; 'olah': 64). */
  steps?: number;
  /**
   * Root-mean-square pixel change per step: the gradient is divided by its RMS, so the step does not
   * depend on the score's scale (default 0.1 for pixels in [0, 1]). Preset 2's strong decay wants more (about 0.3).
   */
  learningRate?: number;
  /**
   * Pixel recipes: Yosinski et al. 2015, Table 1, rows 1-4; options given explicitly override the preset. 'none' is
   * 'simonyan'.
   */
  preset?: RegularizerPreset;
  /** Starting image: 'noise' (default, seeded), 'zeros' (the center value everywhere), or a tensor [H, W, C]. */
  init?: 'noise' | 'zeros' | tf.Tensor;
  /** Pixel bounds, kept after every step (default [0, 1]). */
  range?: [number, number];
  /** The "empty" pixel value that decay and clipping move towards (default: range[0]). */
  center?: number;
  /** Random shift of up to this many pixels before each gradient, for less noisy images (default 0). */
  jitter?: number;
  seed?: number;
  /** Called after every step; may be async (the loop waits for it). */
  onStep?: (s: ClassVisualizationStep) => void | Promise<void>;
  /** How often onStep receives the image (default 10). */
  snapshotEvery?: number;
}

function percentile(values: Float32Array, pct: number): number {
  const sorted = Float32Array.from(values).sort();
  const at = Math.min(sorted.length - 1, Math.max(0, Math.floor((pct / 100) * sorted.length)));
  return sorted[at];
}

/** Shift [1, H, W, C] by (dy, dx) with wrap-around. */
function roll(x: tf.Tensor4D, dy: number, dx: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const sy = ((dy % h) + h) % h;
  const sx = ((dx % w) + w) % w;
  let out: tf.Tensor4D = x;
  if (sy)
    out = tf.concat(
      [tf.slice(out, [0, h - sy, 0, 0], [-1, sy, -1, -1]), tf.slice(out, [0, 0, 0, 0], [-1, h - sy, -1, -1])],
      1,
    );
  if (sx)
    out = tf.concat(
      [tf.slice(out, [0, 0, w - sx, 0], [-1, -1, sx, -1]), tf.slice(out, [0, 0, 0, 0], [-1, -1, w - sx, -1])],
      2,
    );
  return out;
}

/** Keep pixels whose per-pixel value (over channels) reaches the percentile; set the others to center. */
function clipBelowPercentile(img: tf.Tensor4D, perPixel: tf.Tensor, pct: number, center: number): tf.Tensor4D {
  const values = perPixel.dataSync() as Float32Array;
  const threshold = percentile(values, pct);
  return tf.where(
    tf.expandDims(tf.less(perPixel, threshold), -1).tile([1, 1, 1, img.shape[3]]),
    tf.fill(img.shape, center),
    img,
  ) as tf.Tensor4D;
}

/** The recipe the options ask for (see `recipe`). */
function recipeOf(opts: ClassVisualizationOptions, caller: string): ClassVisualizationRecipe {
  const pixel = PIXEL_OPTIONS.filter((k) => opts[k] !== undefined);
  const fallback = pixel.length === 0 ? 'olah' : opts.preset && opts.preset !== 'none' ? opts.preset : 'simonyan';
  const recipe = checkChoice(
    caller,
    'recipe',
    opts.recipe,
    CLASS_VISUALIZATION_RECIPES,
    fallback as ClassVisualizationRecipe,
  );
  if (recipe === 'olah' && pixel.length > 0)
    fail(
      caller,
      `recipe 'olah' optimises a Fourier spectrum, not pixels; ${pixel.join(', ')} belong to the pixel recipes`,
    );
  if (recipe !== 'olah') {
    const olahOnly = (['size', 'optimizeSize', 'transforms'] as const).filter((k) => opts[k] !== undefined);
    if (olahOnly.length > 0) fail(caller, `${olahOnly.join(', ')} belong to recipe 'olah', not '${recipe}'`);
    if (opts.preset !== undefined && opts.recipe !== undefined && opts.preset !== 'none' && opts.preset !== recipe)
      fail(caller, `preset '${opts.preset}' and recipe '${recipe}' disagree; give one`);
  }
  return recipe;
}

/** An image [H, W, C] that maximises the class score (or unit activation) under the chosen recipe. */
export async function classVisualization(
  model: tf.LayersModel,
  opts: ClassVisualizationOptions = {},
): Promise<tf.Tensor3D> {
  const caller = 'classVisualization';
  await begin(caller);
  const recipe = recipeOf(opts, caller);
  if (recipe === 'olah') return olahClassVisualization(model, opts, caller);
  const preset = checkChoice(
    caller,
    'preset',
    recipe === 'simonyan' ? opts.preset : recipe,
    Object.keys(REGULARIZER_PRESETS) as RegularizerPreset[],
    'none',
  );
  const reg: Required<Regularizers> = { ...REGULARIZER_PRESETS[preset] };
  for (const key of Object.keys(reg) as (keyof Regularizers)[]) if (opts[key] !== undefined) reg[key] = opts[key]!;
  const steps = opts.steps === 0 ? 0 : checkInt(caller, 'steps', opts.steps, { dflt: 200, max: 100000 });
  const lr = checkNumber(caller, 'learningRate', opts.learningRate, { dflt: 0.1, min: 0 });
  checkNumber(caller, 'l2Decay', reg.l2Decay, { dflt: 0, min: 0, max: 1 });
  checkNumber(caller, 'blurSigma', reg.blurSigma, { dflt: 0, min: 0 });
  if (!Number.isInteger(reg.blurEvery) || reg.blurEvery < 0)
    fail(caller, `blurEvery must be a whole number of steps (0: never), got ${reg.blurEvery}`);
  checkNumber(caller, 'clipNormPercentile', reg.clipNormPercentile, { dflt: 0, min: 0, max: 100 });
  checkNumber(caller, 'clipContributionPercentile', reg.clipContributionPercentile, { dflt: 0, min: 0, max: 100 });
  const jitter = opts.jitter ?? 0;
  if (!Number.isInteger(jitter) || jitter < 0) fail(caller, `jitter must be a whole number of pixels, got ${jitter}`);
  const snapshotEvery = checkInt(caller, 'snapshotEvery', opts.snapshotEvery, { dflt: 10 });
  const range = opts.range ?? [0, 1];
  if (!(range[0] < range[1])) fail(caller, `range must be [low, high] with low < high, got ${JSON.stringify(range)}`);
  const center = checkNumber(caller, 'center', opts.center, { dflt: range[0], min: range[0], max: range[1] });
  const [hh, ww, c] = imageShapeOf(model, caller);
  let explained: Explained;
  if (opts.layer !== undefined) {
    if (opts.target !== undefined) fail(caller, 'give either target (a class) or layer + channel, not both');
    // Ascend the value before the layer's activation: a ReLU unit that starts silent has no gradient.
    explained = {
      ...checkNeuron(model, { layer: opts.layer, channel: opts.channel as number, y: opts.y, x: opts.x }, caller),
      preActivation: true,
    };
  } else {
    if (opts.target === undefined) fail(caller, 'give target (a class index or name) or layer + channel');
    const output = checkChoice(caller, 'output', opts.output, SCORE_OUTPUTS, 'logits');
    explained = { kind: 'class', targets: Int32Array.of(resolveTarget(model, opts.target, caller)), output };
  }
  const work = new Work(caller, opts);
  const rand = mulberry32(opts.seed ?? 0);
  let img: tf.Tensor4D;
  const init = opts.init ?? 'noise';
  if (init instanceof tf.Tensor) {
    const s = init.shape;
    if (s.length !== 3 || (hh !== null && s[0] !== hh) || (ww !== null && s[1] !== ww) || s[2] !== c)
      fail(caller, `init has shape ${shapeText(s)}; expected ${shapeText([hh, ww, c])}`);
    img = tf.tidy(() => tf.expandDims(tf.cast(init, 'float32'), 0) as tf.Tensor4D);
  } else {
    if (hh === null || ww === null) fail(caller, 'this model takes any image size; give init, a tensor [H, W, C]');
    const init0 = checkChoice(caller, 'init', init, ['noise', 'zeros'] as const, 'noise');
    const spread = init0 === 'noise' ? 0.1 * (range[1] - range[0]) : 0;
    const values = Float32Array.from({ length: hh * ww * c }, () =>
      Math.min(range[1], Math.max(range[0], center + spread * Math.abs(gaussian(rand)))),
    );
    img = tf.tensor4d(values, [1, hh, ww, c]);
  }
  try {
    // Interruptible work on a big model: grow the heap its first gradient needs in pieces first.
    if (work.signal && steps > 0)
      await reserveWasmHeap(GRADIENT_HEAP_FACTOR * activationBytes(model), () => work.tick());
    for (let step = 1; step <= steps; step++) {
      await work.tick();
      const dy = jitter ? Math.floor(rand() * (2 * jitter + 1)) - jitter : 0;
      const dx = jitter ? Math.floor(rand() * (2 * jitter + 1)) - jitter : 0;
      let score = 0;
      const next = tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) =>
          tf.sum(explainedValues(model, roll(x as tf.Tensor4D, dy, dx), explained, 'normal', caller)),
        )(img);
        score = value.dataSync()[0];
        const g = tf.div(grad, tf.add(tf.sqrt(tf.mean(tf.square(grad))), 1e-12));
        let x = tf.add(img, tf.mul(lr, g)) as tf.Tensor4D;
        if (reg.l2Decay > 0) x = tf.add(center, tf.mul(1 - reg.l2Decay, tf.sub(x, center)));
        if (reg.blurEvery > 0 && reg.blurSigma > 0 && step % reg.blurEvery === 0) x = gaussianBlur(x, reg.blurSigma);
        if (reg.clipNormPercentile > 0)
          x = clipBelowPercentile(x, tf.sqrt(tf.sum(tf.square(tf.sub(x, center)), -1)), reg.clipNormPercentile, center);
        if (reg.clipContributionPercentile > 0) {
          // Yosinski's contribution: how much the score would fall if the pixel were set to center (first order).
          x = clipBelowPercentile(
            x,
            tf.abs(tf.sum(tf.mul(tf.sub(x, center), grad), -1)),
            reg.clipContributionPercentile,
            center,
          );
        }
        return tf.clipByValue(x, range[0], range[1]) as tf.Tensor4D;
      });
      img.dispose();
      img = next;
      if (opts.onStep) {
        const snapshot = step % snapshotEvery === 0 || step === steps;
        await work.call('onStep', opts.onStep, {
          step,
          steps,
          score,
          image: snapshot ? Float32Array.from(img.dataSync()) : undefined,
          shape: [img.shape[1], img.shape[2], img.shape[3]],
        });
      }
    }
    const out = tf.squeeze(img, [0]) as tf.Tensor3D;
    return out;
  } finally {
    img.dispose();
  }
}

/** Recipe 'olah': featureVisualization of the class (or unit), under classVisualization's name and options. */
async function olahClassVisualization(
  model: tf.LayersModel,
  opts: ClassVisualizationOptions,
  caller: string,
): Promise<tf.Tensor3D> {
  if (opts.output === 'probs') fail(caller, "recipe 'olah' maximises the logit; leave out output: 'probs'");
  let objective;
  if (opts.layer !== undefined) {
    if (opts.target !== undefined) fail(caller, 'give either target (a class) or layer + channel, not both');
    if (opts.channel === undefined) fail(caller, `layer '${opts.layer}' given without a channel`);
    objective =
      opts.y !== undefined || opts.x !== undefined
        ? objectives.neuron(opts.layer, opts.channel, { y: opts.y, x: opts.x })
        : objectives.channel(opts.layer, opts.channel);
  } else {
    if (opts.target === undefined) fail(caller, 'give target (a class index or name) or layer + channel');
    objective = objectives.class(opts.target);
  }
  const size = opts.size ?? imageShapeOf(model, caller)[0] ?? 224;
  return (await renderFeatures(
    model,
    objective,
    {
      size: opts.size,
      optimizeSize: opts.optimizeSize ?? (takesAnySize(model) ? Math.min(size, 128) : undefined),
      steps: opts.steps ?? 64,
      learningRate: opts.learningRate,
      transforms: opts.transforms,
      seed: opts.seed,
      signal: opts.signal,
      onStep: opts.onStep,
      snapshotEvery: opts.snapshotEvery,
    },
    caller,
  )) as tf.Tensor3D;
}
