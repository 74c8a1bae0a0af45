/**
 * The explorer page's start: pick the backend (WebGL, else wasm; ?backend= forces one), load the
 * model from the server, wire the controls, show the first image. Tests and benchmarks read
 * window.cnnvizExplorer (state, timings, errors).
 */
import * as tf from '@tensorflow/tfjs';
import { App } from './app';
import { $, api, apiHeaders, clearMessage, decodeUrl, getJson, rgbaToPixels, say } from './dom';
import type { ExplorerInfo } from '../src/explorer/session';
import { wasmKernelConfigs } from '../src/runtime/kernels/configs';
import { saveStockKernel } from '../src/runtime/kernels/wasm_ops';

interface Hook {
  ready: boolean;
  app?: App;
  backend?: string;
  renderer?: string;
  error?: string;
  info?: ExplorerInfo;
  busy: number;
}
const hook: Hook = { ready: false, busy: 0 };
(window as unknown as { cnnvizExplorer: Hook }).cnnvizExplorer = hook;

const BACKENDS = ['webgl', 'wasm', 'cpu'];

async function chooseBackend(): Promise<string> {
  const wanted = new URLSearchParams(location.search).get('backend');
  if (wanted && !BACKENDS.includes(wanted))
    say(`unknown backend '${wanted}' in the URL; valid: ${BACKENDS.join(', ')}`);
  const wasm = (tf as unknown as { wasm?: { setWasmPaths(p: string): void } }).wasm;
  wasm?.setWasmPaths(new URL('lib/wasm/', location.href).href);
  for (const b of wanted && BACKENDS.includes(wanted) ? [wanted] : BACKENDS) {
    try {
      if (await tf.setBackend(b)) {
        await tf.ready();
        // The node side's wasm kernels (XNNPACK ops and SIMD loops of the same backend) go in too:
        // the browser's wasm backend has no depthwise-conv gradient (MobileNet's saliency needs it),
        // and its Tile and Conv2DBackpropInput made most of a new image's time (1.3 s and 0.7 s
        // of the class maps and guided backprop on MobileNet).
        if (b === 'wasm') useNodeKernels();
        return b;
      }
    } catch {
      // next one
    }
  }
  throw new Error('no TensorFlow.js backend could start in this browser');
}

