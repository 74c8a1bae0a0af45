import type { Pixels } from './draw/raster';

export interface ScatterInput {
  /** x0, y0, x1, y1, ... (N*2) */
  points: ArrayLike<number>;
  /** class per point */
  labels?: ArrayLike<number>;
  classNames?: string[];
  /** dataset index shown on hover (default: position in points) */
  indices?: ArrayLike<number>;
  /** a small image per point, shown on hover */
  thumbnails?: Pixels[];
}

export interface ScatterTrace {
  name: string;
  label: number;
  color: string;
  members: number[];
}
