// show.*: the high level. Each figure's file owns its show.x (technique results and tensors
// in, drawn with its render.x); this builds show.* from the list in figures.ts, names and times
// each one and displays the figure in the cell that asked (when in the kernel). Below the list:
// the live displays (progress, live), which are not one-off figures. show.explorer is joined on in
// src/index.ts: the explorer is a product above widgets/, which never import it.
import { fail, named } from '../common';
import { Figure } from './figure';
import { eachFigure, Showers } from './figures';
import { DisplayTarget } from './kernel/bridge';
import { resetLibraryEmbed } from './kernel/plotly';
import { ProgressDisplay, ProgressOptions } from './progress';

/**
 * Runs a show.* body under its public name (errors start with `show.x: `), times it (tensor
 * reading + drawing + encoding), then displays.
 */
function timed<A extends unknown[]>(name: string, fn: (...args: A) => Figure): (...args: A) => Figure {
  const body = named(name, fn);
  return (...args: A) => {
    const t0 = performance.now();
    const fig = body(...args);
    fig.renderMs = performance.now() - t0;
    return fig.show();
  };
}

/** Displays a figure inline (in the kernel) and returns it. */
function showFigure(fig: Figure): Figure {
  if (!(fig instanceof Figure)) fail('show', 'expected a Figure (what render.* and show.* return)');
  return fig.show();
}

/** A live display in this cell: create it now, update(fig) from anywhere later. */
export class LiveDisplay {
  private readonly target = DisplayTarget.here();
  update(fig: Figure): Figure {
    return fig.showIn(this.target);
  }
}

export const show = Object.assign(showFigure, eachFigure('show', timed) as Showers, {
  /** live (step, value, image) display; pass its onStep to classVisualization or a training loop */
  progress: (o: ProgressOptions = {}) => new ProgressDisplay(o),
  live: () => new LiveDisplay(),
  /** the next chart carries plotly.js again (after the cell that carried it was cleared) */
  resetPlotly: resetLibraryEmbed,
});
