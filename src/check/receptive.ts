/**
 * The receptive-field checks (assignment 05): for a stack of conv / pool layers, by hand,
 * each layer's receptive-field size, jump (the distance in input pixels between neighbouring
 * units) and start (where unit 0's field begins; negative inside the padding), and the box one
 * unit sees in the image, against models.receptiveField and models.inputBox on a model built from
 * the same layers. Square kernels and images: one axis tells all.
 */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../common/random';
import { receptiveField } from '../models/layers';
import { inputBox, ReceptiveField } from '../models/receptive_field';
import { explain } from './compare';
import { NOTEBOOK_SEED } from './hidden';
import { callStudent, CheckOptions, CheckResult, finish, nameOf, failed } from './report';

export interface LayerSpec {
  name: string;
  type: 'conv' | 'pool';
  kernel: number;
  stride: number;
  padding: 'valid' | 'same';
}

export interface FieldOf {
  size: number;
  jump: number;
  start: number;
}

export interface Box {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

export type ReceptiveFieldsFunction = (layers: LayerSpec[], inputSize: number) => FieldOf[] | Promise<FieldOf[]>;
export type ReceptiveBoxFunction = (field: FieldOf, y: number, x: number, imageSize: number) => Box | Promise<Box>;

export const RECEPTIVE_REFUSES = [
  'models.receptiveField',
  'models.layers',
  'models.propagate',
  'models.inputBox',
] as const;

/** The hidden stacks: mnist-cnn's, an AlexNet-like start, and two drawn from the seed. */
function stacks(seed: number): Array<{ title: string; layers: LayerSpec[]; inputSize: number }> {
  const rand = mulberry32(seed * 13 + 3);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const random = (n: number, inputSize: number): LayerSpec[] => {
    let size = inputSize;
    return Array.from({ length: n }, (_, i) => {
      const type = rand() < 0.35 ? 'pool' : 'conv';
      const kernel = type === 'pool' ? pick([2, 3]) : pick([1, 3, 5, 7]);
      const stride = type === 'pool' ? pick([2, kernel]) : pick([1, 1, 2]);
      let padding = pick(['valid', 'same'] as const);
      // Keep at least two units per axis, so every layer exists.
      if (Math.floor((size - kernel) / stride) + 1 < 2) padding = 'same';
      size = padding === 'valid' ? Math.floor((size - kernel) / stride) + 1 : Math.ceil(size / stride);
      return { name: `layer${i + 1}`, type, kernel, stride, padding };
    });
  };
  const sizeA = 40 + Math.floor(rand() * 30);
  const sizeB = 33 + Math.floor(rand() * 30);
  return [
    {
      title: "mnist-cnn's layers",
      inputSize: 28,
      layers: [
        { name: 'conv1', type: 'conv', kernel: 5, stride: 1, padding: 'same' },
        { name: 'pool1', type: 'pool', kernel: 2, stride: 2, padding: 'valid' },
        { name: 'conv2', type: 'conv', kernel: 3, stride: 1, padding: 'same' },
        { name: 'pool2', type: 'pool', kernel: 2, stride: 2, padding: 'valid' },
        { name: 'conv3', type: 'conv', kernel: 3, stride: 1, padding: 'same' },
        { name: 'pool3', type: 'pool', kernel: 2, stride: 2, padding: 'valid' },
      ],
    },
    {
      title: 'an AlexNet-like start',
      inputSize: 227,
      layers: [
        { name: 'conv1', type: 'conv', kernel: 11, stride: 4, padding: 'valid' },
        { name: 'pool1', type: 'pool', kernel: 3, stride: 2, padding: 'valid' },
        { name: 'conv2', type: 'conv', kernel: 5, stride: 1, padding: 'same' },
        { name: 'pool2', type: 'pool', kernel: 3, stride: 2, padding: 'valid' },
        { name: 'conv3', type: 'conv', kernel: 3, stride: 1, padding: 'same' },
      ],
    },
    { title: 'hidden stack A', inputSize: sizeA, layers: random(5, sizeA) },
    { title: 'hidden stack B', inputSize: sizeB, layers: random(6, sizeB) },
  ];
}

/**
 * The fields by models.receptiveField on a model built from the layers (1 channel; the fields do not depend on the
 * weights).
 */
function reference(layers: LayerSpec[], inputSize: number): ReceptiveField[] {
  const model = tf.sequential();
  layers.forEach((l, i) => {
    const common = { name: l.name, padding: l.padding, ...(i === 0 ? { inputShape: [inputSize, inputSize, 1] } : {}) };
    model.add(
      l.type === 'conv'
        ? tf.layers.conv2d({ ...common, filters: 1, kernelSize: l.kernel, strides: l.stride })
        : tf.layers.maxPooling2d({ ...common, poolSize: l.kernel, strides: l.stride }),
    );
  });
  try {
    return layers.map((l) => receptiveField(model, l.name));
  } finally {
    model.dispose();
  }
}

const text = (l: LayerSpec) => `${l.name} (${l.type} ${l.kernel}x${l.kernel}, stride ${l.stride}, '${l.padding}')`;

/** `fn(layers, inputSize)` -> [{ size, jump, start }] per layer, against models.receptiveField. */
export async function receptiveFields(fn: ReceptiveFieldsFunction, opts: CheckOptions = {}): Promise<CheckResult> {
  const name = 'receptiveFields';
  const fnName = nameOf(fn);
  const all = stacks(opts.seed ?? NOTEBOOK_SEED);
  for (const s of all) {
    const ref = reference(s.layers, s.inputSize);
    const run = await callStudent(fn, fnName, [s.layers.map((l) => ({ ...l })), s.inputSize], {
      check: name,
      refuse: RECEPTIVE_REFUSES,
    });
    if (run.error) return failed(name, run.error, 0, opts);
    const got = run.value as FieldOf[];
    const head = `${fnName}(${s.title}, input ${s.inputSize}x${s.inputSize})`;
    if (!Array.isArray(got) || got.length !== s.layers.length) {
      return finish(
        {
          name,
          passed: false,
          message: explain(
            `${head} returned the wrong number of fields.`,
            `an array of ${s.layers.length} objects { size, jump, start }, one per layer`,
            Array.isArray(got) ? `an array of ${got.length}` : String(got),
            'push one { size, jump, start } per layer, in order',
          ),
          cases: 0,
          notes: [],
        },
        opts,
      );
    }
    for (let i = 0; i < s.layers.length; i++) {
      const e = { size: ref[i].size[0], jump: ref[i].stride[0], start: ref[i].offset[0] };
      const g = got[i] ?? ({} as FieldOf);
      const prev =
        i === 0
          ? { size: 1, jump: 1, start: 0 }
          : { size: ref[i - 1].size[0], jump: ref[i - 1].stride[0], start: ref[i - 1].offset[0] };
      const l = s.layers[i];
      for (const key of ['size', 'jump', 'start'] as const) {
        if (g[key] === e[key]) continue;
        let hint: string;
        if (typeof g[key] !== 'number') hint = `give ${key} as a number`;
        else if (key === 'size')
          hint =
            g[key] === prev.size + l.kernel - 1
              ? `the kernel widens the field by (kernel - 1) units of the layer below, each ${prev.jump} input ` +
                `pixels apart: size + (kernel - 1) * jump of the layer below = ${prev.size} + ${l.kernel - 1} ` +
                `* ${prev.jump}`
              : `size = previous size + (kernel - 1) * previous jump = ${prev.size} + ${l.kernel - 1} * ${prev.jump}`;
        else if (key === 'jump') hint = `jump = previous jump * stride = ${prev.jump} * ${l.stride}`;
        else {
          const k = l.kernel;
          hint =
            l.padding === 'valid'
              ? `'valid' adds no padding, so unit 0 starts where unit 0 below did: start = ${prev.start}`
              : `'same' pads before the first row: padBefore = floor(max((out - 1) * stride + kernel - in, 0) / 2) ` +
                `with out = ceil(in / stride), in the layer below's units; start = previous start - padBefore * ` +
                `previous jump (kernel ${k}, stride ${l.stride})`;
        }
        return finish(
          {
            name,
            passed: false,
            message: explain(
              `${head}: the ${key} of ${text(l)} is wrong.`,
              `${key} ${e[key]}`,
              `${key} ${String(g[key])}`,
              hint,
            ),
            cases: i,
            notes: [],
          },
          opts,
        );
      }
    }
  }
  return finish(
    {
      name,
      passed: true,
      message:
        `${fnName} gives the size, jump and start of every layer of ${all.length} hidden stacks, as ` +
        `models.receptiveField does`,
      cases: all.length,
      notes: [],
    },
    opts,
  );
}

/** `fn(field, y, x, imageSize)` -> { top, left, bottom, right } clipped to the image, against models.inputBox. */
export async function receptiveBox(fn: ReceptiveBoxFunction, opts: CheckOptions = {}): Promise<CheckResult> {
  const name = 'receptiveBox';
  const fnName = nameOf(fn);
  let cases = 0;
  for (const s of stacks(opts.seed ?? NOTEBOOK_SEED)) {
    const ref = reference(s.layers, s.inputSize);
    const rf = ref[ref.length - 1];
    const field = { size: rf.size[0], jump: rf.stride[0], start: rf.offset[0] };
    // Units at the corner (padding shows), in the middle and at the far edge.
    const units = Math.max(1, Math.floor((s.inputSize - 1 - field.start) / field.jump));
    for (const [y, x] of [
      [0, 0],
      [Math.floor(units / 2), Math.max(0, units - 1)],
      [Math.max(0, units - 1), 1],
    ]) {
      const e = inputBox(rf, y, x, [s.inputSize, s.inputSize]);
      const run = await callStudent(fn, fnName, [{ ...field }, y, x, s.inputSize], {
        check: name,
        refuse: RECEPTIVE_REFUSES,
      });
      if (run.error) return failed(name, run.error, 0, opts);
      cases++;
      const g = (run.value ?? {}) as Box;
      const want = { top: e.top, left: e.left, bottom: e.bottom, right: e.right };
      const bad = (Object.keys(want) as Array<keyof Box>).find((k) => g[k] !== want[k]);
      if (!bad) continue;
      const raw = { top: field.start + y * field.jump, left: field.start + x * field.jump };
      let hint =
        `top = start + y * jump, left = start + x * jump, bottom = top + size, right = left + size, then clip to ` +
        `[0, ${s.inputSize}] (bottom and right are one past the last row and column)`;
      if (g.top === raw.top && raw.top < 0)
        hint = `the field starts inside the padding (top ${raw.top}); clip it to the image: Math.max(0, top)`;
      else if (g.bottom === want.bottom - 1 || g.right === want.right - 1)
        hint = 'bottom and right are one past the last row and column seen: top + size, not top + size - 1';
      else if ((g.top === y * field.jump || g.left === x * field.jump) && field.start !== 0)
        hint = `add the start (${field.start}): top = start + y * jump`;
      return finish(
        {
          name,
          passed: false,
          message: explain(
            `${fnName}(field ${JSON.stringify(field)}, y ${y}, x ${x}, image ${s.inputSize}) is wrong at ${bad}.`,
            JSON.stringify(want),
            JSON.stringify({ top: g.top, left: g.left, bottom: g.bottom, right: g.right }),
            hint,
          ),
          cases,
          notes: [],
        },
        opts,
      );
    }
  }
  const units = `${cases} hidden units (corners, middles, far edges)`;
  return finish(
    {
      name,
      passed: true,
      message: `${fnName} gives the same boxes as models.inputBox on ${units}`,
      cases,
      notes: [],
    },
    opts,
  );
}