/** Replaces (or adds) the wasm backend's kernels with the node side's, where they are faster or missing. */
function useNodeKernels(): void {
  for (const config of wasmKernelConfigs) {
    if (tf.getKernel(config.kernelName, 'wasm')) {
      // kept: some of ours call the stock kernel for the shapes they do not take
      saveStockKernel(config.kernelName);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
}

function rendererName(): string | undefined {
  try {
    const gl =
      document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
    if (!gl) return undefined;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return ext ? String(gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)) : String(gl.getParameter(gl.RENDERER));
  } catch {
    return undefined;
  }
}

/** Runs one user action: errors become the page message; hook.busy counts actions in flight. */
async function act(what: string, fn: () => Promise<void>): Promise<void> {
  hook.busy++;
  try {
    await fn();
  } catch (err) {
    const m = (err as Error).message;
    say(m.startsWith('cnnviz') ? m : `${what}: ${m}`);
  } finally {
    hook.busy--;
  }
}

async function showPrepared(
  app: App,
  res: Promise<{ png: string; name: string; original?: { format: string; width: number; height: number } }>,
): Promise<void> {
  const r = await res;
  const img = await decodeUrl(r.png);
  if (img.width !== app.net.width || img.height !== app.net.height)
    throw new Error(
      `the server sent a ${img.width}x${img.height} image; the model takes ${app.net.width}x${app.net.height}`,
    );
  clearMessage();
  const from = r.original ? ` (${r.original.format} ${r.original.width}x${r.original.height})` : '';
  await app.setImage(rgbaToPixels(img.rgba, img.width * img.height, app.net.channels), `${r.name}${from}`);
}

function upload(app: App, file: File): Promise<void> {
  return act(`upload of '${file.name}'`, () =>
    showPrepared(
      app,
      getJson(api(`api/image?name=${encodeURIComponent(file.name)}`), {
        method: 'POST',
        body: file,
      }),
    ),
  );
}

/** Webcam frames, centre-cropped to the model's aspect and scaled in the browser, one after the other. */
async function webcam(app: App, button: HTMLButtonElement): Promise<void> {
  const video = $<HTMLVideoElement>('video');
  if (video.srcObject) {
    (video.srcObject as MediaStream).getTracks().forEach((t) => t.stop());
    video.srcObject = null;
    button.textContent = 'webcam';
    return;
  }
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  await video.play();
  button.textContent = 'stop webcam';
  const { width: w, height: h, channels } = app.net;
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  while (video.srcObject) {
    const vw = video.videoWidth,
      vh = video.videoHeight;
    const s = Math.min(vw / w, vh / h);
    ctx.drawImage(video, (vw - w * s) / 2, (vh - h * s) / 2, w * s, h * s, 0, 0, w, h);
    await app.setImage(rgbaToPixels(ctx.getImageData(0, 0, w, h).data, w * h, channels), 'webcam');
    await tf.nextFrame();
  }
}

function wire(app: App, info: ExplorerInfo & { models: string[]; canLoad: boolean }): void {
  const samples = $<HTMLSelectElement>('sample-select');
  for (const s of info.samples) samples.add(new Option(s, s));
  samples.addEventListener('change', () => {
    if (samples.value)
      void act(`sample '${samples.value}'`, () =>
        showPrepared(app, getJson(api(`api/sample?name=${encodeURIComponent(samples.value)}`))),
      );
  });
  const index = $<HTMLInputElement>('dataset-index');
  if (info.dataset) {
    index.max = String(info.dataset.count - 1);
    $('dataset-pick').title = `${info.dataset.count} ${info.dataset.name} test images`;
    const show = () => act('data-set image', () => showPrepared(app, getJson(api(`api/dataset/${index.value}`))));
    $('dataset-go').addEventListener('click', () => void show());
    $('dataset-random').addEventListener('click', () => {
      index.value = String(Math.floor(Math.random() * (info.dataset as { count: number }).count));
      void show();
    });
  } else $('dataset-pick').hidden = true;
  const file = $<HTMLInputElement>('upload');
  file.addEventListener('change', () => {
    if (file.files?.[0]) void upload(app, file.files[0]);
    file.value = '';
  });
  document.addEventListener('dragover', (e) => {
    e.preventDefault();
    document.body.classList.add('dragging');
  });
  document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    document.body.classList.remove('dragging');
    const f = e.dataTransfer?.files?.[0];
    if (f) void upload(app, f);
  });
  const cam = $<HTMLButtonElement>('webcam');
  if (typeof navigator.mediaDevices?.getUserMedia === 'function') {
    cam.hidden = false;
    cam.addEventListener('click', () => void act('webcam', () => webcam(app, cam)));
  }
  const layers = $<HTMLSelectElement>('layer-select');
  for (const l of info.spatialLayers) layers.add(new Option(l, l));
  layers.value = app.layer;
  layers.addEventListener('change', () => void act(`layer ${layers.value}`, () => app.pickLayer(layers.value)));
  $('grid-canvas').addEventListener('click', (e) => {
    const c = app.channelAt(e);
    if (c >= 0) void act(`channel ${c}`, () => app.pickChannel(c));
  });
  for (const id of ['mode', 'sign', 'colormap']) $(id).addEventListener('change', () => app.redrawMaps());
  const occ = $<HTMLInputElement>('occlusion-on');
  occ.addEventListener('change', () => {
    app.occlusionOn = occ.checked;
    void act('occlusion', () => app.showClass());
  });
  $('class-image-go').addEventListener('click', () => void act('class image', () => app.classImage()));
  $('channel-image-go').addEventListener('click', () => void act('channel image', () => app.channelImage()));
  const models = $<HTMLSelectElement>('model-select');
  models.add(new Option(info.name, ''));
  for (const m of info.models) if (m !== info.name) models.add(new Option(m, m));
  const load = async (what: string) => {
    const r = await getJson<{ model: string }>('api/load', {
      method: 'POST',
      body: what,
    });
    location.search = `?model=${encodeURIComponent(r.model)}`;
  };
  models.addEventListener('change', () => {
    if (models.value) void act(`model '${models.value}'`, () => load(models.value));
  });
  $('model-load').addEventListener(
    'click',
    () => void act('model', () => load($<HTMLInputElement>('model-path').value)),
  );
  if (!info.canLoad) for (const id of ['model-select', 'model-path', 'model-load']) $(id).hidden = true;
}

async function main(): Promise<void> {
  const info = await getJson<ExplorerInfo & { models: string[]; canLoad: boolean }>(api('api/info'));
  hook.info = info;
  $('model-name').textContent =
    `${info.title ?? info.name}: ${info.inputShape.join('x')} in, ${info.classNames.length} classes`;
  if (info.source) $('model-name').title = `${info.source}${info.license ? ` (${info.license})` : ''}`;
  const backend = await chooseBackend();
  hook.backend = backend;
  hook.renderer = backend === 'webgl' ? rendererName() : undefined;
  const badge = $('backend');
  badge.textContent = `backend: ${backend}${hook.renderer ? ` (${hook.renderer.replace(/\s*\(.*$/, '')})` : ''}`;
  badge.className = `badge ${backend}`;
  const model = await tf.loadLayersModel(api('api/model/model.json'), { requestInit: { headers: apiHeaders() } });
  const app = new App(model, info, backend);
  hook.app = app;
  wire(app, info);
  if (info.samples.length) {
    $<HTMLSelectElement>('sample-select').value = info.samples[0];
    await showPrepared(app, getJson(api(`api/sample?name=${encodeURIComponent(info.samples[0])}`)));
  } else if (info.dataset) {
    await showPrepared(app, getJson(api('api/dataset/0')));
  } else {
    const n = app.net.width * app.net.height * app.net.channels;
    await app.setImage(new Float32Array(n).fill(0.5), 'gray');
  }
  hook.ready = true;
}

main().catch((err: Error) => {
  hook.error = err.message;
  say(`the explorer could not start: ${err.message}`);
});
