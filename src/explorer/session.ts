/**
 * What the explorer's server knows about its model: the description the page starts from, the
 * model itself as model.json + weights (the page runs it on its own TensorFlow.js), the data set
 * whose images the patches come from, and the node-side work (top activating patches, class
 * images) run one job at a time and kept in the disk cache.
 */
import * as tf from '@tensorflow/tfjs';
import * as datasets from '../data';
import { classNames as classNamesOf, card } from '../models/zoo';
import { layers as layerInfos, LayerInfo } from '../models/layers';
import { cached, fingerprint } from '../runtime/cache';
import { topActivatingPatches, ActivatingPatch } from '../techniques/features/patches';
import { classVisualization } from '../techniques/features/class_visualization';
import { featureVisualization, takesAnySize } from '../techniques/features/feature_visualization';
import { floatToPng } from './image_input';
import { PHOTO_SET, photoPatches, photoSetLabels, readPhotos } from './photo_set';
import { Jobs, JobsOptions } from './jobs';
import { defaultSamples, Sample } from './samples';
import { fail } from '../common';

export interface ExplorerLayer extends Pick<LayerInfo, 'name' | 'type' | 'outputShape' | 'activation'> {
  /** the receptive field's size in input pixels, when the layer has positions */
  field?: [number, number];
}

export interface ExplorerInfo {
  name: string;
  classNames: string[];
  /** [height, width, channels] of one input image */
  inputShape: [number, number, number];
  layers: ExplorerLayer[];
  /** layers whose output is a map [h, w, c]: the ones the activation grid can show */
  spatialLayers: string[];
  /** the card's title (what the model is), else its name */
  title?: string;
  source?: string;
  license?: string;
  dataset: { name: string; count: number; classNames: string[] } | null;
  /** why there is no data set, when one was asked for but could not be loaded */
  datasetProblem?: string;
  samples: string[];
}

export interface ExplorerOptions {
  /** shown on the page (default: the card's name, else 'model') */
  name?: string;
  /** data set of the patches: a datasets.load name or folder, or null for none (default: by the model's card) */
  data?: string | null;
  /** images of the data set used for patches (default 1,000; 200 for inputs above 64 px) */
  dataLimit?: number;
  samples?: Sample[];
}

/**
 * The data set a model's patches come from when none is given: the one it was trained on (for the
 * ImageNet models, the 1,000 photos of 'imagenet-sample'), else CIFAR-10.
 */
export function defaultDataset(model: tf.LayersModel): string {
  const c = card(model);
  if (c.dataset === 'imagenet') return PHOTO_SET;
  const named = `${c.dataset ?? ''} ${c.name ?? ''}`.toLowerCase();
  if (named.includes('fashion')) return 'fashion-mnist';
  if (named.includes('mnist')) return 'mnist';
  return 'cifar-10';
}

/** The patches' data set: its images in memory, or null for the photo set (read photo by photo). */
interface SessionData {
  images: tf.Tensor4D | null;
  labels: Int32Array;
  classNames: string[];
  name: string;
}

export class ExplorerSession {
  readonly info: Promise<ExplorerInfo>;
  readonly jobs: Jobs;
  /** the name or path the page asked for, when the server loaded this model on request */
  loadedAs?: string;
  private artifacts?: Promise<{ json: string; weights: Buffer }>;
  private data?: Promise<SessionData | null>;
  private readonly modelKey: string;
  private readonly samples: Sample[];

  constructor(
    readonly model: tf.LayersModel,
    private readonly opts: ExplorerOptions = {},
    jobs: JobsOptions = {},
  ) {
    const shape = model.inputs[0].shape;
    if (shape.length !== 4 || shape.slice(1).some((d) => d === null)) {
      fail(
        'cnnviz explore',
        `the model's input shape is [${shape.join(', ')}]; the explorer needs images of a fixed ` +
          `size [null, H, W, C]`,
      );
    }
    this.jobs = new Jobs(jobs);
    this.modelKey = fingerprint(model);
    this.samples = opts.samples ?? defaultSamples();
    this.info = this.describe();
  }

  get inputShape(): [number, number, number] {
    return this.model.inputs[0].shape.slice(1) as [number, number, number];
  }

