// Widgets: technique results -> Figures, shown inline in the tslab kernel or saved to files.
// Top-level names are few and distinct; everything else is under `widgets`.
export { show, LiveDisplay } from './show';
export { render } from './render';
export { Figure } from './figure';
export { ProgressDisplay } from './progress';
export { colormap } from './draw/colormap';
export type { ColormapName, Colormap } from './draw/colormap';
export * as widgets from './all';
