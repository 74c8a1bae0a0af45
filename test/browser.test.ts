// The real-browser check: execute the widgets gallery notebook with the cnnviz kernel,
// convert it to HTML with nbconvert, open the HTML from disk in headless Chromium (no
// network; nbconvert's page loads require.js, so this is also the require.js case of
// classic Notebook) and check what a student would see: no console errors, every Plotly
// chart drew all its points, hover shows the right thumbnail, the legend hides a class,
// and every PNG decodes at the size its header promises, shown at natural size.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { launchOfflineChromium } from './util/browser';
import { chartSpec, isChart } from './util/charts';
import { datasets } from '../src';
import { executeNotebook, ExecutedNotebook, REPO } from './util/notebook';
import { cleanBorder, decodePng, Decoded, pngSize } from './util/widgets_pixels';

const NOTEBOOK = 'notebooks/gallery/widgets.ipynb';
const ARTIFACTS = path.join(REPO, 'test', 'artifacts');
const LIB_MARK = 'embedded once by cnnviz';

interface Output {
  cell: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}
interface Trace {
  name: string;
  type: string;
  x: number[];
  customdata: [string, number, number][];
  marker: { color: string };
}

function joined(v: unknown): string {
  return Array.isArray(v) ? v.join('') : String(v);
}

function displayOutputs(run: ExecutedNotebook): Output[] {
  const out: Output[] = [];
  run.nb.cells.forEach((c, i) => {
    for (const o of c.outputs ?? []) {
      if (o.output_type === 'display_data' || o.output_type === 'execute_result') {
        out.push({
          cell: i,
          data: o.data as Record<string, unknown>,
          metadata: (o.metadata ?? {}) as Record<string, unknown>,
        });
      }
    }
  });
  return out;
}

/** Pixels of `shot` inside `box` close to the marker colour (opaque or at opacity 0.8 on white). */
function colourCount(shot: Decoded, box: { x: number; y: number; w: number; h: number }, hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const faded = c.map((v) => 0.8 * v + 0.2 * 255);
  let n = 0;
  for (let y = Math.max(0, box.y); y < Math.min(shot.height, box.y + box.h); y++) {
    for (let x = Math.max(0, box.x); x < Math.min(shot.width, box.x + box.w); x++) {
      const p = shot.at(x, y);
      const d1 = Math.hypot(p[0] - c[0], p[1] - c[1], p[2] - c[2]);
      const d2 = Math.hypot(p[0] - faded[0], p[1] - faded[1], p[2] - faded[2]);
      if (Math.min(d1, d2) < 18) n++;
    }
  }
  return n;
}

