// render.*: the low level. Plain data in (Pixels, Fields, arrays), a Figure out; nothing
// is displayed. Built from the list in figures.ts.
import { named } from '../common';
import { eachFigure, Renderers } from './figures';

/** Each renderer under its public name, so its errors start with `render.x: `. */
export const render = eachFigure('render', named) as Renderers;
