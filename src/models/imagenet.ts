/**
 * ImageNet models by name ('mobilenet', 'darknet-tiny'), read from the data folder (see
 * src/data/store.ts) and rebuilt so that they behave like the shipped models: pixels in [0, 1]
 * in (the model's own preprocessing is a layer named `preprocess`), class scores before the
 * softmax as a layer `logits`, probabilities as `probs`, and a card with the 1,000 class names,
 * input size, source and license.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import { entry, locate } from '../data/store';
import { fileIO } from './io';
import type { ModelCard } from './model_card';
import { fail } from '../common';

interface ImagenetSpec {
  /** Manifest entry and folder in the data folder. */
  entry: string;
  folder: string;
  /** y = x * scale + offset maps [0, 1] pixels to what the network was trained on. */
  scale: number;
  offset: number;
  /** The layer whose output holds the 1,000 class scores before any softmax. */
  scoresLayer: string;
  classNames: (dir: string) => string[];
  title: string;
}

/** 'tabby, tabby cat' -> ['tabby', 'tabby cat'] */
function synonyms(full: string): string[] {
  return full
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export const IMAGENET_MODELS: Record<string, ImagenetSpec> = {
  mobilenet: {
    entry: 'mobilenet',
    folder: 'models/mobilenet_v1_0.75_224',
    scale: 2,
    offset: -1,
    scoresLayer: 'conv_preds',
    classNames: (dir) =>
      (JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { labels: string[] }).labels,
    title: 'MobileNet v1 0.75 (224x224, ImageNet-1k)',
  },
  'darknet-tiny': {
    entry: 'darknet-tiny',
    folder: 'models/darknet-tiny',
    scale: 1,
    offset: 0,
    scoresLayer: 'global_average_pooling2d_1',
    classNames: (dir) =>
      fs
        .readFileSync(path.join(dir, 'labels.txt'), 'utf8')
        .split('\n')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    title: 'Darknet Reference tiny classifier (224x224, ImageNet-1k, Darknet class order)',
  },
};

/** Every file of the model checked against the manifest; the folder that holds them. */
function modelFolder(spec: ImagenetSpec, name: string): string {
  const e = entry(spec.entry);
  const caller = `models.load('${name}')`;
  const dirs = new Set(e.files.map((f) => path.dirname(locate(spec.entry, f.path, caller))));
  if (dirs.size !== 1)
    fail(
      caller,
      `the model's files are split over ${[...dirs].join(' and ')}; run 'bash kernel-setup/setup.sh' to ` +
        `copy them into one folder`,
    );
  return [...dirs][0];
}

interface KerasLayer {
  class_name: string;
  name?: string;
  config: { name: string; [key: string]: unknown };
  inbound_nodes: Array<Array<[string, number, number, Record<string, unknown>]>>;
}

/**
 * Edit the Keras topology: a `preprocess` layer after the input (when the model wants another
 * pixel range), the layers after the scores dropped, then `logits` (the scores as [N, classes])
 * and `probs` (softmax). One graph, loaded with the original weights, saved like any model.
 */
function rewire(topology: Record<string, unknown>, spec: ImagenetSpec, name: string): Record<string, unknown> {
  const mc = (topology.model_config ?? topology) as {
    config: { layers: KerasLayer[]; input_layers: unknown[]; output_layers: unknown[]; name?: string };
  };
  const cfg = mc.config;
  const layers = cfg.layers;
  const inputName = layers[0].config.name;
  const scoresAt = layers.findIndex((l) => l.config.name === spec.scoresLayer);
  if (layers[0].class_name !== 'InputLayer' || scoresAt < 0)
    fail(`models.load('${name}')`, `unexpected topology (no input layer or no '${spec.scoresLayer}')`);
  const kept = layers.slice(0, scoresAt + 1);
  const out: KerasLayer[] = [kept[0]];
  const pre = spec.scale !== 1 || spec.offset !== 0;
  if (pre) {
    out.push({
      class_name: 'Rescaling',
      name: 'preprocess',
      config: { name: 'preprocess', scale: spec.scale, offset: spec.offset, trainable: false, dtype: 'float32' },
      inbound_nodes: [[[inputName, 0, 0, {}]]],
    });
  }
  for (const l of kept.slice(1)) {
    const rewired = pre
      ? l.inbound_nodes.map((node) =>
          node.map(
            ([src, ni, ti, kw]) =>
              [src === inputName ? 'preprocess' : src, ni, ti, kw] as [string, number, number, Record<string, unknown>],
          ),
        )
      : l.inbound_nodes;
    out.push({ ...l, inbound_nodes: rewired });
  }
  out.push({
    class_name: 'Reshape',
    name: 'logits',
    config: { name: 'logits', target_shape: [1000], trainable: false, dtype: 'float32' },
    inbound_nodes: [[[spec.scoresLayer, 0, 0, {}]]],
  });
  out.push({
    class_name: 'Activation',
    name: 'probs',
    config: { name: 'probs', activation: 'softmax', trainable: false, dtype: 'float32' },
    inbound_nodes: [[['logits', 0, 0, {}]]],
  });
  const config = { ...cfg, name, layers: out, output_layers: [['probs', 0, 0]] };
  return topology.model_config ? { ...topology, model_config: { ...mc, config } } : { ...mc, config };
}

/** Load an ImageNet model by name (see IMAGENET_MODELS). */
export async function loadImagenet(name: string): Promise<tf.LayersModel> {
  const spec = IMAGENET_MODELS[name];
  const dir = modelFolder(spec, name);
  const io = fileIO(path.join(dir, 'model.json'));
  const model = await tf.loadLayersModel({
    load: async () => {
      const artifacts = await io.load!();
      return { ...artifacts, modelTopology: rewire(artifacts.modelTopology as Record<string, unknown>, spec, name) };
    },
  });
  const full = spec.classNames(dir);
  const classes = (model.outputs[0].shape[1] as number) ?? 0;
  if (full.length !== classes) fail(`models.load('${name}')`, `${full.length} class names for ${classes} outputs`);
  const e = entry(spec.entry);
  const card: ModelCard = {
    name,
    title: spec.title,
    dataset: 'imagenet',
    classNames: full.map((f) => synonyms(f)[0] ?? f),
    classDescriptions: full,
    inputSize: model.inputs[0].shape.slice(1) as number[],
    preprocessing:
      spec.scale !== 1 || spec.offset !== 0
        ? `pixels in [0, 1] x ${spec.scale} + ${spec.offset} (layer 'preprocess')`
        : 'pixels in [0, 1] (as trained)',
    source: e.source,
    license: e.license,
  };
  model.setUserDefinedMetadata(card);
  return model;
}
