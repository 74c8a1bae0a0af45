/**
 * The image regularizers of Yosinski, Clune, Nguyen, Fuchs & Lipson (2015), "Understanding
 * Neural Networks Through Deep Visualization", with the four hyperparameter combinations of
 * their Table 1, each of which yields recognisable images in its own style.
 */

export interface Regularizers {
  /** L2 decay: each step the image moves this fraction of the way back to the center value (theta_decay). */
  l2Decay?: number;
  /** Blur every this many steps; 0 never (theta_b_every). */
  blurEvery?: number;
  /** Gaussian blur standard deviation in pixels (theta_b_width). */
  blurSigma?: number;
  /** Pixels whose norm over channels is below this percentile are reset (theta_n_pct, 0-100). */
  clipNormPercentile?: number;
  /** Pixels whose contribution |sum_c x * grad| is below this percentile are reset (theta_c_pct, 0-100). */
  clipContributionPercentile?: number;
}

export type RegularizerPreset = 'none' | 'yosinski1' | 'yosinski2' | 'yosinski3' | 'yosinski4';

/** Table 1 of Yosinski et al. 2015 (rows 1-4), and 'none': plain gradient ascent. */
export const REGULARIZER_PRESETS: Readonly<Record<RegularizerPreset, Required<Regularizers>>> = {
  none: { l2Decay: 0, blurEvery: 0, blurSigma: 0, clipNormPercentile: 0, clipContributionPercentile: 0 },
  yosinski1: { l2Decay: 0, blurEvery: 4, blurSigma: 0.5, clipNormPercentile: 50, clipContributionPercentile: 0 },
  yosinski2: { l2Decay: 0.3, blurEvery: 0, blurSigma: 0, clipNormPercentile: 20, clipContributionPercentile: 0 },
  yosinski3: { l2Decay: 0.0001, blurEvery: 4, blurSigma: 1.0, clipNormPercentile: 0, clipContributionPercentile: 0 },
  yosinski4: { l2Decay: 0, blurEvery: 4, blurSigma: 0.5, clipNormPercentile: 0, clipContributionPercentile: 90 },
};
