// The public `images` namespace: reading photos and the named samples. Decoding helpers
// (decodeImage, rgbaToFloat) stay internal to data/.
export { read, sample, samples, isImageFile, FITS } from './images';
export type { Fit, ReadImageOptions } from './images';
