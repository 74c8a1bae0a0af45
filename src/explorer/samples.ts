/**
 * Sample photos offered on the page: the named samples of `images.sample` that the data folder
 * holds, read at the model's input size by images.sample itself, so the page starts from the
 * pixels a notebook's `images.sample(name, { size })` gives.
 */
import * as tf from '@tensorflow/tfjs';
import * as images from '../data/images';

export interface Sample {
  name: string;
  /** what the photo shows */
  shows?: string;
  /** the photo at [height, width], RGB in [0, 1] (caller disposes) */
  read: (size: [number, number]) => Promise<tf.Tensor3D>;
}

/** The samples the data folder holds (none when it holds none). */
export function defaultSamples(): Sample[] {
  return images
    .samples()
    .filter((s) => s.present)
    .map((s) => ({ name: s.name, shows: s.shows, read: (size) => images.sample(s.name, { size }) }));
}
