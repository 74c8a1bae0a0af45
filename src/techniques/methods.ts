// The techniques by name: what 'cnnviz' exports at the top level (constant lists and the statistics helpers are
// in choices.ts and core/stats, under the `choices` and `stats` namespaces).
export { nearestNeighbors, pca, kernelPca, tsne, umap, gridLayout, trustworthiness, knnAccuracy } from './embedding';
export type * from './embedding';
export type {
  Target,
  Targets,
  ClassTargetOptions,
  NeuronTarget,
  ScoreOutput,
  Progress,
  ProgressCallback,
} from './core/inputs';
export type { TargetOptions } from './core/objective';
export { saliency, reduceChannels } from './attribution/saliency';
export type { SaliencyOptions, Reduce } from './attribution/saliency';
export { guidedBackprop, deconvnet } from './attribution/guided';
export type { GuidedOptions } from './attribution/guided';
export { gradCam, guidedGradCam, defaultCamLayer, gradCamWeights } from './attribution/gradcam';
export type { GradCamOptions, CamWeighting } from './attribution/gradcam';
export { smoothGrad } from './attribution/smoothgrad';
export type { SmoothGradOptions, SmoothGradVariant } from './attribution/smoothgrad';
export { integratedGradients, quadrature } from './attribution/integrated_gradients';
export type {
  IntegratedGradientsOptions,
  IntegratedGradientsResult,
  IntegrationMethod,
} from './attribution/integrated_gradients';
export { gaussianBlur } from './core/blur';
export type { BaselineChoice } from './attribution/baseline';
export { occlusion } from './attribution/occlusion';
export type { OcclusionOptions, OcclusionResult, OcclusionFill } from './attribution/occlusion';
export { firstLayerFilters } from './features/filters';
export type { FirstLayerFiltersOptions, FilterNormalization } from './features/filters';
export { featureVectors, pixelVectors, defaultFeatureLayer } from './features/features';
export type { FeatureVectorsOptions } from './features/features';
export { topActivatingPatches } from './features/patches';
export type { TopActivatingPatchesOptions, ActivatingPatch } from './features/patches';
export { strongestActivations, topImages } from './features/strongest';
export type { StrongestActivations, StrongestActivationsOptions, ImageSource } from './features/strongest';
export { sampleActivations } from './features/sample_activations';
export type { SampleActivations, SampleActivationsOptions } from './features/sample_activations';
export { classVisualization } from './features/class_visualization';
export type { ClassVisualizationOptions, ClassVisualizationStep } from './features/class_visualization';
export { featureVisualization } from './features/feature_visualization';
export type { FeatureVisualizationOptions, FeatureVisualizationStep } from './features/feature_visualization';
export { objectives, Objective } from './features/objectives';
export type { ObjectiveLike, ObjectiveTerm } from './features/objectives';
export type { RobustnessOptions } from './features/transforms';
export { REGULARIZER_PRESETS } from './features/regularizers';
export type { Regularizers, RegularizerPreset } from './features/regularizers';
export { kernelShap } from './attribution/kernel_shap';
export type { KernelShapOptions, KernelShapResult, KernelShapImageResult } from './attribution/kernel_shap';
export { segments, gridSegments, slicSegments } from './attribution/segments';
export type { Segmentation, SegmentMethod, SegmentOptions } from './attribution/segments';
export { deletionScore, insertionScore } from './attribution/deletion';
export type { CurveScoreOptions, CurveScore } from './attribution/deletion';
export { randomizationCheck } from './attribution/randomization';
export type {
  RandomizationCheckOptions,
  RandomizationResult,
  RandomizationStep,
  ExplanationMethod,
} from './attribution/randomization';
