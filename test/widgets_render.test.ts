// Pixel-level checks of the renderers: colours against published tables, blend arithmetic,
// nearest-neighbour upscaling, layout sizes, and that nothing is drawn into the border.
import * as assert from 'assert';
import { colormap, render } from '../src/widgets';
import { normalizeAttribution, percentile } from '../src/widgets/draw/attribution';
import { alignOcclusion } from '../src/widgets/occlusion';
import { cropField } from '../src/widgets/patches';
import { encodeGrayPng } from '../src/widgets/draw/png_encode';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cleanBorder, decodePng, hex, pngSize, uniformBlock } from './util/widgets_pixels';

type Panel = { x: number; y: number; width: number; height: number; title: string };
const rgb = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

describe('widgets: colormaps match the published tables', () => {
  // matplotlib's viridis / inferno (Smith & van der Walt) at 0, 1/4, 1/2, 3/4, 1
  const published: Record<string, string[]> = {
    viridis: ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'],
    inferno: ['#000004', '#57106e', '#bc3754', '#f98e09', '#fcffa4'],
  };
  for (const [name, hexes] of Object.entries(published)) {
    it(`${name} at 0, 0.25, 0.5, 0.75 and 1`, () => {
      const cm = colormap(name as 'viridis');
      assert.deepStrictEqual(
        [0, 0.25, 0.5, 0.75, 1].map((t) => hex(cm(t))),
        hexes,
      );
    });
  }
  it('diverging rdbu: ColorBrewer RdBu (11 classes) reversed, white in the middle', () => {
    // ColorBrewer RdBu, listed red -> blue
    const brewer = [
      '#67001f',
      '#b2182b',
      '#d6604d',
      '#f4a582',
      '#fddbc7',
      '#f7f7f7',
      '#d1e5f0',
      '#92c5de',
      '#4393c3',
      '#2166ac',
      '#053061',
    ];
    const cm = colormap('rdbu');
    for (let k = 0; k <= 10; k++) assert.strictEqual(hex(cm(k / 10)), brewer[10 - k], `t = ${k / 10}`);
    // halfway between two control points is their average
    const a = rgb('#f7f7f7');
    const b = rgb('#fddbc7');
    assert.deepStrictEqual(
      cm(0.55),
      a.map((v, i) => Math.round((v + b[i]) / 2)),
    );
  });
  it('clips out-of-range values and names the valid colormaps on a typo', () => {
    assert.strictEqual(hex(colormap('viridis')(-3)), '#440154');
    assert.strictEqual(hex(colormap('viridis')(7)), '#fde725');
    assert.throws(
      () => colormap('jet' as 'viridis'),
      /unknown colormap 'jet'; valid colormaps: viridis, inferno, rdbu, gray/,
    );
  });
});

describe('widgets: attribution normalisation', () => {
  it('percentile interpolates linearly like numpy', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.strictEqual(percentile(v, 50), 50.5);
    assert.strictEqual(percentile(v, 99), 99.01);
    assert.strictEqual(percentile([3, 1, 2], 100), 3);
  });
  it('keeps the requested sign and clips at the percentile', () => {
    const raw = [-4, -1, 0, 1, 2, 100];
    const close = (a: ArrayLike<number>, b: number[]) =>
      b.forEach((v, i) => assert.ok(Math.abs(a[i] - v) < 1e-6, `${a[i]} vs ${v}`));
    close(normalizeAttribution(raw, 'positive', 100).values, [0, 0, 0, 0.01, 0.02, 1]);
    close(normalizeAttribution(raw, 'negative', 100).values, [1, 0.25, 0, 0, 0, 0]);
    const all = normalizeAttribution(raw, 'all', 100);
    assert.strictEqual(all.threshold, 100);
    assert.ok(Math.abs(all.values[0] + 0.04) < 1e-7);
    // clip at the median of |raw| = 1.5: the outlier saturates, 1 stays below 1
    const clipped = normalizeAttribution(raw, 'absolute', 50);
    assert.strictEqual(clipped.threshold, 1.5);
    assert.strictEqual(clipped.values[5], 1);
    assert.ok(Math.abs(clipped.values[3] - 1 / 1.5) < 1e-6);
    assert.throws(
      () => normalizeAttribution(raw, 'both' as 'all', 99),
      /unknown sign 'both'; valid choices: positive, negative, absolute, all/,
    );
  });
});

