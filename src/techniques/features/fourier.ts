/**
 * The image parameterization of Olah, Mordvintsev & Schubert (2017, "Feature Visualization"; Lucid's
 * `fft_image` and `to_valid_rgb`): the optimiser moves the coefficients of a real 2-D Fourier spectrum
 * scaled by 1/frequency, so every frequency changes the image about equally fast (plain pixels learn the
 * high frequencies first: noise); the colours are decorrelated with ImageNet's colour correlation and a
 * sigmoid squashes the result into [0, 1].
 *
 * The wasm backend has no FFT ('Complex' is not a registered kernel), so the inverse transform is two
 * matrix products with a real DFT basis, and its gradient is the transposed products. At a few hundred
 * pixels a side that costs less than the network. The basis can be evaluated at any output size: the
 * same spectrum drawn larger is its band-limited (trigonometric) interpolation, which is how an image
 * optimised at 128 px is returned at 224 px.
 */
import * as tf from '@tensorflow/tfjs';
import { gaussian } from '../../common/random';

/**
 * The square root of ImageNet's colour correlation matrix (its SVD factor), the constant Lucid uses: a
 * parameter vector along its first column changes brightness, the others colour contrasts.
 */
const COLOR_CORRELATION_SQRT = [
  [0.26, 0.09, 0.02],
  [0.27, 0.0, -0.05],
  [0.27, -0.09, 0.03],
];

/** Lucid divides the inverse transform by this (its comment calls it a magic constant): values start small. */
const IMAGE_DIVISOR = 4;

/** Stored frequencies along x of a real spectrum of width w (the others are their complex conjugates). */
export function rfftWidth(w: number): number {
  return Math.floor(w / 2) + 1;
}

/** Signed frequency (cycles per image) of DFT index k on a grid of n (numpy's fftfreq * n). */
function signedFrequency(k: number, n: number): number {
  return k < Math.ceil(n / 2) ? k : k - n;
}

/**
 * Shape of the parameter of `n` images of `c` channels on an h x w grid: [real/imag, h, n, c, kw], the
 * layout the first matrix product wants (rows: the y frequency).
 */
export function spectrumShape(n: number, c: number, h: number, w: number): [number, number, number, number, number] {
  return [2, h, n, c, rfftWidth(w)];
}

/** 1 / max(|f|, 1 / max(h, w))^decay * sqrt(h w) per stored frequency [h, kw] (Lucid's 1/f scaling). */
export function spectrumScale(h: number, w: number, decayPower = 1): Float32Array {
  const kw = rfftWidth(w);
  const out = new Float32Array(h * kw);
  const floor = 1 / Math.max(h, w);
  for (let ky = 0; ky < h; ky++) {
    const fy = signedFrequency(ky, h) / h;
    for (let kx = 0; kx < kw; kx++) {
      const fx = kx / w;
      const f = Math.max(Math.sqrt(fx * fx + fy * fy), floor);
      out[ky * kw + kx] = Math.sqrt(h * w) / Math.pow(f, decayPower);
    }
  }
  return out;
}

/**
 * The real inverse DFT from an h x w spectrum to an H x W image as two matrices: `alongY` [2H, 2h] (complex
 * inverse DFT over y, real and imaginary parts stacked) and `alongX` [2kw, W] (the real inverse over x,
 * counting each stored frequency twice except 0 and the Nyquist one, and dividing by h w as numpy's irfft2
 * does). With H = h and W = w it is exactly irfft2.
 */
