export { load, save, card, classNames, modelsDir, shippedPath, SHIPPED_MODELS } from './zoo';
export type { ModelCard } from './zoo';
export { fileIO, modelJsonPath } from './io';
export { layers, getLayer, receptiveField } from './layers';
export type { LayerInfo } from './layers';
export { inputBox, propagate } from './receptive_field';
export type { ReceptiveField, InputBox } from './receptive_field';
export { lectureCnn } from './architectures';
export type { CnnOptions } from './architectures';
