/**
 * What the short forms of the lecture (`show.gradCam(net, 'dog', 'malamute')`) take, turned into what the
 * techniques take: a model or its name, an image as a tensor, a sample name, a path or a URL, a class by
 * name or index. Every error names the public short form that was called and the valid choices.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import { samples, read, SAMPLE_FILES } from '../data/images';
import type { Fit } from '../data/images';
import { classNames, load, modelNames } from '../models/zoo';
import { closestClassNames, findClass } from '../models/class_names';

/** A network: a loaded model, or a name `models.load` knows (`'mobilenet'`), or a path / URL to a model.json. */
export type Net = tf.LayersModel | string;

/** An image: a tensor [H, W, C] in [0, 1], a sample name (`'dog'`), a file path or an http(s) URL. */
export type ImageRef = tf.Tensor3D | string;

/** A class: its name as the model's class list has it (or a synonym), or its index. */
export type ClassRef = string | number;

/** A name usable in a cache file: letters, digits and '-' ('mountain bike' -> 'mountain-bike'). */
export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
}

/** The name a network was loaded by (a zoo name), else the model's own name (a path or a model object). */
function nameOf(net: Net, model: tf.LayersModel): string {
  return typeof net === 'string' && !/[\\/]/.test(net) ? net : model.name;
}

/** The network in a cache file's name and in the lecture's printed lines: 'mobilenet', 'cifar-cnn', ... */
export function netName(net: Net, model: tf.LayersModel): string {
  return slug(nameOf(net, model)).toLowerCase();
}

/** The network in a title: 'MobileNet' for 'mobilenet'; the name otherwise. */
export function netTitle(net: Net, model: tf.LayersModel): string {
  const name = nameOf(net, model);
  return name === 'mobilenet' ? 'MobileNet' : name;
}

const loaded = new Map<string, Promise<tf.LayersModel>>();

/** The model itself; a name is loaded once per kernel and shared by every later short form. */
export async function netOf(net: Net, caller: string): Promise<tf.LayersModel> {
  if (net instanceof tf.LayersModel) return net;
  if (typeof net !== 'string' || net.length === 0) {
    fail(caller, `expected a model or a model name (${modelNames().join(', ')}), got ${describe(net)}`);
  }
  const known = modelNames().includes(net) || /^(https?|file):\/\//i.test(net) || fs.existsSync(net);
  if (!known) {
    fail(caller, `unknown model '${net}'; models: ${modelNames().join(', ')}, or a path or URL to a model.json`);
  }
  let p = loaded.get(net);
  if (!p) {
    p = load(net);
    loaded.set(net, p);
    p.catch(() => loaded.delete(net));
  }
  return p;
}

/** A name for the image in titles and cache names: the sample's name, the file's base name, or 'image'. */
export function imageName(ref: ImageRef): string {
  if (typeof ref !== 'string') return 'image';
  const base = ref.split(/[\\/]/).pop() ?? ref;
  return base.replace(/\.(png|jpe?g|gif|bmp|webp)$/i, '');
}

export interface ImageOfOptions {
  /** the image's size, [H, W] (default: the model's input size) */
  size?: number | [number, number];
  /** how a photo of another aspect is made to fit (default 'fill': the whole photo, squeezed) */
  fit?: Fit;
}

/**
 * The image as a new tensor [H, W, C] the caller owns, at the model's input size for a name or a path. A tensor
 * passes through as a clone (so the caller may always dispose what this returns).
 */
export async function imageOf(
  model: tf.LayersModel,
  ref: ImageRef,
  caller: string,
  o: ImageOfOptions = {},
): Promise<tf.Tensor3D> {
  if (ref instanceof tf.Tensor) {
    if (ref.rank !== 3) fail(caller, `expected an image [H, W, C], got a tensor of shape [${ref.shape.join(', ')}]`);
    return ref.clone();
  }
  if (typeof ref !== 'string' || ref.length === 0) {
    fail(caller, `expected an image: a tensor [H, W, C], a sample name, a path or a URL; got ${describe(ref)}`);
  }
  if (!SAMPLE_FILES[ref] && !/^https?:\/\//i.test(ref) && !fs.existsSync(ref)) {
    fail(
      caller,
      `unknown image '${ref}': not a sample (${samples()
        .map((s) => s.name)
        .join(', ')}), a file or an http(s) URL`,
    );
  }
  const shape = model.inputs[0]?.shape ?? [];
  const size = o.size ?? (shape[1] && shape[2] ? ([shape[1], shape[2]] as [number, number]) : undefined);
  const channels = shape[3] === 1 ? 1 : 3;
  return read(ref, { size, fit: o.fit ?? 'fill', channels });
}

/** The class index of a name (or synonym) or an index; a misspelt name gets the closest names. */
export function classOf(model: tf.LayersModel, ref: ClassRef, caller: string): number {
  const names = classNames(model);
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 0 || ref >= names.length) {
      fail(caller, `class index must be an integer in [0, ${names.length - 1}], got ${ref}`);
    }
    return ref;
  }
  if (typeof ref !== 'string') fail(caller, `expected a class name or index, got ${describe(ref)}`);
  const at = findClass(model, ref, caller);
  if (at === undefined) {
    const close = closestClassNames(model, ref);
    fail(caller, `unknown class '${ref}'; closest: ${close.join(', ')} (of ${names.length} classes)`);
  }
  return at;
}

/** The short name of class `c` (the first synonym of an ImageNet description). */
export function className(model: tf.LayersModel, c: number): string {
  return classNames(model)[c].split(',')[0].trim();
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof tf.Tensor) return `a tensor of shape [${v.shape.join(', ')}]`;
  return typeof v === 'object' ? `a ${v.constructor?.name ?? 'object'}` : `${typeof v} ${String(v)}`;
}
