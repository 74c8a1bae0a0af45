// Notebook 08's short forms: the image a class wants to see (`show.classImage('mobilenet', 'flamingo')`), the
// progression of recipes (a list of classes by a list of recipes), one regularizer at a time, and the image a
// channel wants to see (`show.channelImage('mobilenet', 'conv_pw_11_relu:100')`, Lucid's one-liner).
import * as tf from '@tensorflow/tfjs';
import { checkChoice, checkInt, checkNumber, fail } from '../common';
import { getLayer } from '../models/layers';
import { classNames } from '../models/zoo';
import { logits } from '../runtime/logits';
import { classVisualization, CLASS_VISUALIZATION_RECIPES } from '../techniques/features/class_visualization';
import type { ClassVisualizationRecipe } from '../techniques/features/class_visualization';
import { featureVisualization, takesAnySize } from '../techniques/features/feature_visualization';
import { objectives } from '../techniques/features/objectives';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { namedAsync, remember } from './remember';
import { classOf, className, netName, netOf, netTitle, Net, ClassRef } from './resolve';
import { photoTop, rankLayer } from './units_patches';
import { layerOf } from './units_check';
import { afterAWhile, quietFor, quietResult } from './units_result';

/** The settings of the lecture's progression (notebook 08) per recipe; options given to a call override them. */
export const LECTURE_RECIPE_SETTINGS: Record<ClassVisualizationRecipe, Record<string, number>> = {
  olah: { steps: 96 },
  simonyan: { steps: 40, learningRate: 0.1 },
  yosinski1: { steps: 100, jitter: 8, learningRate: 0.1 },
  // preset 2's strong L2 decay wants larger steps
  yosinski2: { steps: 100, jitter: 8, learningRate: 0.3 },
  yosinski3: { steps: 100, jitter: 8, learningRate: 0.1 },
  yosinski4: { steps: 100, jitter: 8, learningRate: 0.1 },
};

const RECIPE_TITLES: Record<ClassVisualizationRecipe, string> = {
  olah: 'Olah et al.',
  simonyan: 'plain ascent (Simonyan)',
  yosinski1: 'Yosinski preset 1',
  yosinski2: 'Yosinski preset 2',
  yosinski3: 'Yosinski preset 3',
  yosinski4: 'Yosinski preset 4',
};

const LIVE_TITLES: Record<ClassVisualizationRecipe, string> = {
  ...RECIPE_TITLES,
  olah: "Olah et al.'s recipe",
  simonyan: 'gradient ascent',
};

const WORDS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const word = (n: number) => WORDS[n] ?? String(n);

export interface ClassImageOptions {
  /** 'olah' (default), 'simonyan', 'yosinski1'..'yosinski4', or a list of them (one row each) */
  recipe?: ClassVisualizationRecipe | readonly ClassVisualizationRecipe[];
  /** gradient steps (default: the lecture's for the recipe, LECTURE_RECIPE_SETTINGS) */
  steps?: number;
  learningRate?: number;
  /** pixel recipes: random shift before each step, in pixels (default 8) */
  jitter?: number;
  /** seed of the starting image (default 1) */
  seed?: number;
  /** watch it form: a live chart and image, computed now and not stored (default false) */
  live?: boolean;
  /** compute again even when stored */
  recompute?: boolean;
  title?: string;
}

/** What a class image call drew: its images (the caller owns them), MobileNet's scores of them, the figure. */
export interface ClassImages {
  images: tf.Tensor3D[];
  /** per image: the probability of its class and its score before the softmax */
  scores: { p: number; logit: number }[];
  figure?: Figure;
}

/** A model's name in cache names and titles: its zoo name, or the model's own. */
/** P and logit of each image's class, as the model sees the images. */
function scoresOf(model: tf.LayersModel, imgs: tf.Tensor3D[], targets: number[]): ClassImages['scores'] {
  return tf.tidy(() => {
    const x = tf.stack(imgs);
    const pr = (model.predict(x) as tf.Tensor2D).arraySync();
    const lg = (logits(model, x) as tf.Tensor2D).arraySync();
    return targets.map((t, i) => ({ p: pr[i][t], logit: lg[i][t] }));
  });
}