describe('widgets: heatmap pixels', () => {
  // 2x2 image: red, green / blue, gray 0.4; attribution chosen to hit table entries exactly
  const image = { width: 2, height: 2, channels: 3, data: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0.4, 0.4, 0.4] };
  const attribution = { width: 2, height: 2, data: [0, 0.5, 1, 2] }; // clip 100 -> 0, .25, .5, 1
  const table = ['#440154', '#3b528b', '#21918c', '#fde725'].map(rgb); // viridis at 0, .25, .5, 1
  const imageBytes = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [102, 102, 102],
  ];

  async function panels(mode: 'heat' | 'blended' | 'masked' | 'alpha', extra: object = {}) {
    const fig = render.heatmap(
      { attribution, image },
      {
        mode,
        sign: 'positive',
        clip: 100,
        colormap: 'viridis',
        scale: 4,
        showImage: false,
        colorbar: false,
        ...extra,
      },
    );
    const d = await decodePng(fig.png);
    const p = (fig.info.panels as Panel[][])[0][0];
    // the centre of each 4x4 block, and the block is uniform (nearest-neighbour)
    return [0, 1, 2, 3].map((i) => {
      const x = p.x + (i % 2) * 4;
      const y = p.y + Math.floor(i / 2) * 4;
      assert.ok(uniformBlock(d, x, y, 4, 4), `pixel ${i} upscaled to a uniform 4x4 block`);
      return d.at(x + 1, y + 1);
    });
  }

  it("'heat' draws the colormap", async () => {
    const px = await panels('heat');
    px.forEach((p, i) => assert.deepStrictEqual(p.slice(0, 3), table[i]));
  });
  it("'blended' = round(0.5 * image + 0.5 * colour), over the colour image", async () => {
    const px = await panels('blended', { background: 'color' });
    px.forEach((p, i) =>
      assert.deepStrictEqual(
        p.slice(0, 3),
        imageBytes[i].map((v, k) => Math.round(0.5 * v + 0.5 * table[i][k])),
      ),
    );
  });
  it("'blended' over gray uses BT.601 luminance, with alpha 0.3", async () => {
    const px = await panels('blended', { alpha: 0.3 });
    const gray = imageBytes.map(([r, g, b]) => Math.round(0.299 * r + 0.587 * g + 0.114 * b));
    px.forEach((p, i) =>
      assert.deepStrictEqual(
        p.slice(0, 3),
        table[i].map((c) => Math.round(0.7 * gray[i] + 0.3 * c)),
      ),
    );
  });
  it("'masked' scales the image by the attribution", async () => {
    const px = await panels('masked');
    const m = [0, 0.25, 0.5, 1];
    px.forEach((p, i) =>
      assert.deepStrictEqual(
        p.slice(0, 3),
        imageBytes[i].map((v) => Math.round(v * m[i])),
      ),
    );
  });
  it("'alpha' makes unimportant pixels transparent (drawn over a light checkerboard)", async () => {
    const px = await panels('alpha');
    assert.deepStrictEqual(px[3].slice(0, 3), imageBytes[3]); // opaque
    assert.deepStrictEqual(px[0].slice(0, 3), [255, 255, 255]); // fully transparent over the white square
  });
  it("sign 'all' uses the diverging map: -max blue, 0 white, +max red", async () => {
    const fig = render.heatmap(
      { attribution: { width: 3, height: 1, data: [-2, 0, 2] } },
      { sign: 'all', clip: 100, scale: 2, colorbar: false },
    );
    const d = await decodePng(fig.png);
    const p = (fig.info.panels as Panel[][])[0][0];
    assert.deepStrictEqual(
      [0, 1, 2].map((i) => hex(d.at(p.x + 2 * i, p.y))),
      ['#053061', '#f7f7f7', '#67001f'],
    );
  });
  it('percentile clipping saturates outliers', async () => {
    const data = Array.from({ length: 100 }, (_, i) => (i === 99 ? 1000 : i));
    const fig = render.heatmap(
      { attribution: { width: 10, height: 10, data } },
      { sign: 'positive', clip: 90, colormap: 'viridis', scale: 1, colorbar: false },
    );
    const d = await decodePng(fig.png);
    const p = (fig.info.panels as Panel[][])[0][0];
    // the 90th percentile of 0..98 and 1000 is 89.1: 1000 and 89 (89 / 89.1 -> last table entry)
    // reach the top colour, 88 does not; without clipping 89 would be dark (89 / 1000)
    assert.strictEqual(hex(d.at(p.x + 9, p.y + 9)), '#fde725');
    assert.strictEqual(hex(d.at(p.x + 9, p.y + 8)), '#fde725');
    assert.notStrictEqual(hex(d.at(p.x + 8, p.y + 8)), '#fde725');
    assert.strictEqual(hex(d.at(p.x, p.y)), '#440154');
  });
  it('draws a labelled colour bar and keeps labels inside the picture', async () => {
    const fig = render.heatmap(
      { attribution, image, label: 'a row title' },
      { mode: ['heat', 'blended', 'masked', 'alpha'], title: 'all four modes' },
    );
    const d = await decodePng(fig.png);
    assert.ok(cleanBorder(d), 'nothing drawn in the 2 px border');
    assert.strictEqual((fig.info.panels as Panel[][])[0].length, 5);
  });
  it('names the valid choices on bad options', () => {
    assert.throws(
      () => render.heatmap({ attribution }, { mode: 'overlay' as 'heat' }),
      /render\.heatmap: unknown mode 'overlay'; valid choices: heat, blended, masked, alpha/,
    );
    assert.throws(() => render.heatmap({ attribution }, { mode: 'blended' }), /mode 'blended' needs the image/);
    assert.throws(
      () => render.heatmap({ attribution: { width: 3, height: 3, data: [1] } }),
      /attribution has 1 values; expected 3x3x1 = 9/,
    );
  });
});