  private async describe(): Promise<ExplorerInfo> {
    const c = card(this.model);
    const all = layerInfos(this.model);
    let datasetProblem: string | undefined;
    const data = await this.dataset().catch((err: Error) => {
      datasetProblem = err.message;
      return null;
    });
    return {
      name: this.opts.name ?? (typeof c.name === 'string' ? c.name : 'model'),
      classNames: classNamesOf(this.model),
      inputShape: this.inputShape,
      layers: all.map((l) => ({
        name: l.name,
        type: l.type,
        outputShape: l.outputShape,
        activation: l.activation,
        field: l.receptiveField ? (l.receptiveField.size as [number, number]) : undefined,
      })),
      spatialLayers: all.filter((l) => l.outputShape.length === 3 && l.type !== 'InputLayer').map((l) => l.name),
      title: typeof c.title === 'string' ? c.title : undefined,
      source: typeof c.source === 'string' ? c.source : undefined,
      license: typeof c.license === 'string' ? c.license : undefined,
      dataset: data ? { name: data.name, count: data.labels.length, classNames: data.classNames } : null,
      datasetProblem,
      samples: this.samples.map((s) => s.name),
    };
  }

  /** The model in the TensorFlow.js layers format: model.json (weights in one file, weights.bin) and its weights. */
  modelFiles(): Promise<{ json: string; weights: Buffer }> {
    this.artifacts ??= (async () => {
      let got: tf.io.ModelArtifacts | undefined;
      await this.model.save(
        tf.io.withSaveHandler(async (a) => {
          got = a;
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
      if (!got) fail('cnnviz explore', 'the model could not be serialized');
      const data = got.weightData;
      const weights = Buffer.from(
        data === undefined ? new ArrayBuffer(0) : Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data,
      );
      const json = JSON.stringify({
        modelTopology: got.modelTopology,
        format: got.format,
        generatedBy: got.generatedBy,
        convertedBy: got.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: got.weightSpecs ?? [] }],
        userDefinedMetadata: this.model.getUserDefinedMetadata() ?? got.userDefinedMetadata,
      });
      return { json, weights };
    })();
    return this.artifacts;
  }

  sample(name: string): Sample | undefined {
    return this.samples.find((s) => s.name === name);
  }

  /** The data set of the patches, at the model's input size and channels (loaded once), or null for none. */
  dataset(): Promise<SessionData | null> {
    this.data ??= (async () => {
      const name = this.opts.data === undefined ? defaultDataset(this.model) : this.opts.data;
      if (name === null) return null;
      const [h, w, c] = this.inputShape;
      // The photo set is read photo by photo: all 1,000 unless a limit was given.
      if (name === PHOTO_SET && c === 3)
        return { images: null, ...photoSetLabels(this.model, this.opts.dataLimit ?? 1000), name };
      const limit = this.opts.dataLimit ?? (Math.max(h, w) > 64 ? 200 : 1000);
      const ds = await datasets.load(name, { split: 'test', limit });
      const images = tf.tidy(() => {
        let x: tf.Tensor4D = ds.images;
        if (x.shape[3] !== c) {
          x =
            c === 1
              ? (tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true) as tf.Tensor4D)
              : (tf.tile(x, [1, 1, 1, 3]) as tf.Tensor4D);
        }
        if (x.shape[1] !== h || x.shape[2] !== w)
          x = tf.clipByValue(tf.image.resizeBilinear(x, [h, w], false, true), 0, 1) as tf.Tensor4D;
        return x === ds.images ? tf.clone(x) : x;
      });
      ds.images.dispose();
      return { images, labels: ds.labels, classNames: ds.classNames, name: ds.name ?? name };
    })();
    return this.data;
  }

  /** Image `index` of the patches' data set as a PNG at the model's input size. */
  async datasetPng(index: number): Promise<Buffer> {
    const ds = await this.dataset();
    if (!ds) fail('cnnviz explore', 'this explorer has no data set (started with --data none)');
    const n = ds.labels.length;
    if (!Number.isInteger(index) || index < 0 || index >= n)
      fail('cnnviz explore', `data-set image ${index} out of range; ${n} images (0..${n - 1})`);
    const [h, w, c] = this.inputShape;
    const one = ds.images ? tf.slice(ds.images, [index, 0, 0, 0], [1, h, w, c]) : await readPhotos([index], [h, w]);
    const data = one.dataSync();
    one.dispose();
    return floatToPng(data, h, w, c);
  }

