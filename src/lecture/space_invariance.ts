/**
 * show.invariance(net, data): notebook 02's invariance study in one call. Some images of the data set are changed
 * five ways (flip, shift by an eighth and a quarter of the width, crop the middle and scale it back, cover a
 * square with gray); each changed copy searches the data set in pixel space and in the network's feature space.
 * Printed per change: how often the nearest image is the original, and the share of its 10 nearest neighbours
 * (the original left out) with its class. Drawn: a few images and their changed copies.
 */
import * as tf from '@tensorflow/tfjs';
import { fail } from '../common';
import { nearestNeighbors } from '../techniques/embedding/neighbors';
import { featureVectors, pixelVectors } from '../techniques/features/features';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { namedAsync } from './remember';
import { netOf, Net, netName } from './resolve';
import { spaceData, DataRef, SpaceDataOptions } from './space_data';

export interface InvarianceOptions extends SpaceDataOptions {
  /** images changed and searched for (default 50) */
  count?: number;
  /** every `step`-th image of the data set is changed (default: spread over the data set) */
  step?: number;
  /** images drawn with their changed copies (default 4) */
  shown?: number;
}

export interface InvarianceRow {
  change: string;
  /** share of changed copies whose nearest image is their original */
  found: { pixels: number; features: number };
  /** share of the 10 nearest (the original left out) with the original's class */
  sameClass: { pixels: number; features: number };
}

const widgetImages = widgetShow.images;

type Change = (x: tf.Tensor4D) => tf.Tensor4D;

/** The five changes for images of h x w x c, named as printed ('shifted 4 px' for 32 x 32). */
function changesFor(h: number, w: number, c: number): Record<string, Change> {
  const shift =
    (s: number): Change =>
    (x) =>
      tf
        .mirrorPad(
          x,
          [
            [0, 0],
            [0, 0],
            [s, 0],
            [0, 0],
          ],
          'symmetric',
        )
        .slice([0, 0, 0, 0], [-1, h, w, c]);
  const m = Math.round(h / 8);
  const side = Math.round((3 * h) / 8);
  const at = Math.round(h / 2);
  const pads: [number, number][] = [
    [0, 0],
    [at, h - at - side],
    [at, w - at - side],
    [0, 0],
  ];
  return {
    flipped: (x) => tf.image.flipLeftRight(x),
    [`shifted ${Math.round(w / 8)} px`]: shift(Math.round(w / 8)),
    [`shifted ${Math.round(w / 4)} px`]: shift(Math.round(w / 4)),
    [`cropped ${h - 2 * m}x${w - 2 * m}`]: (x) =>
      tf.image.resizeBilinear(x.slice([0, m, m, 0], [-1, h - 2 * m, w - 2 * m, c]), [h, w]),
    [`covered ${side}x${side}`]: (x) =>
      tf.mul(x, tf.pad(tf.zeros([1, side, side, 1]), pads, 1)).add(tf.pad(tf.fill([1, side, side, 1], 0.5), pads)),
  };
}

const pct = (v: number) => `${(100 * v).toFixed(0)}%`;

async function invarianceShort(net: Net, data: DataRef, o: InvarianceOptions = {}): Promise<Figure> {
  const caller = 'show.invariance';
  const model = await netOf(net, caller);
  const space = await spaceData(model, data, caller, { limit: 2000, ...o }, netName(net, model));
  const made: tf.Tensor[] = [];
  try {
    const n = space.labels.length;
    const count = o.count ?? 50;
    if (!Number.isInteger(count) || count < 1 || count > n) {
      fail(caller, `count must be an integer in [1, ${n}], got ${count}`);
    }
    const step = o.step ?? Math.floor(n / count);
    if (!Number.isInteger(step) || step < 1 || (count - 1) * step >= n) {
      fail(caller, `step must be a positive integer with ${count} x step within the ${n} images, got ${step}`);
    }
    const tests = Array.from({ length: count }, (_, i) => i * step);
    const [, h, w, c] = space.images.shape;
    const changes = changesFor(h, w, c);
    const names = Object.keys(changes);
    const orig = tf.gather(space.images, tests) as tf.Tensor4D;
    made.push(orig);
    const changed = names.map((name) => tf.tidy(() => changes[name](orig)));
    made.push(...changed);
    const all = tf.concat(changed) as tf.Tensor4D;
    made.push(all);
    const [ph, pw] = space.pixelSize;
    const pixelsOf = tf.tidy(() => pixelVectors(ph === h && pw === w ? all : tf.image.resizeBilinear(all, [ph, pw])));
    made.push(pixelsOf);
    const featuresOf = await featureVectors(model, all, { layer: space.layer });
    made.push(featuresOf);
    const who = typeof net === 'string' ? net : model.name;
    const searched = {
      pixels: nearestNeighbors(pixelsOf, space.pixels(), { k: 11, method: 'brute' }).indices,
      features: nearestNeighbors(featuresOf, await space.features(), { k: 11, method: 'brute' }).indices,
    };
    console.log(
      `over ${count} images: how often the changed copy's nearest image is its original, and the share of its 10 ` +
        `nearest neighbours (the original left out) with its class`,
    );
    const rows: InvarianceRow[] = names.map((name, ci) => {
      const score = (idx: Int32Array) => {
        let original = 0;
        let same = 0;
        tests.forEach((t, i) => {
          const at = (ci * count + i) * 11;
          if (idx[at] === t) original++;
          const others = Array.from(idx.subarray(at, at + 11)).filter((j) => j !== t);
          same += others.slice(0, 10).filter((j) => space.labels[j] === space.labels[t]).length;
        });
        return { found: original / count, same: same / (10 * count) };
      };
      const p = score(searched.pixels);
      const f = score(searched.features);
      console.log(
        `${name}: original found: pixels ${pct(p.found)}, ${who} ${pct(f.found)}; ` +
          `same class: pixels ${pct(p.same)}, ${who} ${pct(f.same)}`,
      );
      return {
        change: name,
        found: { pixels: p.found, features: f.found },
        sameClass: { pixels: p.same, features: f.same },
      };
    });
    const shown = Math.min(o.shown ?? 4, count);
    const strip = tf.tidy(() =>
      tf.concat(
        Array.from({ length: shown }, (_, i) =>
          tf.concat([
            orig.slice([i, 0, 0, 0], [1, -1, -1, -1]),
            ...changed.map((x) => x.slice([i, 0, 0, 0], [1, -1, -1, -1])),
          ]),
        ),
      ),
    );
    made.push(strip);
    const captions = Array.from({ length: shown }, (_, i) =>
      ['original', ...rows.map((r) => `${r.change}: ${pct(r.found.features)}`)].map((s, j) =>
        j === 0 ? [s, space.classNames[space.labels[tests[i]]]] : [s.split(':')[0], `found ${s.split(': ')[1]}`],
      ),
    ).flat();
    return widgetImages(strip, {
      cols: names.length + 1,
      captions,
      size: 64,
      title: `five changes of ${count} ${space.title}; 'found': how often ${who}'s features find the original`,
    });
  } finally {
    for (const t of made) t.dispose();
    space.dispose();
  }
}

/** `await show.invariance('cifar-cnn', 'cifar-10')`: the invariance study (printed table + the changed images). */
export const invariance = namedAsync('show.invariance', invarianceShort);
