/** Small DOM and server helpers of the page. */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** The model id this page shows (?model=), '' for the server's default. */
export const MODEL_ID = new URLSearchParams(location.search).get('model') ?? '';

/** An API URL for this page's model. */
export function api(pathAndQuery: string): string {
  const sep = pathAndQuery.includes('?') ? '&' : '?';
  return MODEL_ID ? `${pathAndQuery}${sep}model=${encodeURIComponent(MODEL_ID)}` : pathAndQuery;
}

/** This launch's token, put in the page by the server; every API request carries it (the server refuses others). */
export const TOKEN = document.querySelector<HTMLMetaElement>('meta[name="cnnviz-token"]')?.content ?? '';

/** The headers of every API request. */
export function apiHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'X-Cnnviz': TOKEN, ...extra };
}

/** fetch + JSON (with the token); a JSON { error } (or any failure) becomes an Error with that message. */
export async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers: apiHeaders(init?.headers as Record<string, string> | undefined) });
  } catch (err) {
    throw new Error(
      `the explorer's server does not answer (${(err as Error).message}); is 'cnnviz explore' still running?`,
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`the server answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok || (body && typeof body === 'object' && 'error' in body)) {
    throw new Error((body as { error?: string }).error ?? `the server answered ${res.status}`);
  }
  return body as T;
}

let messageTimer: number | undefined;

/** Shows a message above the panels (errors stay until the next message; notes fade). */
export function say(text: string, kind: 'error' | 'info' = 'error'): void {
  const el = $('message');
  el.textContent = text;
  el.className = kind;
  el.hidden = false;
  if (kind === 'error') console.warn(`cnnviz explorer: ${text}`);
  window.clearTimeout(messageTimer);
  if (kind === 'info')
    messageTimer = window.setTimeout(() => {
      el.hidden = true;
    }, 6000);
}

export function clearMessage(): void {
  $('message').hidden = true;
}

/** Decodes a PNG data URL (or any image URL) into RGBA bytes at its own size. */
export async function decodeUrl(url: string): Promise<{ rgba: Uint8ClampedArray; width: number; height: number }> {
  const img = new Image();
  img.src = url;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const ctx = c.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  ctx.drawImage(img, 0, 0);
  return { rgba: ctx.getImageData(0, 0, c.width, c.height).data, width: c.width, height: c.height };
}

/** RGBA bytes -> pixels HWC in [0, 1] with the model's channel count (gray is the luma, as images.read makes it). */
export function rgbaToPixels(rgba: Uint8ClampedArray, n: number, channels: number): Float32Array {
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    const r = rgba[4 * i],
      g = rgba[4 * i + 1],
      b = rgba[4 * i + 2];
    if (channels === 1) out[i] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    else {
      out[3 * i] = r / 255;
      out[3 * i + 1] = g / 255;
      out[3 * i + 2] = b / 255;
    }
  }
  return out;
}