  /** Starts (or finds) the job computing the top-k patches of one channel; its result is cached on disk. */
  patchesJob(layer: string, channel: number, k = 9): string {
    const id = `patches/${layer}/${channel}/${k}`;
    this.jobs.start(id, async (progress, signal) => {
      const ds = await this.dataset();
      if (!ds) fail('cnnviz explore', 'no data set for patches (started with --data none)');
      const key = { model: this.modelKey, data: ds.name, n: ds.labels.length, layer, channel, k };
      const images = ds.images;
      const [h, w] = this.inputShape;
      const onProgress = (p: { done: number; total: number }) => progress({ done: p.done, total: p.total });
      const patches = await cached(
        'explorer-patches',
        key,
        () =>
          images === null
            ? photoPatches(this.model, { layer, channel, k }, ds.labels.length, [h, w], onProgress, signal)
            : topActivatingPatches(this.model, images, {
                layer,
                channel,
                k,
                batchSize: 32,
                signal,
                onProgress: (p) => progress({ done: p.done, total: p.total }),
              }),
        { quiet: true },
      );
      return {
        patches: patches.map((p: ActivatingPatch) => ({
          ...p,
          label: ds.classNames[ds.labels[p.index]] ?? String(ds.labels[p.index]),
        })),
        dataset: ds.name,
        searched: ds.labels.length,
      };
    });
    return id;
  }

  /**
   * Starts (or finds) the job computing a channel's feature-visualization image (Olah et al.'s recipe, the
   * channel's mean activation); progress carries snapshots, the result is cached on disk.
   */
  channelImageJob(layer: string, channel: number): string {
    const id = `channel-image/${layer}/${channel}`;
    const c = this.inputShape[2];
    // A network that takes any size is optimised at 128 px (seconds, not minutes), and drawn at its own size.
    const optimizeSize = takesAnySize(this.model) ? Math.min(128, this.inputShape[0]) : undefined;
    const options = { steps: 48, seed: 1, optimizeSize };
    this.jobs.start(id, async (progress, signal) => {
      const value = await cached(
        'explorer-channel-image',
        { model: this.modelKey, layer, channel, ...options },
        async () => {
          const img = await featureVisualization(this.model, `${layer}:${channel}`, {
            ...options,
            signal,
            onStep: async (s) => {
              progress({
                done: s.step,
                total: s.steps,
                score: s.score,
                preview: s.image
                  ? `data:image/png;base64,${floatToPng(s.image, s.shape[0], s.shape[1], c).toString('base64')}`
                  : undefined,
              });
              await new Promise((r) => setImmediate(r));
            },
          });
          const out = { image: new Float32Array(img.dataSync()), shape: img.shape };
          img.dispose();
          return out;
        },
        { quiet: true },
      );
      const [h, w] = value.shape;
      return {
        png: `data:image/png;base64,${floatToPng(value.image, h, w, c).toString('base64')}`,
        steps: options.steps,
      };
    });
    return id;
  }

  /** Starts (or finds) the job computing the gradient-ascent image of a class; progress carries snapshots. */
  classImageJob(target: number): string {
    const id = `class-image/${target}`;
    const [h, w, c] = this.inputShape;
    const steps = 100;
    const options = {
      target,
      steps,
      preset: 'yosinski3' as const,
      jitter: Math.max(1, Math.round(Math.max(h, w) / 28)),
      learningRate: 0.1,
      seed: 1,
    };
    this.jobs.start(id, async (progress, signal) => {
      const value = await cached(
        'explorer-class-image',
        { model: this.modelKey, ...options, kept: 'image+scores' },
        async () => {
          const scores = new Float32Array(steps);
          const img = await classVisualization(this.model, {
            ...options,
            snapshotEvery: 10,
            signal,
            onStep: async (s) => {
              scores[s.step - 1] = s.score;
              progress({
                done: s.step,
                total: s.steps,
                score: s.score,
                preview: s.image
                  ? `data:image/png;base64,${floatToPng(s.image, h, w, c).toString('base64')}`
                  : undefined,
              });
              // let the server answer between steps
              await new Promise((r) => setImmediate(r));
            },
          });
          const image = new Float32Array(img.dataSync());
          img.dispose();
          return { image, scores };
        },
        { quiet: true },
      );
      return {
        png: `data:image/png;base64,${floatToPng(value.image, h, w, c).toString('base64')}`,
        steps,
        scores: Array.from(value.scores),
      };
    });
    return id;
  }

  /** Stops its jobs (the running one at its next step) and frees the data set. */
  async dispose(): Promise<void> {
    await this.jobs.close();
    void this.data?.then((d) => d?.images?.dispose());
  }
}