/** The display of small gray networks: stretched (their images are far from [0, 1]), at 112 px. */
function displayOf(model: tf.LayersModel): { size: number; normalize?: 'minmax' } {
  const shape = model.inputs[0].shape;
  const small = (shape[1] ?? 224) < 64;
  return shape[3] === 1 ? { size: small ? 112 : 224, normalize: 'minmax' } : { size: small ? 112 : 224 };
}

function recipesOf(r: ClassImageOptions['recipe'], caller: string): ClassVisualizationRecipe[] {
  const list: ClassVisualizationRecipe[] = r === undefined ? ['olah'] : typeof r === 'string' ? [r] : [...r];
  if (list.length === 0) fail(caller, `recipe: give at least one of ${CLASS_VISUALIZATION_RECIPES.join(', ')}`);
  return list.map((x) => checkChoice(caller, 'recipe', x, CLASS_VISUALIZATION_RECIPES));
}

/** The options of one run: the lecture's for the recipe, then the call's (no undefined: they would change keys). */
function settingsOf(recipe: ClassVisualizationRecipe, o: ClassImageOptions, caller: string): Record<string, number> {
  const s: Record<string, number> = { ...LECTURE_RECIPE_SETTINGS[recipe] };
  if (o.steps !== undefined) s.steps = checkInt(caller, 'steps', o.steps, { max: 10000 });
  if (o.learningRate !== undefined) s.learningRate = checkNumber(caller, 'learningRate', o.learningRate, { above: 0 });
  if (o.jitter !== undefined) s.jitter = checkInt(caller, 'jitter', o.jitter, { min: 0, max: 64 });
  if (recipe === 'olah') delete s.jitter;
  return s;
}

async function classImage(
  net: Net,
  target: ClassRef | readonly ClassRef[],
  o: ClassImageOptions = {},
): Promise<ClassImages> {
  const caller = 'show.classImage';
  const model = await netOf(net, caller);
  const list: ClassRef[] = typeof target === 'object' && target !== null ? [...target] : [target as ClassRef];
  const targets = list.map((t) => classOf(model, t, caller));
  if (targets.length === 0) fail(caller, 'give a class, or a list of classes');
  const recipes = recipesOf(o.recipe, caller);
  const names = targets.map((t) => className(model, t));
  const seed = checkInt(caller, 'seed', o.seed, { min: 0, dflt: 1 });
  const images: tf.Tensor3D[] = [];
  const labels: [string, ClassVisualizationRecipe][] = [];
  if (o.live) {
    if (targets.length * recipes.length !== 1) fail(caller, 'live: one class and one recipe');
    const s = settingsOf(recipes[0], o, caller);
    const title =
      recipes[0] === 'simonyan'
        ? `gradient ascent on class ${names[0]}`
        : `${names[0]}: ${LIVE_TITLES[recipes[0]]}, live`;
    const watch = widgetShow.progress({ title, total: s.steps });
    const every = Math.max(1, Math.round(s.steps / 12));
    try {
      const opts = { target: targets[0], recipe: recipes[0], ...s, seed, snapshotEvery: every, onStep: watch.onStep };
      images.push(await classVisualization(model, opts));
    } finally {
      watch.done();
    }
    const [score] = scoresOf(model, images, targets);
    console.log(`P(${names[0]}) = ${score.p.toFixed(4)} (logit ${score.logit.toFixed(1)})`);
    return quietResult({ images, scores: [score] }, `class image of ${names[0]}, P = ${score.p.toFixed(4)}`);
  }
  for (const recipe of recipes) {
    const s = settingsOf(recipe, o, caller);
    for (let i = 0; i < targets.length; i++) {
      const name = `classvis-${netName(net, model)}-${names[i].replace(/ /g, '-')}-${recipe}`;
      const key = { weights: model, target: names[i], recipe, ...s, seed };
      const run = (onProgress: (p: { done: number; total: number }) => void) =>
        classVisualization(model, {
          target: targets[i],
          recipe,
          ...s,
          seed,
          onStep: afterAWhile((st) => onProgress({ done: st.step, total: st.steps })),
        });
      images.push(await remember(name, key, run, { recompute: o.recompute, ...quietFor(model) }));
      labels.push([names[i], recipe]);
    }
  }
  const scores = scoresOf(
    model,
    images,
    labels.map((_, i) => targets[i % targets.length]),
  );
  labels.forEach(([c, recipe], i) => {
    const head = recipes.length > 1 ? `${recipe.padEnd(9)} ` : '';
    console.log(`${head}P(${c}) = ${scores[i].p.toFixed(4)} (logit ${scores[i].logit.toFixed(1)})`);
  });
  const titles = recipes.map((r) => RECIPE_TITLES[r]);
  const oneClass = targets.length === 1;
  const presets = recipes.length > 1 && recipes.every((r) => r.startsWith('yosinski'));
  const every = new Set(targets).size === classNames(model).length;
  const title =
    o.title ??
    (oneClass
      ? presets
        ? `class ${names[0]} under each preset`
        : `${names[0]}: ${titles.join(', ')}`
      : recipes.length > 1
        ? `rows: ${titles.join(', ')}`
        : `${every ? 'every class' : `${targets.length} classes`}, ${titles[0]}`);
  // a caption names what differs between the images: the recipe, the class, or both
  const caption = ([c, recipe]: [string, ClassVisualizationRecipe]) =>
    oneClass && recipes.length > 1 ? recipe : recipes.length === 1 && !oneClass ? c : `${c}, ${recipe}`;
  const figure = widgetShow.images(images, {
    ...displayOf(model),
    cols: oneClass ? recipes.length : Math.min(targets.length, 10),
    captions: labels.map((l, i) => [caption(l), `P = ${scores[i].p.toFixed(3)}`]),
    title,
  });
  return quietResult({ images, scores, figure }, `${images.length} class images`);
}