export function dftBasis(h: number, w: number, outH = h, outW = w): { alongY: Float32Array; alongX: Float32Array } {
  const kw = rfftWidth(w);
  const alongY = new Float32Array(2 * outH * 2 * h);
  for (let y = 0; y < outH; y++) {
    for (let ky = 0; ky < h; ky++) {
      const a = (2 * Math.PI * signedFrequency(ky, h) * y) / outH;
      const c = Math.cos(a);
      const s = Math.sin(a);
      // [Zr; Zi] = [[C, -S], [S, C]] [Xr; Xi]
      alongY[y * 2 * h + ky] = c;
      alongY[y * 2 * h + h + ky] = -s;
      alongY[(outH + y) * 2 * h + ky] = s;
      alongY[(outH + y) * 2 * h + h + ky] = c;
    }
  }
  const alongX = new Float32Array(2 * kw * outW);
  for (let kx = 0; kx < kw; kx++) {
    const twice = kx === 0 || (w % 2 === 0 && kx === w / 2) ? 1 : 2;
    for (let x = 0; x < outW; x++) {
      const a = (2 * Math.PI * kx * x) / outW;
      // image = sum_kx twice * (Zr cos - Zi sin) / (h w)
      alongX[kx * outW + x] = (twice * Math.cos(a)) / (h * w);
      alongX[(kw + kx) * outW + x] = (-twice * Math.sin(a)) / (h * w);
    }
  }
  return { alongY, alongX };
}

/** The basis of `dftBasis` as tensors (the caller disposes them). */
export interface DftBasis {
  h: number;
  w: number;
  outH: number;
  outW: number;
  alongY: tf.Tensor2D;
  alongX: tf.Tensor2D;
}

export function dftBasisTensors(h: number, w: number, outH = h, outW = w): DftBasis {
  const { alongY, alongX } = dftBasis(h, w, outH, outW);
  return {
    h,
    w,
    outH,
    outW,
    alongY: tf.tensor2d(alongY, [2 * outH, 2 * h]),
    alongX: tf.tensor2d(alongX, [2 * rfftWidth(w), outW]),
  };
}

/** Images [n, H, W, c] from a spectrum [2, h, n, c, kw] (real and imaginary parts): irfft2 as matrix products. */
export function inverseRealDft(spectrum: tf.Tensor, basis: DftBasis): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, n, c, kw] = spectrum.shape;
    const { outH, outW } = basis;
    const z = tf.matMul(basis.alongY, tf.reshape(spectrum, [2 * h, n * c * kw])); // [2H, n c kw]
    const zt = tf.transpose(tf.reshape(z, [2, outH, n, c, kw]), [1, 2, 3, 0, 4]); // [H, n, c, 2, kw]
    const img = tf.matMul(tf.reshape(zt, [outH * n * c, 2 * kw]), basis.alongX); // [H n c, W]
    return tf.transpose(tf.reshape(img, [outH, n, c, outW]), [1, 0, 3, 2]) as tf.Tensor4D;
  });
}

/** A seeded starting spectrum (normal, standard deviation sd, as Lucid's 0.01). */
export function randomSpectrum(shape: number[], rand: () => number, sd = 0.01): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: size }, () => sd * gaussian(rand));
}

/** The colour matrix applied to [.., 3] rows (normalised so its largest column has norm 1), transposed for matMul. */
function colorMatrix(): tf.Tensor2D {
  let maxNorm = 0;
  for (let j = 0; j < 3; j++) maxNorm = Math.max(maxNorm, Math.hypot(...COLOR_CORRELATION_SQRT.map((row) => row[j])));
  const t = new Float32Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) t[j * 3 + i] = COLOR_CORRELATION_SQRT[i][j] / maxNorm;
  return tf.tensor2d(t, [3, 3]);
}

/**
 * Valid pixels in [0, 1] from the linear image: colours decorrelated (3 channels only) and a sigmoid.
 */
export function toValidRgb(linear: tf.Tensor4D, decorrelate = true): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = linear.shape;
    let x: tf.Tensor = linear;
    if (decorrelate && c === 3) x = tf.reshape(tf.matMul(tf.reshape(x, [-1, 3]), colorMatrix()), [n, h, w, c]);
    return tf.sigmoid(x) as tf.Tensor4D;
  });
}

/**
 * The whole parameterization: spectrum parameter -> images [n, H, W, c] in [0, 1]. `scale` is the
 * spectrumScale tensor [1, h, 1, 1, kw].
 */
export function fourierImage(spectrum: tf.Tensor, scale: tf.Tensor, basis: DftBasis, decorrelate = true): tf.Tensor4D {
  return tf.tidy(() => {
    const linear = inverseRealDft(tf.mul(spectrum, scale), basis);
    return toValidRgb(tf.div(linear, IMAGE_DIVISOR) as tf.Tensor4D, decorrelate);
  });
}
