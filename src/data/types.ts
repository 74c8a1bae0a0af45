import type * as tf from '@tensorflow/tfjs';

export type Split = 'train' | 'test' | 'all';
export const SPLITS: readonly Split[] = ['train', 'test', 'all'];

export interface Dataset {
  name: string;
  split: Split;
  /** [N, H, W, C] float32 in [0, 1]; the caller owns it (dispose when done). */
  images: tf.Tensor4D;
  labels: Int32Array;
  classNames: string[];
  /** 'imagenet-sample': the file name of each image ('n01440764_tench.JPEG'). */
  files?: string[];
  /** 'imagenet-sample': the WordNet synset of each image ('n01440764'). */
  synsets?: string[];
}

/** A dataset before it becomes a tensor: lets `limit` copy only what is asked for. */
export interface RawDataset {
  name: string;
  height: number;
  width: number;
  channels: number;
  count: number;
  /** Write image i as floats in [0, 1] (HWC) into out at offset. */
  pixelsAt(i: number, out: Float32Array, offset: number): void;
  labels: Int32Array;
  classNames: string[];
}