describe('widgets: filters, images and layout', () => {
  it('a grid of n filters has the expected size, crisp blocks and per-filter stretch', async () => {
    const n = 16;
    const data = new Float32Array(n * 5 * 5).map((_, i) => (i % 25) * (1 + Math.floor(i / 25)));
    const fig = render.filters({ n, kh: 5, kw: 5, c: 1, data });
    // 4 x 4 cells of 50 px (5 px kernels x 10), 4 px apart, an 18 px caption line, 8 px margins
    assert.deepStrictEqual(pngSize(fig.png), { width: 8 + 4 * 50 + 3 * 4 + 8, height: 8 + 4 * (50 + 18) + 3 * 4 + 8 });
    assert.strictEqual(fig.width, 228);
    const d = await decodePng(fig.png);
    const cells = fig.info.cells as { x: number; y: number }[][];
    for (const [r, c] of [
      [0, 0],
      [3, 3],
    ]) {
      const { x, y } = cells[r][c];
      for (let p = 0; p < 25; p++) {
        const bx = x + (p % 5) * 10;
        const by = y + Math.floor(p / 5) * 10;
        assert.ok(uniformBlock(d, bx, by, 10, 10));
        const want = Math.round((255 * p) / 24); // each filter stretched to its own min..max
        assert.deepStrictEqual(d.at(bx + 5, by + 5).slice(0, 3), [want, want, want]);
      }
    }
    assert.ok(cleanBorder(d));
  });
  it('RGB kernels, shared normalisation, and errors for other channel counts', async () => {
    const data = Float32Array.from([-1, 0, 1, 1, 0, -1]); // two 1x1 RGB kernels
    const fig = render.filters({ n: 2, kh: 1, kw: 1, c: 3, data }, { normalize: 'shared', labels: false, scale: 8 });
    const d = await decodePng(fig.png);
    const cells = fig.info.cells as { x: number; y: number }[][];
    assert.deepStrictEqual(d.at(cells[0][0].x + 4, cells[0][0].y + 4).slice(0, 3), [0, 128, 255]);
    assert.deepStrictEqual(d.at(cells[0][1].x + 4, cells[0][1].y + 4).slice(0, 3), [255, 128, 0]);
    assert.throws(
      () => render.filters({ n: 1, kh: 1, kw: 1, c: 8, data: new Float32Array(8) }),
      /kernels have 8 input channels; pass channel \(0..7\)/,
    );
    assert.throws(
      () => render.filters({ n: 2, kh: 3, kw: 3, c: 1, data: new Float32Array(5) }),
      /expected \[n, kh, kw, c\] = \[2, 3, 3, 1\] = 18/,
    );
  });
  it('small images are upscaled by whole pixels, captions widen cells instead of being cut', async () => {
    const img = { width: 4, height: 4, channels: 1, data: Array.from({ length: 16 }, (_, i) => i / 15) };
    const caption = 'a caption much wider than the image';
    const fig = render.images([img, img], { captions: [caption, 'b'], correct: [true, false], size: 40 });
    const d = await decodePng(fig.png);
    const cells = fig.info.cells as { x: number; y: number }[][];
    const cw = fig.info.cellWidth as number;
    assert.strictEqual(fig.info.scale, 10);
    assert.ok(cw > 40 && cw <= 100, `cell widened for the caption: ${cw}`);
    const ox = cells[0][0].x + Math.floor((cw - 40) / 2);
    const oy = cells[0][0].y;
    for (let p = 0; p < 16; p++) {
      assert.ok(uniformBlock(d, ox + (p % 4) * 10, oy + Math.floor(p / 4) * 10, 10, 10));
      const v = Math.round((255 * p) / 15);
      assert.deepStrictEqual(d.at(ox + (p % 4) * 10 + 3, oy + Math.floor(p / 4) * 10 + 3).slice(0, 3), [v, v, v]);
    }
    // green frame just outside the first image, red outside the second
    assert.strictEqual(hex(d.at(ox - 2, oy + 20)), '#1a9850');
    const ox2 = cells[0][1].x + Math.floor((cw - 40) / 2);
    assert.strictEqual(hex(d.at(ox2 - 2, oy + 20)), '#d73027');
    assert.ok(cleanBorder(d));
  });
  it('neighbours: query column and one column group per space', async () => {
    const img = { width: 2, height: 2, channels: 1, data: [0, 1, 1, 0] };
    const fig = render.neighbors(
      {
        queries: [img, img],
        queryCaptions: [['7'], ['3']],
        sections: [
          {
            title: 'feature space',
            images: [
              [img, img],
              [img, img],
            ],
            captions: [
              [
                ['7', 'd 0.1'],
                ['1', 'd 0.2'],
              ],
              [
                ['3', 'd 1'],
                ['3', 'd 2'],
              ],
            ],
            correct: [
              [true, false],
              [true, true],
            ],
          },
          {
            title: 'pixel space',
            images: [
              [img, img, img],
              [img, img, img],
            ],
          },
        ],
      },
      { size: 30 },
    );
    const cells = fig.info.cells as { x: number; y: number }[][];
    assert.strictEqual(cells.length, 2);
    assert.strictEqual(cells[0].length, 1 + 2 + 3);
    // the group gap separates the spaces
    const step = cells[0][2].x - cells[0][1].x;
    assert.ok(cells[0][3].x - cells[0][2].x > step);
    assert.ok(cleanBorder(await decodePng(fig.png)));
    assert.throws(
      () => render.neighbors({ queries: [img], sections: [{ title: 'x', images: [] }] }),
      /section 'x' has neighbours for 0 queries; expected 1/,
    );
  });
});