/** Yosinski et al.'s regularizers, each alone on plain ascent (notebook 08's "one regularizer at a time"). */
export const ONE_REGULARIZER_AT_A_TIME: [string, Record<string, number>][] = [
  ['none', {}],
  ['L2 decay 0.05', { l2Decay: 0.05 }],
  ['blur every 4, sigma 1', { blurEvery: 4, blurSigma: 1 }],
  ['norm clip 50%', { clipNormPercentile: 50 }],
  ['contribution clip 80%', { clipContributionPercentile: 80 }],
];

async function regularizers(
  net: Net,
  target: ClassRef,
  o: { steps?: number; seed?: number; title?: string } = {},
): Promise<ClassImages> {
  const caller = 'show.regularizers';
  const model = await netOf(net, caller);
  const t = classOf(model, target, caller);
  const steps = checkInt(caller, 'steps', o.steps, { max: 10000, dflt: 80 });
  const seed = checkInt(caller, 'seed', o.seed, { min: 0, dflt: 1 });
  const images: tf.Tensor3D[] = [];
  for (const [, reg] of ONE_REGULARIZER_AT_A_TIME) {
    images.push(await classVisualization(model, { target: t, recipe: 'simonyan', steps, seed, ...reg }));
  }
  const scores = scoresOf(
    model,
    images,
    images.map(() => t),
  );
  const figure = widgetShow.images(images, {
    ...displayOf(model),
    normalize: 'minmax',
    captions: ONE_REGULARIZER_AT_A_TIME.map(([name], i) => [name, `P = ${scores[i].p.toFixed(3)}`]),
    title: o.title ?? `class ${className(model, t)}, one regularizer at a time`,
  });
  return quietResult({ images, scores, figure }, `${images.length} class images, one regularizer at a time`);
}

