// show.yourImage(net, file): notebook 10's start. The photo (a file in notebooks/my-images/, a path or a URL; the
// sample 'giraffe' while that folder is empty), the model's top 5, and the two classes the rest of the notebook
// explains: the best, and of the next nine the one whose Grad-CAM map is least like the best's (another object,
// not a near-synonym: malamute and Eskimo dog share one map).
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { findPackageRoot } from '../common/package_root';
import { isImageFile, SAMPLE_FILES } from '../data/images';
import { gradCam } from '../techniques/attribution/gradcam';
import type { Figure } from '../widgets/figure';
import { show as widgetShow } from '../widgets/show';
import { echoAsFigure, probabilitiesOf, ranked } from './attribution_common';
import { netTitle, className, imageOf, netOf } from './resolve';
import { correlation } from './attribution_maps';
import { namedAsync } from './remember';
import type { ImageOfOptions, Net } from './resolve';

/** The folder notebook 10 takes photos from: `<package>/notebooks/my-images`. */
export function myImagesFolder(): string {
  return path.join(findPackageRoot() ?? process.cwd(), 'notebooks', 'my-images');
}

/** What show.yourImage returns: the photo to pass on, the two classes (indices) and their names. */
export interface YourImage {
  /** the path, URL or sample name: pass it to show.saliency, show.occlusion, ... */
  photo: string;
  first: number;
  second: number;
  /** [first, second] */
  classes: [number, number];
  /** their short names */
  labels: [string, string];
  figure: Figure;
}

export interface YourImageOptions {
  /** 'fill' (default): the whole photo squeezed to the model's input; 'cover': a centre crop */
  fit?: ImageOfOptions['fit'];
}

/** The photo: `file` (a name in the folder, a path, a URL, a sample), else the folder's first image, else 'giraffe'. */
function pick(file: string): { photo: string; shown: string } {
  const folder = myImagesFolder();
  if (file) {
    if (SAMPLE_FILES[file]) return { photo: file, shown: `sample ${file}` };
    if (/^https?:/i.test(file) || path.isAbsolute(file) || fs.existsSync(file)) return { photo: file, shown: file };
    return { photo: path.join(folder, file), shown: file };
  }
  const found = fs.existsSync(folder) ? fs.readdirSync(folder).filter(isImageFile).sort() : [];
  if (found.length === 0) {
    console.log(
      'notebooks/my-images/ has no image yet: drop a .jpg or .png there and run again. ' +
        "Using the sample photo 'giraffe' until then.",
    );
    return { photo: 'giraffe', shown: 'sample giraffe' };
  }
  const more =
    found.length > 1 ? ` (the first of ${found.length} images; name another: show.yourImage(net, file))` : '';
  return { photo: path.join(folder, found[0]), shown: found[0] + more };
}

async function yourImage(net: Net = 'mobilenet', file = '', o: YourImageOptions = {}): Promise<YourImage> {
  const caller = 'show.yourImage';
  const model = await netOf(net, caller);
  const { photo, shown } = pick(file);
  const x = await imageOf(model, photo, caller, { fit: o.fit });
  try {
    console.log(`photo: ${shown}`);
    const p = probabilitiesOf(model, x);
    const top = ranked(p).slice(0, 10);
    const best = top.slice(0, 5).map((c) => `${className(model, c)} ${p[c].toFixed(3)}`);
    console.log(`${netTitle(net, model)} top 5: ${best.join(', ')}`);
    const first = top[0];
    const firstCam = await gradCam(model, x, { target: first });
    let second = top[1];
    let lowest = Infinity;
    try {
      for (const c of top.slice(1)) {
        const cam = await gradCam(model, x, { target: c });
        const r = correlation(firstCam, cam);
        cam.dispose();
        if (r < lowest) [lowest, second] = [r, c];
      }
    } finally {
      firstCam.dispose();
    }
    const labels: [string, string] = [className(model, first), className(model, second)];
    console.log(
      `the two classes: ${labels[0]} (rank 1) and ${labels[1]} (rank ${1 + top.indexOf(second)} of 10, ` +
        `P = ${p[second].toFixed(3)}), the least alike Grad-CAM maps: correlation ${lowest.toFixed(2)}`,
    );
    const one = x.expandDims(0) as tf.Tensor4D;
    let figure: Figure;
    try {
      figure = widgetShow.images(one, {
        size: 224,
        title: `the photo as ${netTitle(net, model)} sees it: ${labels[0]} (${p[first].toFixed(2)})`,
      });
    } finally {
      one.dispose();
    }
    return echoAsFigure({ photo, first, second, classes: [first, second], labels, figure }, figure);
  } finally {
    x.dispose();
  }
}

/**
 * `const mine = await show.yourImage('mobilenet')`: the first photo in notebooks/my-images/ (or `file`: a name
 * there, a path, a URL; the sample 'giraffe' while the folder is empty), the model's top 5, and the two classes to
 * explain (`mine.first`, `mine.second`, `mine.classes`), drawn as the model sees it.
 */
export const showYourImage = namedAsync('show.yourImage', yourImage);
