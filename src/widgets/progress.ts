// render.progress and the live Progress display: a line of (step, value) beside the current
// image, redrawn in place in the cell that created it (display id), at most a few times a
// second, for class visualization by gradient ascent and for training.
import { formatValue } from './draw/attribution';
import { DisplayTarget } from './kernel/bridge';
import { Figure } from './figure';
import { classColor } from './draw/palette';
import { Normalize, Pixels, scaleFor, toRgba, upscale } from './draw/raster';
import { niceTicks } from './draw/ticks';
import { FONT_SIZE, measureText, Sheet, SMALL_FONT_SIZE } from './draw/sheet';
import { isTensor, toPixels } from './tensors';
import type { Tensor } from '@tensorflow/tfjs';
import { fail } from '../common';

export { niceTicks };

export interface ProgressPoint {
  step: number;
  values: Record<string, number>;
}

export interface ProgressOptions {
  title?: string;
  /** steps expected, for the x axis and 'step k / total' */
  total?: number;
  /** name of the value when update() is given a bare number (default 'score') */
  valueName?: string;
  /** chart size in px (default 420 x 240) */
  width?: number;
  height?: number;
  /** longer side of the image panel (default 160) */
  imageSize?: number;
  /** how the image is mapped to [0, 1] (default 'minmax': optimised images have any range) */
  normalize?: Normalize;
}

export function progress(history: ProgressPoint[], image: Pixels | null, o: ProgressOptions = {}): Figure {
  const cw = o.width ?? 420;
  const chH = o.height ?? 240;
  const names = [...new Set(history.flatMap((h) => Object.keys(h.values)))];
  const last = history[history.length - 1];
  const title =
    (o.title ? o.title + ' · ' : '') +
    (last
      ? `step ${last.step}${o.total ? ` / ${o.total}` : ''} · ` +
        names.map((n) => `${n} ${formatValue(last.values[n])}`).join(', ')
      : 'waiting for the first step');
  let img = null;
  if (image) {
    const rgba = toRgba(image, o.normalize ?? 'minmax');
    img = upscale(rgba, scaleFor(image.width, image.height, o.imageSize ?? 160));
  }
  const PAD = 8;
  const imgW = img ? img.width + 12 : 0;
  const width = Math.max(PAD + cw + imgW + PAD, Math.ceil(measureText(title, FONT_SIZE, true)) + 2 * PAD);
  const top = PAD + FONT_SIZE + 10;
  const height = top + Math.max(chH, img ? img.height : 0) + PAD;
  const sheet = new Sheet(width, height);
  sheet.text(title, PAD, PAD, { size: FONT_SIZE, bold: true });

  // axes
  let ymin = Infinity,
    ymax = -Infinity;
  for (const h of history)
    for (const n of names) {
      const v = h.values[n];
      if (Number.isFinite(v)) {
        ymin = Math.min(ymin, v);
        ymax = Math.max(ymax, v);
      }
    }
  if (!Number.isFinite(ymin)) {
    ymin = 0;
    ymax = 1;
  }
  if (ymax === ymin) {
    ymin -= 1;
    ymax += 1;
  }
  // losses and scores that start near zero read better against a zero baseline
  if (ymin >= 0 && ymin < 0.25 * ymax) ymin = 0;
  const xmin = history.length ? history[0].step : 0;
  const xmax = Math.max(o.total ?? 0, last ? last.step : 1, xmin + 1);
  const yt = niceTicks(ymin, ymax, 5);
  const labelW = Math.ceil(Math.max(...yt.map((v) => measureText(formatValue(v), SMALL_FONT_SIZE)))) + 8;
  const L = PAD + labelW;
  const T = top + 6;
  const W = cw - labelW - 6;
  const H = chH - 6 - SMALL_FONT_SIZE - 14;
  const X = (s: number) => L + ((s - xmin) / (xmax - xmin)) * W;
  const Y = (v: number) => T + (1 - (v - ymin) / (ymax - ymin)) * H;
  sheet.box(L, T, W, H, '#999999', 1);
  for (const v of yt) {
    sheet.fill(L - 4, Math.round(Y(v)), 4, 1, '#666666');
    sheet.text(formatValue(v), L - 6, Y(v), { size: SMALL_FONT_SIZE, align: 'right', baseline: 'middle' });
  }
  for (const s of niceTicks(xmin, xmax, 5)) {
    sheet.fill(Math.round(X(s)), T + H, 1, 4, '#666666');
    sheet.text(String(s), X(s), T + H + 6, { size: SMALL_FONT_SIZE, align: 'center' });
  }
  names.forEach((n, k) => {
    const color = classColor(k, Math.max(names.length, 1));
    const ctx = sheet.ctx;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    let started = false;
    for (const h of history) {
      const v = h.values[n];
      if (!Number.isFinite(v)) continue;
      if (!started) {
        ctx.moveTo(X(h.step), Y(v));
        started = true;
      } else ctx.lineTo(X(h.step), Y(v));
    }
    ctx.stroke();
    if (names.length > 1) {
      sheet.fill(L + 8, T + 8 + k * 16, 12, 3, color);
      sheet.text(n, L + 24, T + 9 + k * 16, { size: SMALL_FONT_SIZE, baseline: 'middle' });
    }
  });
  if (img) sheet.put(img, PAD + cw + 12, top);
  return new Figure({
    kind: 'progress',
    width,
    height,
    png: sheet.png(),
    text: title,
    info: { steps: history.length },
  });
}