export interface ChannelImageOptions {
  /** gradient steps (default 48 for Olah's recipe, 60 for a pixel recipe) */
  steps?: number;
  /** Olah's recipe, a model that takes any size: the side it optimises at (default 128) */
  optimizeSize?: number;
  /** seed (default 1) */
  seed?: number;
  /** a batch of this many images of one channel, pushed apart by a diversity term */
  diverse?: number;
  /** the diversity term's weight (default 50) */
  diversity?: number;
  /**
   * a pixel recipe ('simonyan', 'yosinski1'..'yosinski4'): ascent on the unit at the centre of the map
   * (classVisualization) instead of Olah's channel mean (featureVisualization)
   */
  recipe?: Exclude<ClassVisualizationRecipe, 'olah'>;
  /**
   * instead of the images alone: each channel's image beside the receptive fields of its `beside` strongest photos
   * of the 1,000 ImageNet photos (ranked before the ReLU, as `show.topPatches` does), classes printed
   */
  beside?: number;
  /** compute again even when stored */
  recompute?: boolean;
  title?: string;
}

interface ChannelGroup {
  layer: string;
  channels: number[];
}

/** 'layer:7', 'layer:7,100,250' or a list of these -> one group of channels per layer, in order. */
function channelGroups(model: tf.LayersModel, ref: string | string[], caller: string): ChannelGroup[] {
  const list = Array.isArray(ref) ? ref : [ref];
  if (list.length === 0) fail(caller, "give a channel as 'layer:channel' (e.g. 'conv_pw_11_relu:100')");
  const groups: ChannelGroup[] = [];
  for (const r of list) {
    const at = typeof r === 'string' ? r.lastIndexOf(':') : -1;
    if (at <= 0) fail(caller, `expected 'layer:channel' (e.g. 'conv_pw_11_relu:100'), got ${JSON.stringify(r)}`);
    const layer = r.slice(0, at);
    const units = (layerOf(model, layer, caller).outputShape as number[]).slice(-1)[0];
    const channels = r
      .slice(at + 1)
      .split(',')
      .map((s) => Number(s.trim()));
    for (const c of channels) {
      if (!Number.isInteger(c) || c < 0 || c >= units)
        fail(caller, `'${r}': channels of ${layer} are whole numbers in [0, ${units - 1}]`);
    }
    const same = groups.find((g) => g.layer === layer);
    if (same) same.channels.push(...channels);
    else groups.push({ layer, channels });
  }
  return groups;
}

/** The images of a group of channels by Olah's recipe, one batch (stored under notebook 08's names). */
async function olahChannels(
  net: Net,
  model: tf.LayersModel,
  g: ChannelGroup,
  o: ChannelImageOptions,
): Promise<tf.Tensor3D[]> {
  const steps = o.steps ?? 48;
  const seed = o.seed ?? 1;
  const sized = takesAnySize(model) ? { optimizeSize: o.optimizeSize ?? 128 } : {};
  const stem = `featvis-${netName(net, model)}-${g.layer}`;
  let batch: tf.Tensor4D;
  if (o.diverse !== undefined) {
    const n = checkInt('show.channelImage', 'diverse', o.diverse, { min: 2, max: 16 });
    if (g.channels.length !== 1) fail('show.channelImage', 'diverse: one channel (its images are pushed apart)');
    const [channel] = g.channels;
    const diversity = o.diversity ?? 50;
    const objective = objectives.channel(g.layer, channel).plus(objectives.diversity(g.layer).times(diversity));
    batch = await remember(
      `${stem}-${channel}-diverse${n}`,
      { weights: model, layer: g.layer, channel, steps, seed, diversity },
      (report) =>
        featureVisualization(model, objective, {
          batch: n,
          steps,
          ...sized,
          seed,
          onStep: afterAWhile((s) => report({ done: s.step, total: s.steps })),
        }),
      { recompute: o.recompute, ...quietFor(model) },
    );
  } else {
    const chans = g.channels;
    const objective = objectives.sum(...chans.map((ch, i) => objectives.channel(g.layer, ch, { batch: i })));
    batch = await remember(
      `${stem}-${chans.join('-')}`,
      { weights: model, layer: g.layer, chans, steps, ...sized, seed },
      (report) =>
        featureVisualization(model, objective, {
          batch: chans.length,
          steps,
          ...sized,
          seed,
          onStep: afterAWhile((s) => report({ done: s.step, total: s.steps })),
        }),
      { recompute: o.recompute, ...quietFor(model) },
    );
  }
  const out = tf.unstack(batch) as tf.Tensor3D[];
  batch.dispose();
  return out;
}

