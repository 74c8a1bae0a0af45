// What every layer shares: the error style and option checks. Imports nothing of cnnviz.
export { BY_WRAPPER, fail, InternalError, named, shapeText } from './errors';
export { checkModel } from './model_check';
export { checkChoice, checkInt, checkNumber, checkPair } from './options';
export type { IntBounds, NumberBounds } from './options';
