/** A scalar field per pixel, or several channels per pixel (summed or reduced first). */
export interface Field {
  width: number;
  height: number;
  channels?: number;
  data: ArrayLike<number>;
}