/** Ascent on the centre unit of each channel by a pixel recipe (for small networks of fixed size). */
async function pixelChannels(
  net: Net,
  model: tf.LayersModel,
  g: ChannelGroup,
  o: ChannelImageOptions,
): Promise<tf.Tensor3D[]> {
  const recipe = o.recipe!;
  const shape = getLayer(model, g.layer, 'show.channelImage').outputShape as number[];
  const [y, x] = [Math.floor((shape[1] ?? 1) / 2), Math.floor((shape[2] ?? 1) / 2)];
  const steps = o.steps ?? 60;
  const seed = o.seed ?? 1;
  const out: tf.Tensor3D[] = [];
  for (const channel of g.channels) {
    out.push(
      await remember(
        `unitvis-${netName(net, model)}-${g.layer}-${channel}-${recipe}`,
        { weights: model, layer: g.layer, channel, y, x, steps, recipe, seed },
        (report) =>
          classVisualization(model, {
            layer: g.layer,
            channel,
            y,
            x,
            steps,
            recipe,
            seed,
            onStep: afterAWhile((s) => report({ done: s.step, total: s.steps })),
          }),
        { recompute: o.recompute, ...quietFor(model) },
      ),
    );
  }
  return out;
}

/** The images of the channels, in the order given (each group one batch). */
export async function channelImages(
  net: Net,
  model: tf.LayersModel,
  groups: ChannelGroup[],
  o: ChannelImageOptions,
): Promise<tf.Tensor3D[]> {
  if (o.recipe !== undefined) checkChoice('show.channelImage', 'recipe', o.recipe, CLASS_VISUALIZATION_RECIPES);
  const out: tf.Tensor3D[] = [];
  for (const g of groups) {
    const recipe = o.recipe as ClassVisualizationRecipe | undefined;
    out.push(
      ...(recipe === undefined || recipe === 'olah'
        ? await olahChannels(net, model, g, o)
        : await pixelChannels(net, model, g, o)),
    );
  }
  return out;
}

/** What a channel image call drew: the images (the caller owns them) and the figure. */
export interface ChannelImages {
  images: tf.Tensor3D[];
  figure: Figure;
}

/** Each channel's image beside the receptive fields of its k strongest photos of the 1,000. */
async function besidePhotos(
  model: tf.LayersModel,
  groups: ChannelGroup[],
  images: tf.Tensor3D[],
  k: number,
  title?: string,
): Promise<ChannelImages> {
  checkInt('show.channelImage', 'beside', k, { max: 9 });
  const beside: tf.Tensor3D[] = [];
  const captions: string[] = [];
  let next = 0;
  for (const g of groups) {
    for (const channel of g.channels) {
      const { photos, top } = await photoTop(model, rankLayer(model, g.layer), channel, k);
      const [h, w] = photos.images.shape.slice(1);
      const boxes = top.map((t) => [t.box.top / h, t.box.left / w, t.box.bottom / h, t.box.right / w]);
      const at = top.map((t) => t.index);
      const crops = tf.tidy(() => tf.unstack(tf.image.cropAndResize(photos.images, boxes, at, [96, 96])));
      beside.push(tf.image.resizeBilinear(images[next++], [96, 96]), ...(crops as tf.Tensor3D[]));
      const names = top.map((t) => photos.classNames[photos.labels[t.index]].split(',')[0]);
      captions.push(`${g.layer}:${channel}`, ...names);
      console.log(`${g.layer}:${channel} fires hardest on: ${names.join(', ')}`);
      photos.images.dispose();
    }
  }
  const rows = groups.map((g) => g.layer).join(', ');
  const figure = widgetShow.images(beside, {
    size: 80,
    cols: (k + 1) * Math.max(...groups.map((g) => g.channels.length)),
    captions,
    title:
      title ?? `rows: ${rows}; each channel beside the receptive fields of its ${word(k)} strongest photos (of 1,000)`,
  });
  tf.dispose(beside);
  return quietResult({ images, figure }, `${images.length} channel images beside their photos`);
}

