// The lecture's short forms for notebooks 06, 07, 09, 10: occlusion, saliency, guided backprop, Grad-CAM, IG,
// SmoothGrad, SHAP, sanity checks.
// Each entry is one `show.x(net, ...)` a teacher types: it resolves its arguments (./resolve), computes through the
// techniques with the heavy step cached (./remember), prints the numbers the lecture reads out, and draws.
import { showGuidedBackprop, showGuidedNeurons } from './attribution_backward';
import {
  showAttributions,
  showGradCam,
  showIntegratedGradients,
  showSaliency,
  showSmoothGrad,
} from './attribution_maps';
import { showOcclusion } from './attribution_occlusion';
import { showYourImage } from './attribution_photo';
import { showDeletion, showRandomizedMaps, showSanity } from './attribution_sanity';
import { showShap } from './attribution_shap';
import { showPredictions } from './attribution_predictions';

export const ATTRIBUTION_SHOWS = {
  predictions: showPredictions,
  occlusion: showOcclusion,
  saliency: showSaliency,
  guidedBackprop: showGuidedBackprop,
  guidedNeurons: showGuidedNeurons,
  gradCam: showGradCam,
  smoothGrad: showSmoothGrad,
  integratedGradients: showIntegratedGradients,
  attributions: showAttributions,
  shap: showShap,
  deletion: showDeletion,
  sanity: showSanity,
  randomizedMaps: showRandomizedMaps,
  yourImage: showYourImage,
};
