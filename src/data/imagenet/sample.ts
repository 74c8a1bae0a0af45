/**
 * 'imagenet-sample': 1,000 ImageNet photographs, one per ImageNet-1k class, from the data folder or
 * the mirror (manifest entry 'imagenet-sample', every file hash-checked). Each file is decoded and
 * resized on its own straight into the output buffer, so memory holds the result plus one photo:
 * the result is N x size x size x 3 float32, 602 MB for all 1,000 at 224 x 224 (a `size` of 112
 * costs a quarter of that, `limit` and `classes` fewer images).
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';
import { checkChoice, fail, checkPair } from '../../common';
import { LongWorkOptions, Work } from '../../runtime/cancel';
import { decodeImage, Fit, FITS, rgbaToFloat } from '../images';
import { entry, locate } from '../store';
import type { Dataset } from '../types';
import { imagenetClasses, labelMap, LABEL_ORDERS } from './classes';

export const IMAGENET_SAMPLE = 'imagenet-sample';
const CALLER = "datasets.load('imagenet-sample')";

export interface ImagenetSampleOptions extends LongWorkOptions {
  /** Side (or [height, width]) of every image; default 224, MobileNet's input. */
  size?: number | [number, number];
  /** How a photo meets the size: 'cover' (default: scale, crop the centre), 'contain', 'fill'. */
  fit?: Fit;
  /** Keep only the first `limit` of the chosen photos (1 .. their count). */
  limit?: number;
  /** Only these classes: names ('African elephant'), synsets ('n02504458') or indices (0-999). */
  classes?: Array<string | number>;
  /**
   * Whose class order the labels (and class names) follow: 'mobilenet' (default; the standard
   * order) or 'darknet-tiny' (Darknet's order; mapped by synset).
   */
  labelsFor?: string;
}

/** A loaded ImageNet sample: a Dataset plus the file and synset of each image. */
export interface ImagenetSample extends Dataset {
  /** File name of each image, e.g. 'n01440764_tench.JPEG'. */
  files: string[];
  /** Synset of each image. */
  synsets: string[];
}

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/[_\s]+/g, ' ')
    .trim();

/** The photos' file names in the standard class order (file i is class i). */
export function sampleFiles(): string[] {
  return entry(IMAGENET_SAMPLE)
    .files.map((f) => f.path)
    .sort();
}

/** Standard class indices for `classes`, in the order given; a name that matches nothing is refused. */
function chosenClasses(classes: Array<string | number>): number[] {
  if (!Array.isArray(classes) || classes.length === 0)
    fail(
      CALLER,
      `classes must be a non-empty array of class names, synsets or indices, got ${JSON.stringify(classes)}`,
    );
  const all = imagenetClasses();
  const files = sampleFiles().map((p) => path.basename(p, '.JPEG'));
  return classes.map((c) => {
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c < 0 || c >= all.length)
        fail(CALLER, `unknown class ${c}; class indices are integers in 0..${all.length - 1}`);
      return c;
    }
    const want = norm(String(c));
    const i = all.findIndex(
      (k, at) => k.synset === String(c) || norm(k.name) === want || norm(files[at].slice(10)) === want,
    );
    if (i >= 0) return i;
    const near = all.filter((k, at) => norm(k.name).includes(want) || norm(files[at]).includes(want)).slice(0, 8);
    fail(
      CALLER,
      `unknown class '${c}'; give a class name, a synset (e.g. 'n02504458') or an index 0..999` +
        (near.length ? `; did you mean: ${near.map((k) => `'${k.name}' (${k.synset})`).join(', ')}` : ''),
    );
  });
}

export async function loadImagenetSample(opts: ImagenetSampleOptions = {}): Promise<ImagenetSample> {
  const [h, w] = checkPair(CALLER, 'size', opts.size, [224, 224]);
  const fit = opts.fit ?? 'cover';
  checkChoice(CALLER, 'fit', fit, FITS);
  const order = opts.labelsFor ?? 'mobilenet';
  checkChoice(CALLER, 'labelsFor', order, LABEL_ORDERS);
  const files = sampleFiles();
  let picked = opts.classes === undefined ? files.map((_, i) => i) : chosenClasses(opts.classes);
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1 || opts.limit > picked.length)
      fail(CALLER, `limit must be an integer in 1..${picked.length} (the photos chosen), got ${opts.limit}`);
    picked = picked.slice(0, opts.limit);
  }
  const work = new Work(CALLER, opts);
  const n = picked.length;
  const per = h * w * 3;
  // Float32Array of the whole result, filled one photo at a time (never all decoded at once).
  const buf = new Float32Array(n * per);
  for (let i = 0; i < n; i++) {
    const rel = files[picked[i]];
    const file = locate(IMAGENET_SAMPLE, rel, CALLER);
    const img = await decodeImage(fs.readFileSync(file), file, [h, w], fit);
    rgbaToFloat(img, 3, buf, i * per);
    await work.tick();
    if ((i + 1) % 25 === 0 || i === n - 1) await opts.onProgress?.({ done: i + 1, total: n });
  }
  const classes = imagenetClasses();
  const map = labelMap(order, CALLER);
  const names = new Array<string>(classes.length);
  classes.forEach((c, i) => (names[map[i]] = c.name));
  return {
    name: IMAGENET_SAMPLE,
    split: 'all',
    images: tf.tensor4d(buf, [n, h, w, 3]),
    labels: Int32Array.from(picked, (i) => map[i]),
    classNames: names,
    files: picked.map((i) => path.basename(files[i])),
    synsets: picked.map((i) => classes[i].synset),
  };
}
