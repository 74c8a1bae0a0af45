// `choices` of 'cnnviz': every option's valid values as a list, in one namespace instead of beside the techniques
// at the top level (REGULARIZER_PRESETS stays there too: the class-visualization notebook uses it by that name).
export * from './techniques/choices';
export { BACKEND_CHOICES } from './runtime/backend';
export { COLORMAPS } from './widgets/draw/colormap';
