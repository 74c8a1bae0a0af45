import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { launchOfflineChromium } from './util/browser';
import { isChart } from './util/charts';
import { ExecutedNotebook, executeNotebooks, REPO, streamText } from './util/notebook';

/**
 * Every lecture notebook (01-10) through the real kernel: no cell error, nothing on stderr, and
 * the outputs each must show; then its nbconvert HTML in headless Chromium, offline: no console
 * error, every PNG decoded, every Plotly chart drawn. Per-cell timings go to
 * test/artifacts/notebook-times.json; with CNNVIZ_ASSERT_TIMES=1 the live-coding budget (90 s a
 * notebook, 15 s a cell) is asserted too.
 */

type Cell = ExecutedNotebook['nb']['cells'][number];

interface Expectation {
  /** PNG figures the notebook shows, at least. */
  png: number;
  /** Plotly charts, at least. */
  plotly?: number;
  /** Patterns the notebook's printed text must match. */
  text?: RegExp[];
  /** The claims the notebook's markdown makes about its printed numbers (throws when one is false). */
  claims?: (text: string) => void;
}

/** The numbers captured by `re` in `text` (fails when it does not match). */
function numbers(text: string, re: RegExp): number[] {
  const m = text.match(re);
  assert.ok(m, `no match for ${re}`);
  return m.slice(1).map(Number);
}