async function channelImage(
  net: Net,
  channels: string | string[],
  o: ChannelImageOptions = {},
): Promise<ChannelImages> {
  const caller = 'show.channelImage';
  if (o.steps !== undefined) checkInt(caller, 'steps', o.steps, { max: 10000 });
  if (o.seed !== undefined) checkInt(caller, 'seed', o.seed, { min: 0 });
  if (o.optimizeSize !== undefined) checkInt(caller, 'optimizeSize', o.optimizeSize, { min: 16, max: 1024 });
  if (o.diversity !== undefined) checkNumber(caller, 'diversity', o.diversity, { min: 0 });
  const model = await netOf(net, caller);
  const groups = channelGroups(model, channels, caller);
  const images = await channelImages(net, model, groups, o);
  if (o.beside !== undefined) return besidePhotos(model, groups, images, o.beside, o.title);
  const per = groups[0].channels.length;
  const uniform = groups.every((g) => g.channels.length === per);
  if (groups.length > 1) {
    const shape = uniform ? ` (${groups.length} layers x ${per} channels)` : '';
    console.log(`channel images: ${images.length}${shape}`);
  }
  const captions =
    o.diverse !== undefined
      ? images.map((_, i) => `${groups[0].layer}:${groups[0].channels[0]} #${i + 1}`)
      : groups.flatMap((g) => g.channels.map((c) => `${g.layer}:${c}`));
  const g0 = groups[0];
  const title =
    o.title ??
    (o.diverse !== undefined
      ? `${g0.layer}:${g0.channels[0]}, a batch of ${word(o.diverse)} with a diversity term`
      : o.recipe !== undefined
        ? `gradient ascent on ${groups.map((g) => g.layer).join(', ')} units (centre position)`
        : groups.length > 1
          ? `${netTitle(net, model)} channels at ${word(groups.length)} depths (rows: shallow to deep)`
          : `${netTitle(net, model)} ${captions.join(', ')}`);
  const display = displayOf(model);
  const figure = widgetShow.images(images, {
    size: display.normalize ? display.size : 160,
    normalize: display.normalize,
    cols: o.diverse !== undefined ? images.length : uniform ? Math.max(per, 1) : Math.min(images.length, 6),
    captions: o.diverse !== undefined ? undefined : captions,
    title,
  });
  return quietResult({ images, figure }, `${images.length} channel images`);
}

export const CLASSVIS_SHOWS = {
  /**
   * The image a class wants to see, by gradient ascent on the input (classVisualization): one class, or a list of
   * classes by a list of recipes (a row per recipe), each stored (`classvis-<net>-<class>-<recipe>`), with the
   * model's probability of its class printed and under each image. `{ live: true }`: watch it form.
   */
  classImage: namedAsync('show.classImage', classImage),
  /** One of Yosinski et al.'s regularizers at a time on plain ascent, for a small network (cheap steps). */
  regularizers: namedAsync('show.regularizers', regularizers),
  /**
   * The image a channel wants to see ('layer:channel', 'layer:c1,c2,c3' or a list of these, Lucid's one-liner):
   * Olah et al.'s recipe on the channel's mean (featureVisualization), one batch per layer, stored
   * (`featvis-<net>-<layer>-<channels>`); `{ diverse: 4 }` four images of one channel with a diversity term;
   * `{ recipe: 'yosinski3' }` pixel ascent on the unit at the centre.
   */
  channelImage: namedAsync('show.channelImage', channelImage),
};
