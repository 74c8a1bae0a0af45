// One file per technique; this barrel re-exports them by name.
export * from './embeddings';
export type { Target, Targets, NeuronTarget, ScoreOutput, Progress, ProgressCallback } from './common';
export type { TargetOptions } from './objective';
export { saliency, reduceChannels, REDUCE_CHOICES } from './saliency';
export type { SaliencyOptions, Reduce } from './saliency';
export { guidedBackprop, deconvnet } from './guided';
export type { GuidedOptions } from './guided';
export { gradCam, guidedGradCam, defaultCamLayer } from './gradcam';
export type { GradCamOptions } from './gradcam';
export { smoothGrad, SMOOTHGRAD_VARIANTS } from './smoothgrad';
export type { SmoothGradOptions, SmoothGradVariant } from './smoothgrad';
export { integratedGradients, quadrature, INTEGRATION_METHODS } from './integrated_gradients';
export type { IntegratedGradientsOptions, IntegratedGradientsResult, IntegrationMethod } from './integrated_gradients';
export { gaussianBlur } from './blur';
export type { BaselineChoice } from './baseline';