const EXPECT: Record<string, Expectation> = {
  '01-first-layer-filters': {
    png: 8,
    text: [
      /filters: 32 x 5 x 5 x 1/,
      /cifar-cnn: first-layer filters 32 x 5 x 5 x 3/,
      /mobilenet: first-layer filters \d+ x 3 x 3 x 3/,
      /darknet-tiny: first-layer filters \d+ x 3 x 3 x 3/,
    ],
  },
  '02-feature-space': {
    png: 3,
    text: [/database: 2000 CIFAR-10 test images/, /MobileNet features 2000 x 768/],
    claims: (text) => {
      const [pixels, small, big] = numbers(
        text,
        new RegExp(
          /same class among the 5 nearest: pixel space (\d+\.\d)%,/.source +
            / cifar-cnn features (\d+\.\d)%, MobileNet features (\d+\.\d)%/.source,
        ),
      );
      assert.ok(pixels < big && big < small, `pixels ${pixels}% < MobileNet ${big}% < cifar-cnn ${small}%`);
      const row = (change: string) => {
        const v = numbers(
          text,
          new RegExp(
            `${change}: original found: pixels (\\d+)%, cifar-cnn (\\d+)%, MobileNet (\\d+)%; same class: pixels ` +
              `(\\d+)%, cifar-cnn (\\d+)%, MobileNet (\\d+)%`,
          ),
        );
        return { found: { pixels: v[0], small: v[1], big: v[2] }, same: { pixels: v[3], small: v[4], big: v[5] } };
      };
      const r = Object.fromEntries(
        ['flipped', 'shifted 4 px', 'shifted 8 px', 'cropped 24x24', 'covered 12x12'].map((c) => [c, row(c)]),
      );
      for (const c of ['flipped', 'shifted 4 px', 'shifted 8 px']) {
        assert.ok(
          r[c].found.pixels <= 60,
          `${c}: pixel space finds the original ${r[c].found.pixels}% (the text: often not)`,
        );
        assert.ok(
          r[c].found.big >= 90,
          `${c}: MobileNet finds the original ${r[c].found.big}% (the text: nearly every time)`,
        );
      }
      assert.ok(r['shifted 4 px'].found.small >= 80, 'cifar-cnn finds the original after a 4-pixel shift');
      assert.ok(
        r['flipped'].found.small < r['shifted 4 px'].found.small &&
          r['shifted 8 px'].found.small < r['shifted 4 px'].found.small,
        'cifar-cnn: less for a flip and an 8-pixel shift',
      );
      for (const c of ['cropped 24x24', 'covered 12x12']) {
        assert.ok(
          r[c].found.pixels >= r[c].found.small && r[c].found.pixels >= r[c].found.big,
          `${c}: pixel space finds the original at least as often as either network`,
        );
      }
      for (const [c, v] of Object.entries(r)) {
        assert.ok(
          v.same.small >= 2 * v.same.pixels,
          `${c}: cifar-cnn same-class share ${v.same.small}% at least twice pixels' ${v.same.pixels}%`,
        );
        if (c !== 'cropped 24x24')
          assert.ok(
            v.same.big >= 2 * v.same.pixels,
            `${c}: MobileNet same-class share ${v.same.big}% at least twice pixels' ${v.same.pixels}%`,
          );
      }
      assert.ok(
        Object.values(r).every((v) => v.same.big >= r['cropped 24x24'].same.big),
        'MobileNet loses the class most after the crop',
      );
    },
  },
  '03-dimensionality-reduction': {
    png: 1,
    plotly: 7,
    text: [
      /10000 CIFAR-10 test images/,
      /explain \d+\.\d% of the variance/,
      /kernel PCA: method nystrom \(Nystrom approximation/,
      /trustworthiness/,
    ],
    claims: (text) => {
      const top = text.match(/most confused pairs: ([^,\n]+), ([^,\n]+), ([^,\n]+)\n/);
      assert.ok(top, 'the most confused pairs are printed');
      assert.strictEqual(top[1], 'cat / dog', 'the text: cat / dog comes first');
      assert.ok(
        top.slice(1, 4).includes('automobile / truck'),
        `the text: automobile / truck among the top three (${top.slice(1, 4).join(', ')})`,
      );
      const counts = [...text.matchAll(/│ \d+\s+│ '([a-z]+ \/ [a-z]+)'\s+│ (\d+)/g)].map((m) => Number(m[2]));
      assert.ok(
        counts.length >= 2 && counts[0] >= 1.5 * counts[1],
        `cat / dog first by far: ${counts.slice(0, 2).join(' vs ')}`,
      );
      const knn = (map: string) =>
        numbers(text, new RegExp(`'t-SNE of ${map}'\\s+│ '[-\\d.]+'\\s+│ '(\\d\\.\\d+)'`))[0];
      assert.ok(
        knn('MobileNet features') > knn('pixels') + 0.2 && knn('MobileNet features') < knn('cifar-cnn features'),
        'MobileNet map: far above pixels, below cifar-cnn',
      );
    },
  },
  '04-images-in-2d': {
    png: 4,
    claims: (text) => {
      const [pSame, pColour] = numbers(
        text,
        /pixels grid: (\d+\.\d)% of adjacent images share a class; mean colour difference of adjacent images (\d\.\d+)/,
      );
      const [fSame, fColour] = numbers(
        text,
        new RegExp(
          /features grid: (\d+\.\d)% of adjacent images share a class;/.source +
            / mean colour difference of adjacent images (\d\.\d+)/.source,
        ),
      );
      assert.ok(
        pSame < 50 && fSame > 50,
        `pixel grid: most neighbours of another class (${pSame}%); feature grid: mostly one class (${fSame}%)`,
      );
      assert.ok(pColour < fColour, `pixel neighbours differ least in colour (${pColour} < ${fColour})`);
      assert.match(text, /features grid, the most frequent neighbours of two classes: [^\n]*cat \/ dog/);
      assert.match(text, /features grid, the most frequent neighbours of two classes: [^\n]*automobile \/ truck/);
    },
  },
  '05-activating-patches': {
    png: 14,
    text: [
      /78 images from 13 photos/,
      /conv_pw_1_relu channel \d+: top activation/,
      /conv_pw_11_relu channel \d+: top activation/,
      /of 128 conv3 channels have 7 or more top images of one class/,
    ],
    claims: (text) => {
      // The text: a late unit sees almost the whole 224x224 image, an early one a few pixels.
      const [late] = numbers(text, /'conv_pw_11_relu'\s+│ '[\dx]+'\s+│ '(\d+)x\d+ px of 224x224'/);
      const [early] = numbers(text, /'conv_pw_1_relu'\s+│ '[\dx]+'\s+│ '(\d+)x\d+ px of 224x224'/);
      assert.ok(late >= 200 && early <= 10, `receptive fields: early ${early} px, late ${late} px`);
    },
  },
  '06-occlusion': {
    png: 14,
    text: [
      /MobileNet top 5: malamute/,
      /malamute: score -?\d+\.\d+ unoccluded/,
      /mountain bike: score -?\d+\.\d+ unoccluded/,
      /pickup: score -?\d+\.\d+ unoccluded/,
      /probability \d\.\d+ unoccluded/,
      /window 32: lowest/,
      /fill blur: lowest/,
    ],
  },
  '07-saliency-and-guided-backprop': {
    png: 6,
    text: [
      /P\(malamute\) = \d\.\d+/,
      /P\(mountain bike\) = \d\.\d+/,
      /conv_pw_7_relu: \d+ channels/,
      /Grad-CAM: malamute vs mountain bike, correlation 0\.[0-5]\d/,
      /guided backprop: malamute vs mountain bike, correlation (0\.9\d|1\.00)/,
    ],
  },
  '08-class-visualization': {
    png: 7,
    text: [/P\(tarantula\) = \d\.\d+/, /P\(goldfish\) = \d\.\d+/, /P\(3\) = \d\.\d+/],
  },
  '10-your-own-image': { png: 6, text: [/photo: /, /MobileNet top 5: /, /unoccluded, lowest/] },
  '09-shap-and-sanity': {
    png: 4,
    plotly: 1,
    text: [
      /dog: malamute \d\.\d+/,
      /coalitions; the \d+ values add up to/,
      /deletion AUC/,
      /best deletion: /,
      /layers randomized in turn: conv_preds -> conv_pw_13 -> conv_dw_13 -> /,
    ],
    claims: (text) => {
      // Kernel SHAP: the strongest superpixel for malamute in the left half (the dog),
      // for mountain bike in the right half (the wheel).
      const [, malamuteCol] = numbers(text, /malamute: \d+ coalitions;[^\n]*centred at row (\d+), column (\d+)/);
      const [, bikeCol] = numbers(text, /mountain bike: \d+ coalitions;[^\n]*centred at row (\d+), column (\d+)/);
      assert.ok(
        malamuteCol < 112 && bikeCol >= 112,
        `malamute's best superpixel at column ${malamuteCol}, mountain bike's at ${bikeCol}`,
      );
      const line = (m: string) =>
        numbers(
          text,
          new RegExp(
            `${m}: (-?\\d\\.\\d+) after conv_preds, (-?\\d\\.\\d+) after block 13, (-?\\d\\.\\d+) with every ` +
              `layer random`,
          ),
        );
      const [camTop] = line('Grad-CAM');
      const [salTop, , salAll] = line('saliency');
      const [gbpTop, gbp13] = line('guided backprop');
      const [, , igAll] = line('Integrated Gradients');
      const [, , camAll] = line('Grad-CAM');
      assert.ok(camTop < 0.5, `Grad-CAM keeps only a weak resemblance after conv_preds (${camTop})`);
      assert.ok(
        salTop < 0.8 && salTop > camTop && salAll < salTop,
        `saliency changes at once, less than Grad-CAM, and keeps falling (${salTop} -> ${salAll})`,
      );
      assert.ok(gbpTop >= 0.9 && gbp13 >= 0.9, `guided backprop near 1 through block 13 (${gbpTop}, ${gbp13})`);
      assert.ok(
        igAll >= 0.3 && igAll <= 0.5 && igAll > salAll && igAll > camAll,
        `Integrated Gradients about 0.4 with every layer random, the highest (${igAll})`,
      );
    },
  },
};

function source(c: Cell): string {
  return Array.isArray(c.source) ? c.source.join('') : c.source;
}

function mimes(c: Cell): string[] {
  return (c.outputs ?? []).flatMap((o) => Object.keys((o.data as Record<string, unknown> | undefined) ?? {}));
}

export function lectureNotebooks(): string[] {
  const dir = path.join(REPO, 'notebooks', 'lecture15');
  return fs
    .readdirSync(dir)
    .filter((f) => /^(0[1-9]|10)-.*\.ipynb$/.test(f))
    .sort()
    .map((f) => path.join('notebooks', 'lecture15', f));
}

/** Records per-notebook and per-cell seconds for the README table. */
export function recordTimes(file: string, runs: ExecutedNotebook[]): void {
  const rows = runs.map(({ report, nb }) => {
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    const cells = report.cells.map((c, k) => ({
      cell: c.index,
      seconds: c.seconds,
      first: source(code[k] ?? { cell_type: 'code', source: '' })
        .split('\n')[0]
        .slice(0, 60),
    }));
    const slowest = cells.reduce((m, c) => ((c.seconds ?? 0) > (m.seconds ?? 0) ? c : m), cells[0]);
    return { notebook: path.relative(REPO, report.notebook), seconds: report.seconds, slowest, cells };
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify(
      { when: new Date().toISOString(), load: fs.readFileSync('/proc/loadavg', 'utf8').trim(), notebooks: rows },
      null,
      1,
    ),
  );
}

/**
 * CNNVIZ_NOTEBOOKS=02,03 runs only those lecture notebooks (by number); unset: all of them.
 * An unknown number is an error, so a typo cannot pass by running nothing.
 */
function selectedNotebooks(all: string[]): string[] {
  const want = (process.env.CNNVIZ_NOTEBOOKS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (want.length === 0) return all;
  const numbers = all.map((n) => path.basename(n).slice(0, 2));
  const unknown = want.filter((w) => !numbers.includes(w));
  if (unknown.length)
    throw new Error(`CNNVIZ_NOTEBOOKS: no lecture notebook ${unknown.join(', ')}; valid: ${numbers.join(', ')}`);
  return all.filter((n) => want.includes(path.basename(n).slice(0, 2)));
}

describe('lecture notebooks run through the real kernel', function () {
  this.timeout(3600_000);
  const allNotebooks = lectureNotebooks();
  const notebooks = selectedNotebooks(allNotebooks);
  let runs: ExecutedNotebook[] = [];

  before(function () {
    runs = executeNotebooks(notebooks, {
      timeoutS: 600,
      html: true,
      outDir: path.join(REPO, 'test', 'artifacts', 'lecture'),
    });
    recordTimes(path.join(REPO, 'test', 'artifacts', 'notebook-times.json'), runs);
  });

  it('has notebooks 01 to 10', () => {
    assert.deepStrictEqual(
      allNotebooks.map((n) => path.basename(n).slice(0, 2)),
      ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10'],
    );
  });

  const selected = new Set(notebooks.map((n) => path.basename(n, '.ipynb')));
  for (const name of Object.keys(EXPECT).filter((n) => selected.has(n))) {
    it(`${name}: no error, nothing on stderr, its pictures and text`, () => {
      const run = runs.find((r) => path.basename(r.report.notebook, '.ipynb') === name);
      assert.ok(run, `${name} was not executed`);
      const { report, nb } = run;
      assert.strictEqual(
        report.error,
        null,
        `cell ${report.error?.cell} failed: ${report.error?.message}\n${report.error?.cell_output}`,
      );
      for (const c of report.cells) assert.strictEqual(c.stderr, '', `cell ${c.index} wrote to stderr: ${c.stderr}`);
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      const text = code.map(streamText).join('\n');
      assert.doesNotMatch(
        text,
        /Error:|Traceback|is not defined|undefined \(reading/,
        'an error message in the printed output',
      );
      const exp = EXPECT[name];
      // Figures, not cells: a cell may show several (one per channel, per image...).
      const png = code.reduce((n, c) => n + mimes(c).filter((m) => m === 'image/png').length, 0);
      assert.ok(png >= exp.png, `expected at least ${exp.png} PNG figures, got ${png}`);
      const plotly = code.reduce(
        (n, c) => n + (c.outputs ?? []).filter((o) => isChart(o.data as Record<string, unknown> | undefined)).length,
        0,
      );
      assert.ok(plotly >= (exp.plotly ?? 0), `expected at least ${exp.plotly} Plotly charts, got ${plotly}`);
      for (const re of exp.text ?? []) assert.match(text, re);
      exp.claims?.(text);
      // The intro: a title and a few sentences of why, before any code.
      assert.strictEqual(nb.cells[0].cell_type, 'markdown');
      assert.match(source(nb.cells[0]), /^# Lecture 15 · \d\d — /);
      if (process.env.CNNVIZ_ASSERT_TIMES === '1') {
        assert.ok(report.seconds < 90, `${name} took ${report.seconds} s (budget 90 s)`);
        for (const c of report.cells)
          assert.ok((c.seconds ?? 0) < 15, `${name} cell ${c.index} took ${c.seconds} s (budget 15 s)`);
      }
    });
  }

  it('the HTML of every notebook shows all its figures in Chromium, offline and without errors', async function () {
    const browser = await launchOfflineChromium(['--disable-gpu']);
    try {
      for (const { report, nb } of runs) {
        const name = path.basename(report.notebook);
        assert.ok(report.html, `${name}: no HTML`);
        const bundles = nb.cells.flatMap((c) =>
          (c.outputs ?? []).map((o) => (o.data as Record<string, unknown> | undefined) ?? {}),
        );
        const pngs = bundles.filter((d) => 'image/png' in d).length;
        const charts = bundles.filter((d) => isChart(d)).length;
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(`console: ${m.text()}`);
        });
        page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
        await page.route(/^https?:/, (route) => {
          errors.push(`network request: ${route.request().url()}`);
          return route.abort();
        });
        await page.goto('file://' + report.html, { waitUntil: 'load', timeout: 180000 });
        await page.waitForFunction(
          () =>
            Array.from(document.querySelectorAll('.cnnviz-plotly')).every(
              (g) => (g as unknown as { _fullLayout?: unknown })._fullLayout,
            ),
          null,
          { timeout: 120000 },
        );
        const seen = await page.evaluate(() => ({
          images: Array.from(document.querySelectorAll('img'))
            .filter((i) => i.src.startsWith('data:image/png'))
            .map((i) => i.complete && i.naturalWidth > 0),
          charts: document.querySelectorAll('.cnnviz-plotly').length,
          drawn: Array.from(document.querySelectorAll('.cnnviz-plotly')).filter((g) => g.querySelector('.main-svg'))
            .length,
        }));
        await page.close();
        assert.deepStrictEqual(errors, [], `${name}: errors in the browser`);
        assert.strictEqual(seen.images.length, pngs, `${name}: ${pngs} PNG outputs, ${seen.images.length} in the page`);
        assert.ok(seen.images.every(Boolean), `${name}: a PNG did not decode`);
        assert.strictEqual(seen.charts, charts, `${name}: ${charts} Plotly outputs, ${seen.charts} charts in the page`);
        assert.strictEqual(seen.drawn, charts, `${name}: ${charts - seen.drawn} charts not drawn`);
      }
    } finally {
      await browser.close();
    }
  });
});
