// Plotly in every front end without a CDN.
//
// A chart's bundle is text/html that draws it with plotly.js (plus text/plain). No Plotly JSON
// MIME: with the `plotly` Python package installed, JupyterLab would prefer its own renderer for
// that and lose the hover thumbnails, and the spec would travel twice. Inside the chart's div sits
// a picture of the chart (rendered node-side, WebP): it is what shows where scripts do not run (an
// untrusted notebook, nbviewer, GitHub, a PDF printed from the page) and the drawing script
// takes it out when it runs. The library itself (plotly.js-dist-min,
// ~4.8 MB) travels inside the first chart's HTML of a kernel session only; later charts
// wait for window.Plotly, which that earlier output defines (cells run top to bottom, and
// nbconvert output and reopened notebooks replay outputs in order). The library is wrapped
// so that require.js (classic Notebook 6) never sees an anonymous module.
import * as fs from 'fs';
import { webglBudgetScript } from './webgl_budget';

export interface PlotlySpec {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
}

let librarySource: string | null = null;
let libraryVersion = '';

export function plotlyLibrary(): { source: string; version: string } {
  if (librarySource === null) {
    const file = require.resolve('plotly.js-dist-min/plotly.min.js');
    libraryVersion = (require('plotly.js-dist-min/package.json') as { version: string }).version;
    librarySource = fs.readFileSync(file, 'utf8');
  }
  return { source: librarySource, version: libraryVersion };
}

/** The <script> that defines window.Plotly (a no-op where it is defined already). */
export function libraryScript(): string {
  const { source, version } = plotlyLibrary();
  // `</script` inside the source would end the tag early; there is none today, but be safe.
  const safe = source.replace(/<\/script/gi, '<\\/script');
  return (
    `<script type="text/javascript">/* plotly.js ${version} (MIT), embedded once by cnnviz */\n` +
    `if (!window.Plotly) { (function (define, module, exports) {\n${safe}\n}).call(window); }\n</script>\n`
  );
}

let embeddedThisSession = false;

/** True the first time in this process: that chart carries the library. */
export function claimLibraryEmbed(): boolean {
  if (embeddedThisSession) return false;
  embeddedThisSession = true;
  return true;
}

/** Makes the next displayed chart carry plotly.js again (e.g. after its cell was cleared). */
export function resetLibraryEmbed(): void {
  embeddedThisSession = false;
}

/** JSON that is safe inside an inline <script>. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export interface PlotHtmlOptions {
  divId: string;
  width: number;
  height: number;
  includeLibrary: boolean;
  /** extra markup placed inside the chart's container (e.g. a hover thumbnail box) */
  extraHtml?: string;
  /** JS run with `gd` (the drawn chart div) and `root` (its container) once drawn */
  afterPlot?: string;
  /** a static picture of the chart (a data: URL): shown until, or instead of, the drawing */
  fallback?: string;
  /** the static picture's alt text */
  alt?: string;
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);
}

/** The fallback picture inside the chart's div (class cnnviz-static). */
function staticImg(o: PlotHtmlOptions): string {
  if (!o.fallback) return '';
  return (
    `<img class="cnnviz-static" alt="${escapeAttr(o.alt ?? 'chart')}" width="${o.width}" height="${o.height}" ` +
    `style="max-width:100%;height:auto" src="${o.fallback}">`
  );
}

export function plotHtml(spec: PlotlySpec, o: PlotHtmlOptions): string {
  const lib = o.includeLibrary ? libraryScript() : '';
  return (
    `${lib}<div class="cnnviz-figure" id="${o.divId}-root" ` +
    `style="position:relative;width:${o.width}px;max-width:100%">` +
    `<div id="${o.divId}" class="cnnviz-plotly" style="width:${o.width}px;height:${o.height}px;max-width:100%">` +
    `${staticImg(o)}</div>` +
    `${o.extraHtml ?? ''}</div>\n` +
    `<script type="text/javascript">\n(function () {\n` +
    `  var spec = ${scriptJson(spec)};\n` +
    `  var id = ${JSON.stringify(o.divId)}, started = Date.now(), img = null;\n` +
    `  var gl = spec.data.some(function (t) { return /gl$/.test(t.type || ''); });\n` +
    webglBudgetScript() +
    `  function draw() {\n` +
    `    var gd = document.getElementById(id);\n` +
    `    var root = document.getElementById(id + '-root');\n` +
    `    if (!gd || gd.getAttribute('data-cnnviz-drawn')) return;\n` +
    // the static picture leaves before Plotly draws into the div, and comes back if drawing fails
    `    img = gd.querySelector('.cnnviz-static') || img;\n` +
    `    if (img && img.parentNode === gd) gd.removeChild(img);\n` +
    `    gd.setAttribute('data-cnnviz-drawn', '1');\n` +
    `    gd.removeAttribute('data-cnnviz-parked');\n` +
    `    window.Plotly.newPlot(gd, spec.data, spec.layout, spec.config).then(function () {\n` +
    `      if (gl) window.cnnvizGl.add(gd, park);\n` +
    `      ${o.afterPlot ?? ''}\n` +
    `    }, function (err) {\n` +
    `      gd.removeAttribute('data-cnnviz-drawn');\n` +
    `      if (img) gd.appendChild(img);\n` +
    `      if (window.console) console.warn('cnnviz: this chart could not be drawn', err);\n` +
    `    });\n` +
    `  }\n` +
    // a WebGL chart past the page's budget: its static picture until it is seen again
    `  function park(gd) {\n` +
    `    window.cnnvizGl.lose(gd);\n` +
    `    window.Plotly.purge(gd);\n` +
    `    gd.innerHTML = '';\n` +
    `    if (img) gd.appendChild(img);\n` +
    `    gd.removeAttribute('data-cnnviz-drawn');\n` +
    `    gd.setAttribute('data-cnnviz-parked', '1');\n` +
    `    if (!window.IntersectionObserver) return;\n` +
    `    var io = new IntersectionObserver(function (es) {\n` +
    `      if (es.some(function (e) { return e.isIntersecting; })) { io.disconnect(); draw(); }\n` +
    `    });\n` +
    `    io.observe(gd);\n` +
    `  }\n` +
    `  (function wait() {\n` +
    `    if (window.Plotly) return draw();\n` +
    `    if (Date.now() - started < 60000) return setTimeout(wait, 50);\n` +
    `    var gd = document.getElementById(id);\n` +
    `    var note = document.createElement('div');\n` +
    `    note.textContent = 'A static picture: plotly.js is not on this page. Run the notebook from the top ' +\n` +
    `      '(the first chart of a session carries the library), or call show.resetPlotly() and re-run this cell.';\n` +
    `    if (gd && gd.parentNode) gd.parentNode.insertBefore(note, gd);\n` +
    `  })();\n` +
    `})();\n</script>\n`
  );
}

/** A stand-alone HTML page for fig.save('x.html'). */
export function htmlPage(title: string, body: string): string {
  const t = title.replace(/[<&]/g, (c) => (c === '<' ? '&lt;' : '&amp;'));
  return (
    `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${t}</title>` +
    `<style>body{font-family:DejaVu Sans,Arial,sans-serif;margin:16px;background:#fff}</style></head>\n` +
    `<body>\n${body}\n</body></html>\n`
  );
}