describe('widgets: patches, occlusion, image layouts, progress', () => {
  it('crops the receptive field with its padding', () => {
    const img = { width: 4, height: 4, channels: 1, data: Array.from({ length: 16 }, (_, i) => i) };
    const crop = cropField(
      img,
      { top: 0, left: 2, bottom: 2, right: 4, padding: { top: 1, left: 0, bottom: 0, right: 1 } },
      -1,
    );
    assert.strictEqual(crop.width, 3);
    assert.strictEqual(crop.height, 3);
    assert.deepStrictEqual(Array.from(crop.data), [-1, -1, -1, 2, 3, -1, 6, 7, -1]);
    assert.throws(() => cropField(img, { top: 0, left: 0, bottom: 5, right: 2 }), /does not fit a 4x4 image/);
  });
  it('draws the box where the receptive field is', async () => {
    const img = { width: 10, height: 10, channels: 1, data: new Float32Array(100) };
    const fig = render.patches(
      [{ image: img, box: { top: 2, left: 3, bottom: 6, right: 8 }, index: 4, activation: 1.5 }],
      { scale: 10 },
    );
    const d = await decodePng(fig.png);
    const cell = (fig.info.cells as { x: number; y: number }[][])[0][0];
    const cw = fig.info.cellWidth as number;
    const ox = cell.x + Math.floor((cw - 100) / 2);
    assert.strictEqual(hex(d.at(ox + 30, cell.y + 40)), '#ffcc00'); // left edge
    assert.strictEqual(hex(d.at(ox + 79, cell.y + 40)), '#ffcc00'); // right edge (column 7's last pixel)
    assert.strictEqual(hex(d.at(ox + 50, cell.y + 40)), '#000000'); // inside
    assert.ok(cleanBorder(d));
  });
  it('occlusion values land under the windows that produced them', () => {
    const image = { width: 8, height: 8, channels: 1, data: new Float32Array(64) };
    const map = { width: 3, height: 3, data: [0, 1, 2, 3, 4, 5, 6, 7, 8] };
    const a = alignOcclusion({ image, map, window: 4, stride: 2 });
    // windows start at 0, 2, 4 (centres 1.5, 3.5, 5.5): rows 0-2 -> 0, 3-4 -> 1, 5-7 -> 2
    const rowOf = [0, 0, 0, 1, 1, 2, 2, 2];
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) assert.strictEqual(a[y * 8 + x], rowOf[y] * 3 + rowOf[x]);
    // a window grid that stops short leaves the last rows uncovered
    const b = alignOcclusion({
      image,
      map: { width: 2, height: 2, data: [1, 2, 3, 4] },
      ys: [0, 3],
      xs: [0, 3],
      window: 3,
    });
    assert.ok(Number.isNaN(b[7 * 8 + 7]));
    assert.strictEqual(b[0], 1);
    assert.throws(() => alignOcclusion({ image, map }), /needs its positions: pass window and stride, or ys and xs/);
  });
  it('occlusion figure: map panel aligned with the image panel, min and max at the viridis ends', async () => {
    const image = { width: 8, height: 8, channels: 1, data: new Float32Array(64).fill(1) };
    const fig = render.occlusion(
      {
        image,
        map: { width: 3, height: 3, data: [0.2, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9] },
        window: 4,
        stride: 2,
        baseline: 0.95,
      },
      { scale: 10 },
    );
    const d = await decodePng(fig.png);
    const lefts = fig.info.panelLefts as number[];
    const top = fig.info.panelTop as number;
    assert.strictEqual(hex(d.at(lefts[1] + 5, top + 5)), '#440154');
    assert.strictEqual(hex(d.at(lefts[1] + 75, top + 75)), '#fde725');
    assert.deepStrictEqual(d.at(lefts[0] + 5, top + 5).slice(0, 3), [255, 255, 255]);
    assert.ok(cleanBorder(d));
  });
  it('occlusion: the map panel is titled by what it draws (logit, probability, or score when unknown)', () => {
    const image = { width: 8, height: 8, channels: 1, data: new Float32Array(64).fill(1) };
    const input = {
      image,
      map: { width: 3, height: 3, data: [4.9, 6, 7, 8, 9, 10, 11, 12, 12.8] },
      window: 4,
      stride: 2,
    };
    const titleOf = (extra: object, o: object = {}) =>
      (render.occlusion({ ...input, ...extra }, o).info.panelTitles as string[])[1];
    assert.strictEqual(titleOf({ output: 'logits' }), 'logit map');
    assert.strictEqual(titleOf({ output: 'probs' }), 'probability map');
    assert.strictEqual(titleOf({}, { range: 'probability' }), 'probability map');
    assert.strictEqual(titleOf({}), 'score map');
    assert.throws(
      () => titleOf({ output: 'softmax' }),
      /^Error: render\.occlusion: unknown output 'softmax'; valid choices: probs, logits/,
    );
  });
  it('heatmap cols: the rows as a grid, each label over its panels, no taller than its lines', async () => {
    const item = (v: number) => ({
      attribution: { width: 4, height: 4, data: new Float32Array(16).fill(v) },
      label: `map ${v}`,
    });
    const fig = render.heatmap([1, 2, 3, 4, 5].map(item), { cols: 3, scale: 10, mode: 'heat' });
    const panels = fig.info.panels as Panel[][];
    assert.strictEqual(panels.length, 5);
    // three a line: the fourth map starts a second line under the first
    assert.strictEqual(panels[3][0].x, panels[0][0].x);
    assert.ok(
      panels[3][0].y > panels[0][0].y + 40 && panels[1][0].y === panels[0][0].y && panels[2][0].x > panels[1][0].x,
    );
    assert.ok(fig.height < 2 * (40 + 40), `two lines of 40-px panels, ${fig.height} px tall`);
    assert.ok(cleanBorder(await decodePng(fig.png)));
    assert.throws(
      () => render.heatmap([item(1)], { cols: 0 }),
      /^Error: render\.heatmap: cols 0 must be a whole number >= 1/,
    );
  });
  it('curves: each curve in its own colour inside the plot, a dashed one dashed; bad input refused', async () => {
    const fig = render.curves(
      {
        curves: [
          { name: 'a', x: [0, 1], y: [0, 0] },
          { name: 'b', x: [0, 1], y: [1, 1], dashed: true },
        ],
      },
      { title: 't', xTitle: 'x', yTitle: 'y', width: 400, height: 300 },
    );
    assert.deepStrictEqual(pngSize(fig.png), { width: 400, height: 300 });
    const d = await decodePng(fig.png);
    const count = (colour: string) => {
      let n = 0;
      for (let y = 0; y < 300; y++) for (let x = 0; x < 400; x++) if (hex(d.at(x, y)) === colour) n++;
      return n;
    };
    // tab10's first two colours, a solid line clearly longer than a dashed one of the same length
    const [a, b] = [count('#1f77b4'), count('#ff7f0e')];
    assert.ok(a > 300 && b > 100 && b < 0.85 * a, `solid ${a} px, dashed ${b} px`);
    assert.ok(cleanBorder(d));
    assert.throws(() => render.curves({ curves: [] }), /^Error: render\.curves: expected \{ curves/);
    assert.throws(
      () => render.curves({ curves: [{ name: 'c', x: [0, 1, 2], y: [0, 1] }] }),
      /curve 'c': x and y need the same length/,
    );
  });
  it('imageGrid: cells at their grid positions, size from the thumbnail scale', async () => {
    const thumbs = [0, 0.5, 1].map((v) => ({ width: 2, height: 2, channels: 1, data: [v, v, v, v] }));
    const fig = render.imageGrid(
      { cells: [5, 0, 2], rows: 2, cols: 3, thumbnails: thumbs },
      { thumbnailScale: 5, gap: 1 },
    );
    assert.deepStrictEqual(pngSize(fig.png), { width: 3 * 10 + 2 + 16, height: 2 * 10 + 1 + 16 });
    const d = await decodePng(fig.png);
    const at = (cell: number) => d.at(8 + (cell % 3) * 11 + 5, 8 + Math.floor(cell / 3) * 11 + 5)[0];
    assert.deepStrictEqual([at(5), at(0), at(2), at(1)], [0, 128, 255, 255]);
    assert.throws(
      () => render.imageGrid({ cells: [1, 1], rows: 1, cols: 2, thumbnails: thumbs.slice(0, 2) }),
      /points 0 and 1 share grid cell 1/,
    );
  });
  it('imageScatter keeps every thumbnail inside the picture', async () => {
    const n = 50;
    const points = new Float32Array(n * 2).map((_, i) => Math.sin(i * 12.9898) * 100);
    const thumbs = Array.from({ length: n }, () => ({ width: 6, height: 6, channels: 1, data: new Float32Array(36) }));
    const fig = render.imageScatter(
      { points, thumbnails: thumbs, labels: Int32Array.from({ length: n }, (_, i) => i % 4) },
      { size: 200 },
    );
    assert.deepStrictEqual(pngSize(fig.png), { width: 200, height: 200 });
    const placed = fig.info.placed as { x: number; y: number }[];
    const s = fig.info.thumbnailScale as number;
    for (const p of placed) assert.ok(p.x >= 2 && p.y >= 2 && p.x + 6 * s <= 198 && p.y + 6 * s <= 198);
  });
  it('progress draws the line and the current image', async () => {
    const history = Array.from({ length: 20 }, (_, i) => ({ step: i, values: { score: i * i } }));
    const img = { width: 3, height: 3, channels: 3, data: new Float32Array(27).map((_, i) => (i % 3 === 0 ? 5 : -5)) };
    const fig = render.progress(history, img, { total: 40, title: 'class 3' });
    assert.match(fig.text, /class 3 · step 19 \/ 40 · score 361/);
    const d = await decodePng(fig.png);
    assert.ok(cleanBorder(d));
    // the image (min-max normalised) is pure red somewhere on the right
    let red = 0;
    for (let y = 0; y < d.height; y++)
      for (let x = d.width / 2; x < d.width; x++) if (hex(d.at(Math.floor(x), y)) === '#ff0000') red++;
    assert.ok(red >= 160 * 160, `red image pixels: ${red}`);
  });
});

