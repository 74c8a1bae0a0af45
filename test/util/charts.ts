// Plotly charts in executed notebooks: a chart is a text/html output that draws a .cnnviz-plotly
// div; its spec travels once, inside that HTML's drawing script (no Plotly JSON MIME beside it).
import { Image } from '@napi-rs/canvas';
import { PlotlySpec } from '../../src/widgets/kernel/plotly';

function joined(v: unknown): string {
  return Array.isArray(v) ? v.join('') : String(v ?? '');
}

/** True when a display's MIME bundle is a cnnviz Plotly chart. */
export function isChart(data: Record<string, unknown> | undefined): boolean {
  return !!data && /class="cnnviz-plotly"/.test(joined(data['text/html']));
}

/** The Plotly spec that a chart's HTML draws. */
export function chartSpec(data: Record<string, unknown>): PlotlySpec {
  const m = /\n {2}var spec = (.*);\n/.exec(joined(data['text/html']));
  if (!m) throw new Error('chartSpec: no spec in this output (not a cnnviz chart)');
  return JSON.parse(m[1]) as PlotlySpec;
}

/** The base64 bytes (WebP or PNG) of a chart's static fallback picture, or null when it has none. */
export function chartFallback(data: Record<string, unknown>): string | null {
  const m = /<img class="cnnviz-static"[^>]* src="data:image\/(?:png|webp);base64,([A-Za-z0-9+/=]+)"/.exec(
    joined(data['text/html']),
  );
  return m ? m[1] : null;
}

/** The decoded size of a fallback picture (base64 WebP or PNG). */
export function pictureSize(b64: string): { width: number; height: number } {
  const img = new Image();
  img.src = Buffer.from(b64, 'base64');
  return { width: img.width, height: img.height };
}
