/**
 * check.*: the assignment checks. Each runs a student's function on hidden inputs, compares it
 * with the package's reference implementation, and prints one line: passed, or what is wrong
 * (shape, sign, scale, a known mistake, where the values differ) and what to try.
 */
export { saliency } from './saliency';
export type { SaliencyFunction, SaliencyCheckOptions } from './saliency';
export { occlusion } from './occlusion';
export type { OcclusionFunction, OcclusionCheckOptions } from './occlusion';
export { ascentStep, regularize, gradientAscent } from './ascent';
export type {
  AscentStepFunction,
  RegularizeFunction,
  RegularizeOptions,
  GradientAscentFunction,
  GradientAscentOptions,
  AscentCheckOptions,
} from './ascent';
export { knn, features } from './knn';
export type { KnnFunction, FeaturesFunction } from './knn';
export { receptiveFields, receptiveBox } from './receptive';
export type { LayerSpec, FieldOf, Box, ReceptiveFieldsFunction, ReceptiveBoxFunction } from './receptive';
export { guidedRelu, guidedBackprop } from './guided';
export type { GuidedReluFunction, GuidedBackpropFunction } from './guided';
export { close } from './close';
export type { CloseOptions } from './close';
export { passed, summary, CheckFailed } from './report';
export type { CheckResult, CheckOptions } from './report';
export { compareValues, readValue, correlation } from './compare';
export type { Values, Comparison, KnownMistake } from './compare';
export { gradeOne } from './record';
export type { GradedLine } from './record';