describe('widgets: files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-widgets-'));
  it('the gray PNG writer round-trips through a PNG decoder', async () => {
    const gray = Uint8Array.from({ length: 7 * 5 }, (_, i) => (i * 37) % 256);
    const d = await decodePng(encodeGrayPng(gray, 7, 5));
    assert.deepStrictEqual([d.width, d.height], [7, 5]);
    for (let i = 0; i < gray.length; i++)
      assert.deepStrictEqual(d.at(i % 7, Math.floor(i / 7)), [gray[i], gray[i], gray[i], 255]);
  });
  it('save writes PNG, stand-alone HTML and Plotly JSON, and names the valid extensions', async () => {
    const img = { width: 3, height: 3, channels: 1, data: new Float32Array(9).fill(0.5) };
    const fig = render.images([img]);
    fig.save(path.join(dir, 'a.png'));
    assert.deepStrictEqual(pngSize(fs.readFileSync(path.join(dir, 'a.png'))), { width: fig.width, height: fig.height });
    fig.save(path.join(dir, 'a.html'));
    assert.match(fs.readFileSync(path.join(dir, 'a.html'), 'utf8'), /<img [^>]*src="data:image\/png;base64,/);
    const chart = render.scatter({ points: [0, 0, 1, 1, 2, 3], labels: [0, 1, 1] }, { gl: false });
    chart.save(path.join(dir, 'c.html'));
    const html = fs.readFileSync(path.join(dir, 'c.html'), 'utf8');
    assert.ok(html.includes('embedded once by cnnviz') && html.length > 3e6, 'a saved chart carries plotly.js');
    chart.save(path.join(dir, 'c.json'));
    assert.strictEqual(JSON.parse(fs.readFileSync(path.join(dir, 'c.json'), 'utf8')).data.length, 2);
    chart.save(path.join(dir, 'c.png'));
    const d = await decodePng(fs.readFileSync(path.join(dir, 'c.png')));
    assert.deepStrictEqual([d.width, d.height], [chart.width, chart.height]);
    assert.ok(cleanBorder(d));
    assert.throws(
      () => fig.save(path.join(dir, 'a.gif')),
      /unknown extension '.gif'; valid choices: .png, .html, .json/,
    );
    assert.throws(() => fig.save(path.join(dir, 'a.json')), /is a PNG figure; save it as .png or .html/);
  });
  it('scatter: one trace per class, WebGL from 1,000 points, hover fields', () => {
    const n = 1200;
    const points = new Float32Array(2 * n).map((_, i) => i % 97);
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const fig = render.scatter({
      points,
      labels,
      classNames: ['a', 'b', 'c'],
      indices: Int32Array.from({ length: n }, (_, i) => 1000 + i),
    });
    const spec = fig.plotly as unknown as {
      data: { type: string; name: string; x: number[]; customdata: unknown[][]; hovertemplate: string }[];
    };
    assert.deepStrictEqual(
      spec.data.map((t) => [t.type, t.name, t.x.length]),
      [
        ['scattergl', 'a', 400],
        ['scattergl', 'b', 400],
        ['scattergl', 'c', 400],
      ],
    );
    assert.deepStrictEqual(spec.data[1].customdata[0], ['b', 1001, 1]);
    assert.match(spec.data[0].hovertemplate, /label: %\{customdata\[0\]\}.*index: %\{customdata\[1\]\}/);
    assert.throws(() => render.scatter({ points: [1, 2, 3] }), /points has 3 values; expected x,y pairs/);
    assert.throws(
      () => render.scatter({ points: [1, 2], labels: [0, 1] }),
      /labels has 2 entries; expected one per point \(1\)/,
    );
  });
});