describe('widgets in a real browser (gallery notebook -> nbconvert HTML -> Chromium)', function () {
  this.timeout(900000);
  let run: ExecutedNotebook;
  let outputs: Output[];
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];
  const timing: Record<string, unknown>[] = [];

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const t0 = Date.now();
    run = executeNotebook(NOTEBOOK, { html: true, timeoutS: 600, outDir: path.join(ARTIFACTS, 'gallery') });
    console.log(`      executed ${NOTEBOOK} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    outputs = displayOutputs(run);
    browser = await launchOfflineChromium(['--disable-gpu']);
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) =>
      errors.push(`request failed: ${r.url().slice(0, 120)} ${r.failure()?.errorText ?? ''}`),
    );
    // offline: anything that tries the network fails loudly
    await page.route(/^https?:/, (route) => {
      errors.push(`network request: ${route.request().url()}`);
      return route.abort();
    });
    const t1 = Date.now();
    await page.goto('file://' + run.report.html, { waitUntil: 'load', timeout: 180000 });
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('.cnnviz-plotly')).every(
          (g) => (g as unknown as { _fullLayout?: unknown })._fullLayout,
        ),
      null,
      { timeout: 120000 },
    );
    timing.push({ what: 'page load until every chart drawn (ms)', ms: Date.now() - t1 });
  });

  after(async () => {
    if (page) await page.screenshot({ path: path.join(ARTIFACTS, 'widgets-gallery.png'), fullPage: true });
    if (browser) await browser.close();
    fs.writeFileSync(path.join(ARTIFACTS, 'widgets-timing.json'), JSON.stringify(timing, null, 1));
  });

  it('executes without errors; every figure cell has exactly one output', () => {
    assert.strictEqual(run.report.error, null, JSON.stringify(run.report.error));
    const codeCells = run.nb.cells.map((c, i) => ({ c, i })).filter(({ c }) => c.cell_type === 'code');
    for (const { c, i } of codeCells) {
      const src = joined(c.source);
      // (the training cell shows progress only when no shipped model was found)
      if (!/show\.\w+\(/.test(src) || (/models\.load/.test(src) && /shipped mnist-cnn/.test(JSON.stringify(c.outputs))))
        continue;
      const shown = (c.outputs ?? []).filter(
        (o) => o.output_type === 'display_data' || o.output_type === 'execute_result',
      );
      assert.strictEqual(shown.length, 1, `cell ${i} has ${shown.length} figures:\n${src.slice(0, 200)}`);
      const text = (c.outputs ?? [])
        .filter((o) => o.output_type === 'stream' && o.name === 'stdout')
        .map((o) => joined(o.text))
        .join('');
      assert.ok(!/Figure|cnnviz-figure/.test(text), `cell ${i} printed a figure as text: ${text}`);
    }
  });

  it('plotly.js is in the notebook once, and no output points at a CDN', () => {
    const html = outputs.filter((o) => o.data['text/html']).map((o) => joined(o.data['text/html']));
    assert.strictEqual(html.filter((h) => h.includes(LIB_MARK)).length, 1);
    assert.strictEqual(html.filter((h) => h.includes('Copyright 2012-20')).length, 1);
    for (const h of html) assert.ok(!/<script[^>]+src=["']?https?:/i.test(h), 'no external script');
    const total = fs.statSync(run.report.executed).size;
    const lib = html.find((h) => h.includes(LIB_MARK)) as string;
    const libBytes = lib.indexOf('</script>') + 9;
    timing.push({
      what: 'executed notebook size (bytes)',
      total,
      plotlyJs: libBytes,
      withoutPlotlyJs: total - libBytes,
    });
    console.log(
      `      executed notebook: ${(total / 1e6).toFixed(2)} MB, of which plotly.js ${(libBytes / 1e6).toFixed(2)} ` +
        `MB (once)`,
    );
  });

  it('the page has require.js loaded (classic Notebook case) and no console errors', async () => {
    const env = await page.evaluate(() => ({
      amd:
        typeof (window as unknown as { define?: { amd?: unknown } }).define === 'function' &&
        !!(window as unknown as { define: { amd?: unknown } }).define.amd,
      plotly: (window as unknown as { Plotly?: { version: string } }).Plotly?.version,
    }));
    assert.deepStrictEqual(env, { amd: true, plotly: '3.7.0' });
    assert.deepStrictEqual(errors, []);
  });

  it('every Plotly chart drew all its points', async () => {
    const specs = outputs.filter((o) => isChart(o.data)).map((o) => chartSpec(o.data) as unknown as { data: Trace[] });
    const charts = page.locator('.cnnviz-plotly');
    assert.strictEqual(await charts.count(), specs.length);
    assert.ok(specs.length >= 2);
    for (let k = 0; k < specs.length; k++) {
      const spec = specs[k];
      const gd = charts.nth(k);
      const held = await gd.evaluate((el) =>
        (el as unknown as { data: { x: number[] }[] }).data.map((t) => t.x.length),
      );
      assert.deepStrictEqual(
        held,
        spec.data.map((t) => t.x.length),
        `chart ${k}: points per trace`,
      );
      const t0 = Date.now();
      const redraw = await gd.evaluate(async (el) => {
        const g = el as unknown as { data: unknown; layout: unknown };
        const div = document.createElement('div');
        document.body.appendChild(div);
        const P = (
          window as unknown as {
            Plotly: { newPlot: (...a: unknown[]) => Promise<unknown>; purge: (d: unknown) => void };
          }
        ).Plotly;
        const s = performance.now();
        await P.newPlot(div, g.data, g.layout);
        const ms = performance.now() - s;
        P.purge(div);
        div.remove();
        return ms;
      });
      timing.push({
        what:
          `plotly chart ${k} (${spec.data[0].type}, ${spec.data.reduce((a, t) => a + t.x.length, 0)} points): ` +
          `Plotly.newPlot in the browser (ms)`,
        ms: Math.round(redraw),
        roundTripMs: Date.now() - t0,
      });
      if (spec.data[0].type === 'scatter') {
        // SVG: one path per marker, per trace
        const perTrace = await gd.evaluate((el) =>
          Array.from(el.querySelectorAll('.scatterlayer .trace')).map((t) => t.querySelectorAll('path.point').length),
        );
        assert.deepStrictEqual(
          perTrace,
          spec.data.map((t) => t.x.length),
          `chart ${k}: SVG markers`,
        );
      } else {
        // WebGL: look at the pixels; every class colour must be on the canvas
        const area = await gd.evaluate((el) => {
          const s = (el as unknown as { _fullLayout: { _size: { l: number; t: number; w: number; h: number } } })
            ._fullLayout._size;
          return { x: s.l, y: s.t, w: s.w, h: s.h };
        });
        const shot = await decodePng(await gd.screenshot());
        const counts = spec.data.map((t) => colourCount(shot, area, t.marker.color));
        counts.forEach((n, i) =>
          assert.ok(
            n >= 3 * Math.min(20, spec.data[i].x.length),
            `chart ${k} trace ${spec.data[i].name}: ${n} marker pixels`,
          ),
        );
      }
    }
  });

  it('a legend click hides a class (SVG and WebGL)', async () => {
    const specs = outputs.filter((o) => isChart(o.data)).map((o) => chartSpec(o.data) as unknown as { data: Trace[] });
    const charts = page.locator('.cnnviz-plotly');
    for (let k = 0; k < specs.length; k++) {
      const gd = charts.nth(k);
      const spec = specs[k];
      const area = await gd.evaluate((el) => {
        const s = (el as unknown as { _fullLayout: { _size: { l: number; t: number; w: number; h: number } } })
          ._fullLayout._size;
        return { x: s.l, y: s.t, w: s.w, h: s.h };
      });
      const before = await decodePng(await gd.screenshot());
      await gd.locator('.legend .traces').first().click();
      await page.waitForTimeout(300);
      const hidden = await gd.evaluate((el) => (el as unknown as { data: { visible?: unknown }[] }).data[0].visible);
      assert.strictEqual(hidden, 'legendonly');
      const after = await decodePng(await gd.screenshot());
      const c0 = spec.data[0].marker.color;
      const c1 = spec.data[1].marker.color;
      assert.ok(colourCount(before, area, c0) > 20);
      assert.ok(
        colourCount(after, area, c0) < 0.05 * colourCount(before, area, c0),
        `chart ${k}: class ${spec.data[0].name} gone`,
      );
      assert.ok(
        colourCount(after, area, c1) >= 0.9 * colourCount(before, area, c1),
        `chart ${k}: class ${spec.data[1].name} still there`,
      );
      await gd.locator('.legend .traces').first().click();
      await page.waitForTimeout(300);
    }
  });

  it('hover shows label, index and the thumbnail of that very image', async () => {
    const specs = outputs.filter((o) => isChart(o.data)).map((o) => chartSpec(o.data) as unknown as { data: Trace[] });
    const k = specs.findIndex((s) => s.data[0].type === 'scatter');
    assert.ok(k >= 0, 'an SVG chart to hover');
    const spec = specs[k];
    const gd = page.locator('.cnnviz-plotly').nth(k);
    // move the real mouse onto a marker of the third class (positions are viewport coordinates)
    await gd.scrollIntoViewIfNeeded();
    const curve = 2;
    // a marker of that class with no other marker within 12 px, so 'closest' is unambiguous
    const target = await gd.evaluate((el, c) => {
      const g = el as unknown as {
        _fullLayout: {
          _size: { l: number; t: number };
          xaxis: { d2p: (v: number) => number };
          yaxis: { d2p: (v: number) => number };
        };
        data: { x: number[]; y: number[] }[];
      };
      const r = el.getBoundingClientRect();
      const fl = g._fullLayout;
      const all = g.data.flatMap((t, ti) =>
        t.x.map((x, pi) => ({
          ti,
          pi,
          x: r.left + fl._size.l + fl.xaxis.d2p(x),
          y: r.top + fl._size.t + fl.yaxis.d2p(t.y[pi]),
        })),
      );
      const lonely = all.find((p) => p.ti === c && all.every((q) => q === p || Math.hypot(q.x - p.x, q.y - p.y) > 12));
      return lonely ?? null;
    }, curve);
    assert.ok(target, 'an isolated marker to hover');
    const point = target.pi;
    await page.mouse.move(target.x, target.y);
    await page.waitForTimeout(300);
    const text = await gd.locator('.hoverlayer .hovertext').first().textContent();
    const m = /label: (.+?)index: (\d+)/.exec(text ?? '');
    assert.ok(m, `hover text: ${text}`);
    const index = Number(m[2]);
    const hovered = spec.data.flatMap((t) => t.customdata).find((d) => d[1] === index);
    assert.ok(hovered, `index ${index} is a point of the chart`);
    assert.strictEqual(m[1], hovered[0]);
    assert.strictEqual(index, spec.data[curve].customdata[point][1], 'the marker under the mouse');
    const slot = hovered[2];
    const box = page.locator('.cnnviz-thumb').nth(k);
    assert.strictEqual(await box.evaluate((b) => getComputedStyle(b).display), 'block');
    assert.strictEqual(await box.getAttribute('data-slot'), String(slot));
    // the thumbnail is that digit: compare the box's pixels with the dataset image
    const ds = await datasets.load('mnist', { limit: index + 1 });
    const digit = ds.images.slice([index, 0, 0, 0], [1, 28, 28, 1]).dataSync();
    ds.images.dispose();
    const shot = await decodePng(await box.screenshot());
    const scale = (shot.width - 4) / 28; // 2 px border each side
    assert.strictEqual(scale, 3);
    let worst = 0;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const p = shot.at(2 + x * scale + 1, 2 + y * scale + 1);
        worst = Math.max(worst, Math.abs(p[0] - Math.round(digit[y * 28 + x] * 255)));
      }
    }
    assert.ok(worst <= 2, `thumbnail differs from image ${index} by ${worst} levels`);
    await page.mouse.move(1, 1);
  });

  it('every image decodes at the size its PNG header gives, shown at natural size (no blurry scaling)', async () => {
    const pngs = outputs
      .filter((o) => o.data['image/png'])
      .map((o) => ({ cell: o.cell, b64: joined(o.data['image/png']), meta: o.metadata }));
    assert.ok(pngs.length >= 10, `${pngs.length} PNG figures`);
    const seen = await page.evaluate(async () => {
      const out: { src: string; w: number; h: number; cw: number; ch: number; ok: boolean; rendering: string }[] = [];
      for (const img of Array.from(document.images)) {
        let ok = true;
        try {
          await img.decode();
        } catch {
          ok = false;
        }
        out.push({
          src: img.src,
          w: img.naturalWidth,
          h: img.naturalHeight,
          cw: img.clientWidth,
          ch: img.clientHeight,
          ok,
          rendering: getComputedStyle(img).imageRendering,
        });
      }
      return out;
    });
    for (const p of pngs) {
      const want = pngSize(Buffer.from(p.b64, 'base64'));
      const img = seen.find((s) => s.src === `data:image/png;base64,${p.b64}`);
      assert.ok(img, `cell ${p.cell}: image in the page`);
      assert.ok(img.ok, `cell ${p.cell}: decodes`);
      assert.deepStrictEqual([img.w, img.h], [want.width, want.height], `cell ${p.cell}: decoded size`);
      assert.deepStrictEqual([img.cw, img.ch], [want.width, want.height], `cell ${p.cell}: shown at natural size`);
      // labels never run off the picture: its 2 px border is background
      assert.ok(
        cleanBorder(await decodePng(Buffer.from(p.b64, 'base64'))),
        `cell ${p.cell}: something drawn into the border`,
      );
      const meta = p.meta.cnnviz as { kind: string; render_ms?: number } | undefined;
      timing.push({
        what: `cell ${p.cell}: ${meta?.kind} ${want.width}x${want.height} PNG, made by show.* in the kernel (ms)`,
        ms: meta?.render_ms,
        bytes: Math.round(p.b64.length * 0.75),
      });
    }
    for (const o of outputs.filter((x) => isChart(x.data))) {
      const meta = o.metadata.cnnviz as { kind: string; render_ms?: number };
      timing.push({
        what: `cell ${o.cell}: ${meta.kind} bundle made by show.* in the kernel (ms)`,
        ms: meta.render_ms,
        bytes: joined(o.data['text/html']).length,
      });
    }
    // the hover thumbnail sheets decode too, at columns x 28 px
    const sheets = await page.evaluate(async () =>
      Promise.all(
        Array.from(document.querySelectorAll('.cnnviz-thumb')).map(async (b) => {
          const url = getComputedStyle(b).backgroundImage.replace(/^url\("?|"?\)$/g, '');
          const im = new Image();
          im.src = url;
          await im.decode();
          return [im.naturalWidth, im.naturalHeight];
        }),
      ),
    );
    assert.ok(sheets.length >= 2);
    for (const [w, h] of sheets) assert.ok(w > 0 && w % 28 === 0 && h % 28 === 0, `thumbnail sheet ${w}x${h}`);
    console.log('      ' + timing.map((t) => JSON.stringify(t)).join('\n      '));
  });
});