/** The step reports of classVisualization and trainCnn (only the fields read here). */
export interface StepReport {
  step?: number;
  steps?: number;
  score?: number;
  image?: Float32Array | Pixels | Tensor;
  shape?: number[];
  epoch?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  loss?: number;
  testAccuracy?: number;
}

/** A live progress display bound to the cell that created it. */
export class ProgressDisplay {
  readonly history: ProgressPoint[] = [];
  private image: Pixels | null = null;
  private target: DisplayTarget;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;
  /** minimum ms between redraws */
  interval = 250;

  readonly options: ProgressOptions;

  constructor(options: ProgressOptions = {}) {
    this.options = { ...options };
    this.target = DisplayTarget.here();
    // a redraw still waiting for its timer is drawn before the cell ends (nothing goes out after)
    this.target.beforeCellEnds(() => {
      if (this.timer) this.done();
    });
    this.redraw();
  }

  /** Records a step; a bare number is stored under options.valueName ('score'). */
  update(step: number, value: number | Record<string, number>, image?: Pixels | Tensor | null): void {
    const values = typeof value === 'number' ? { [this.options.valueName ?? 'score']: value } : value;
    this.history.push({ step, values });
    if (image) {
      // copied now: the caller may dispose its tensor as soon as we return
      const p = toPixels(image, 'progress image');
      this.image = { ...p, data: isTensor(image) ? p.data : Float32Array.from(p.data) };
    }
    this.dirty = true;
    const now = Date.now();
    if (now - this.lastDraw >= this.interval) this.redraw();
    else if (!this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = null;
          if (this.dirty) this.redraw();
        },
        this.interval - (now - this.lastDraw),
      );
      this.timer.unref?.();
    }
  }

  /**
   * A callback for the techniques and loops that report progress:
   *  (step, value, image?)                            any loop
   *  ({ step, steps, score, image?, shape })          classVisualization's onStep
   *  ({ epoch, epochs, step, stepsPerEpoch, loss, testAccuracy? })   models.trainCnn's onProgress
   */
  readonly onStep = (
    first: number | StepReport,
    value?: number | Record<string, number>,
    image?: Pixels | Tensor | null,
  ): void => {
    if (typeof first === 'number') {
      this.update(first, value ?? NaN, image);
      return;
    }
    if (!first || typeof first !== 'object') fail('onStep', 'expected (step, value, image?) or a step report object');
    const r = first;
    if (typeof r.epoch === 'number' && typeof r.stepsPerEpoch === 'number') {
      if (this.options.total === undefined && typeof r.epochs === 'number')
        this.options.total = r.epochs * r.stepsPerEpoch;
      const values: Record<string, number> = { loss: r.loss ?? NaN };
      if (typeof r.testAccuracy === 'number') values['test accuracy'] = r.testAccuracy;
      this.update((r.epoch - 1) * r.stepsPerEpoch + (r.step ?? 0), values);
      return;
    }
    if (this.options.total === undefined && typeof r.steps === 'number') this.options.total = r.steps;
    let img: Pixels | Tensor | null = null;
    if (r.image && r.shape && ArrayBuffer.isView(r.image)) {
      img = { height: r.shape[0], width: r.shape[1], channels: r.shape[2], data: r.image as Float32Array };
    } else if (r.image) img = r.image as Pixels | Tensor;
    this.update(r.step ?? this.history.length, r.score ?? r.loss ?? NaN, img);
  };

  /** The same callback under the name training loops use. */
  readonly onProgress = this.onStep;

  /** Draws the final state now and returns it. */
  done(): Figure {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    return this.redraw();
  }

  get figure(): Figure {
    return progress(this.history, this.image, this.options);
  }

  private redraw(): Figure {
    const t0 = performance.now();
    const fig = this.figure;
    fig.renderMs = performance.now() - t0;
    this.lastDraw = Date.now();
    this.dirty = false;
    if (this.target.live) fig.showIn(this.target);
    return fig;
  }
}
