import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  check,
  classVisualization,
  gaussianBlur,
  gradCam,
  integratedGradients,
  kernelShap,
  occlusion,
  saliency,
} from '../src';
import { CheckFailed } from '../src/check';
import { useWasm } from './util/techniques_fixtures';
import { resetResults } from '../src/check/report';

// Student answers as the solution notebooks write them, and the mistakes students make.

function logitsModel(model: tf.LayersModel): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: model.getLayer('logits').output as tf.SymbolicTensor });
}

function gradientOf(
  model: tf.LayersModel,
  image: tf.Tensor3D,
  target: number,
  output: 'logits' | 'probs' = 'logits',
): tf.Tensor3D {
  const net = output === 'logits' ? logitsModel(model) : model;
  const score = (x: tf.Tensor) => (net.predict(x.expandDims(0)) as tf.Tensor2D).gather([target], 1).sum() as tf.Scalar;
  return tf.grad(score)(image) as tf.Tensor3D;
}

const saliencyRight = (model: tf.LayersModel, image: tf.Tensor3D, target: number) =>
  tf.tidy(() => gradientOf(model, image, target).abs().max(-1));

function occlusionRight(
  model: tf.LayersModel,
  image: tf.Tensor3D,
  target: number,
  window: number,
  stride: number,
  opts: { fill?: 'mean' | 'black' | 'overall'; count?: 'floor' | 'ceil'; drop?: boolean } = {},
): number[][] {
  const [h, w] = image.shape;
  const fill = tf.tidy(() =>
    opts.fill === 'black'
      ? Array.from({ length: image.shape[2] }, () => 0)
      : opts.fill === 'overall'
        ? Array.from({ length: image.shape[2] }, () => image.mean().dataSync()[0])
        : Array.from(image.mean([0, 1]).dataSync()),
  );
  const positions = (size: number) => {
    const n =
      opts.count === 'ceil' ? Math.ceil((size - window) / stride) + 1 : Math.floor((size - window) / stride) + 1;
    return Array.from({ length: n }, (_, i) => i * stride);
  };
  const base = tf.tidy(() => (model.predict(image.expandDims(0)) as tf.Tensor).dataSync()[target]);
  return positions(h).map((top) =>
    positions(w).map((left) =>
      tf.tidy(() => {
        const pixels = image.arraySync() as number[][][];
        for (let y = top; y < Math.min(h, top + window); y++)
          for (let x = left; x < Math.min(w, left + window); x++) pixels[y][x] = pixels[y][x].map((_, ch) => fill[ch]);
        const p = (model.predict(tf.tensor4d([pixels])) as tf.Tensor).dataSync()[target];
        return opts.drop ? base - p : p;
      }),
    ),
  );
}

function ascentStepRight(model: tf.LayersModel, image: tf.Tensor3D, target: number, learningRate: number): tf.Tensor3D {
  return tf.tidy(() => {
    const g = gradientOf(model, image, target);
    const rms = g.square().mean().sqrt().add(1e-12);
    return image.add(g.div(rms).mul(learningRate)) as tf.Tensor3D;
  });
}

function regularizeRight(
  image: tf.Tensor3D,
  step: number,
  o: { l2Decay: number; blurEvery: number; blurSigma: number },
): tf.Tensor3D {
  return tf.tidy(() => {
    let x = image.mul(1 - o.l2Decay) as tf.Tensor3D;
    if (o.blurEvery > 0 && step % o.blurEvery === 0)
      x = gaussianBlur(x.expandDims(0) as tf.Tensor4D, o.blurSigma).squeeze([0]) as tf.Tensor3D;
    return x.clipByValue(0, 1) as tf.Tensor3D;
  });
}

type Opts = {
  steps: number;
  learningRate: number;
  l2Decay: number;
  blurEvery: number;
  blurSigma: number;
  init: tf.Tensor3D;
};
function gradientAscentRight(
  model: tf.LayersModel,
  target: number,
  o: Opts,
  step = ascentStepRight,
  reg = regularizeRight,
): tf.Tensor3D {
  let x = o.init.clone();
  for (let n = 1; n <= o.steps; n++) {
    const moved = step(model, x, target, o.learningRate);
    x.dispose();
    x = reg(moved, n, o);
    moved.dispose();
  }
  return x;
}

const todo = (): never => {
  throw new Error('TODO: implement this function');
};

async function expectFail(
  p: Promise<check.CheckResult> | check.CheckResult,
  pattern: RegExp,
): Promise<check.CheckResult> {
  const r = await p;
  assert.strictEqual(r.passed, false, `expected a failure, got: ${r.message}`);
  assert.match(r.message, pattern);
  return r;
}

const quiet = { print: false, show: false };

describe('check.*: assignment checks against the reference', function () {
  before(useWasm);
  beforeEach(() => resetResults());

  describe('check.saliency', () => {
    it('passes the solution and remembers it', async () => {
      const r = await check.saliency(saliencyRight, quiet);
      assert.ok(r.passed, r.message);
      assert.strictEqual(r.cases, 7, 'four digits and three images of the hidden 3-channel model');
      assert.match(r.message, /4 of mnist-cnn and 3 of a hidden 3-channel model with input \[\d+, \d+, 3\]/);
      assert.deepStrictEqual(r.notes, []);
      assert.ok(check.passed('saliency'));
    });

    it('says what is wrong: not implemented, shape, sign, probability, scale, leaks', async () => {
      await expectFail(check.saliency(todo, quiet), /not implemented yet.*Replace the TODO/s);
      await expectFail(
        check.saliency((m, x, t) => tf.tidy(() => saliencyRight(m, x, t).expandDims(0)), quiet),
        /wrong shape\.\n\s+expected: shape \[28, 28\]\n\s+got: shape \[1, 28, 28\]\n\s+hint: .*squeeze\(\[0\]\)/,
      );
      await expectFail(
        check.saliency((m, x, t) => tf.tidy(() => gradientOf(m, x, t).abs()), quiet),
        /got: shape \[28, 28, 1\][^]*channel axis/,
      );
      await expectFail(
        check.saliency((m, x, t) => tf.tidy(() => gradientOf(m, x, t).squeeze([2])), quiet),
        /sign of the gradient.*absolute value/,
      );
      await expectFail(
        check.saliency((m, x, t) => tf.tidy(() => gradientOf(m, x, t, 'probs').abs().max(-1)), quiet),
        /probability \(after the softmax\).*logits/,
      );
      await expectFail(
        check.saliency(
          (m, x, t) =>
            tf.tidy(() => {
              const s = saliencyRight(m, x, t);
              return s.div(s.max());
            }),
          quiet,
        ),
        /times [\d.e+-]+: right pattern, wrong scale/,
      );
      await expectFail(
        check.saliency((m, x, t) => tf.tidy(() => saliencyRight(m, x, t).neg()), quiet),
        /sign flipped/,
      );
      await expectFail(
        check.saliency(() => undefined as unknown as tf.Tensor, quiet),
        /expected: a tensor[^]*got: undefined\n\s+hint: did the function end without `return`/,
      );
      await expectFail(
        check.saliency(
          (() => {
            throw new Error('x.foo is not a function');
          }) as never,
          quiet,
        ),
        /threw an error\.\n\s+expected: [^]*got: the error "x.foo is not a function"\n\s+hint: [^]*misspelled/,
      );
      assert.ok(!check.passed('saliency'));
      const leaky = await check.saliency((m, x, t) => gradientOf(m, x, t).abs().max(-1), quiet);
      assert.ok(leaky.passed);
      assert.match(leaky.notes.join(), /left \d+ tensor\(s\) in memory per call; wrap the work in tf.tidy/);
    });

    it('cannot be fooled: a wrapped library call, a gray-only channel reduction, a name recorded by hand', async () => {
      const wrapped = (m: tf.LayersModel, x: tf.Tensor3D, t: number) => saliency(m, x, { target: t });
      const r = await expectFail(
        check.saliency(wrapped, quiet),
        /saliency: not available inside check\.saliency; write your own/,
      );
      assert.match(r.message, /expected: [^]*got: [^]*hint: the check compares your code with cnnviz's saliency/);
      // The other routines that hand out an input gradient are refused too (integrated gradients from
      // a baseline one below the image in one right-Riemann step is exactly the gradient).
      const viaIg = async (mm: tf.LayersModel, x: tf.Tensor3D, t: number) => {
        const g = await integratedGradients(mm, x, { target: t, steps: 1, method: 'riemannRight' });
        return tf.tidy(() => g.abs().max(-1));
      };
      await expectFail(
        check.saliency(viaIg, quiet),
        /integratedGradients: not available inside check\.saliency; write your own/,
      );
      const viaCam = (mm: tf.LayersModel, x: tf.Tensor3D, t: number) => gradCam(mm, x, { target: t });
      await expectFail(check.saliency(viaCam, quiet), /gradCam: not available inside check\.saliency/);
      // Outside the check the library works again.
      const m = await saliency((await import('../src')).models.lectureCnn({ seed: 3 }), tf.zeros([28, 28, 1]), {
        target: 1,
      });
      m.dispose();
      const sumAbs = (mm: tf.LayersModel, x: tf.Tensor3D, t: number) =>
        tf.tidy(() => gradientOf(mm, x, t).abs().sum(-1));
      await expectFail(
        check.saliency(sumAbs, quiet),
        /hidden 3-channel model[^]*added \|gradient\| over the 3 channels/,
      );
      const l2 = (mm: tf.LayersModel, x: tf.Tensor3D, t: number) =>
        tf.tidy(() => gradientOf(mm, x, t).square().sum(-1).sqrt());
      await expectFail(check.saliency(l2, quiet), /L2 norm over the 3 channels/);
      const squeezed = (mm: tf.LayersModel, x: tf.Tensor3D, t: number) =>
        tf.tidy(() => gradientOf(mm, x, t).abs().squeeze());
      await expectFail(
        check.saliency(squeezed, quiet),
        /got: shape \[\d+, \d+, 3\]\n\s+hint: it still has the 3 channels/,
      );
      assert.throws(
        () => check.close(0, 0, { ...quiet, name: 'saliency' }),
        /check\.close: the name 'saliency' belongs to check\.saliency/,
      );
      assert.ok(!check.passed('saliency'));
      assert.ok(check.close(0, 0, { ...quiet, name: 'my-own' }).passed);
    });

    it('raises on request, with the message and no stack into cnnviz', async () => {
      await assert.rejects(
        check.saliency(todo, { ...quiet, raise: true }),
        (err: Error) =>
          err instanceof CheckFailed &&
          /not implemented yet/.test(err.message) &&
          !/node_modules|build\/src/.test(err.stack ?? ''),
      );
    });
  });

  describe('check.occlusion', () => {
    it('passes the solution (nested arrays or a tensor)', async () => {
      const r = await check.occlusion(occlusionRight, quiet);
      assert.ok(r.passed, r.message);
      assert.strictEqual(r.cases, 6, 'two digits and one colour image, two settings each');
      const t = await check.occlusion((m, x, t, w, s) => tf.tensor2d(occlusionRight(m, x, t, w, s)), quiet);
      assert.ok(t.passed, t.message);
    });

    it('names the fill, the position count, the drop and the logits', async () => {
      await expectFail(check.occlusion(todo, quiet), /not implemented yet/);
      await expectFail(
        check.occlusion((m, x, t, w, s) => occlusionRight(m, x, t, w, s, { fill: 'black' }), quiet),
        /covered the patch with 0 \(black\)/,
      );
      await expectFail(
        check.occlusion((m, x, t, w, s) => occlusionRight(m, x, t, w, s, { count: 'ceil' }), quiet),
        new RegExp(
          /window 5, stride 4 has the wrong shape\.\n\s+expected: shape \[6, 6\]/.source +
            /\n\s+got: shape \[7, 7\]/.source +
            /[^]*floor\(\(28 - 5\) \/ 4\) \+ 1 = 6 rows/.source,
        ),
      );
      const wrapped = async (m: tf.LayersModel, x: tf.Tensor3D, t: number, w: number, s: number) =>
        occlusion(m, x, { target: t, window: w, stride: s });
      await expectFail(
        check.occlusion(wrapped, quiet),
        /occlusion: not available inside check\.occlusion; write your own/,
      );
      const viaShap = async (m: tf.LayersModel, x: tf.Tensor3D, t: number) =>
        (await kernelShap(m, x, { target: t })).arraySync() as number[][];
      await expectFail(
        check.occlusion(viaShap, quiet),
        /kernelShap: not available inside check\.occlusion; write your own/,
      );
      await expectFail(
        check.occlusion((m, x, t, w, s) => occlusionRight(m, x, t, w, s, { drop: true }), quiet),
        /recorded the drop/,
      );
      const logits = (m: tf.LayersModel, x: tf.Tensor3D, t: number, w: number, s: number) =>
        occlusionRight(logitsModel(m), x, t, w, s);
      await expectFail(check.occlusion(logits, quiet), /scores before the softmax/);
      const overall = (m: tf.LayersModel, x: tf.Tensor3D, t: number, w: number, s: number) =>
        occlusionRight(m, x, t, w, s, { fill: 'overall' });
      await expectFail(
        check.occlusion(overall, quiet),
        /hidden 3-channel model[^]*mean over all pixels and all 3 channels/,
      );
    });
  });

  describe('check.ascentStep / regularize / gradientAscent', () => {
    it('passes the solution', async () => {
      for (const r of [
        await check.ascentStep(ascentStepRight, quiet),
        await check.regularize(regularizeRight, quiet),
        await check.gradientAscent(gradientAscentRight, quiet),
      ]) {
        assert.ok(r.passed, `${r.name}: ${r.message}`);
      }
      const all = check.summary({ print: false });
      assert.deepStrictEqual(
        all.map((r) => [r.name, r.passed]),
        [
          ['ascentStep', true],
          ['regularize', true],
          ['gradientAscent', true],
        ],
      );
    });

    it('names the usual mistakes of the step', async () => {
      await expectFail(check.ascentStep(todo, quiet), /not implemented yet/);
      // The lecture's plain update and the norm-normalised one pass, as the RMS-normalised one does.
      const raw = (m: tf.LayersModel, x: tf.Tensor3D, t: number, lr: number) =>
        tf.tidy(() => x.add(gradientOf(m, x, t).mul(lr)));
      const plain = await check.ascentStep(raw, quiet);
      assert.ok(plain.passed, plain.message);
      assert.match(plain.message, /plain \(x \+ lr \* g\)/);
      const byNorm = (m: tf.LayersModel, x: tf.Tensor3D, t: number, lr: number) =>
        tf.tidy(() => {
          const g = gradientOf(m, x, t);
          return x.add(g.div(g.norm()).mul(lr));
        });
      assert.ok((await check.ascentStep(byNorm, quiet)).passed);
      const noLr = (m: tf.LayersModel, x: tf.Tensor3D, t: number) => tf.tidy(() => x.add(gradientOf(m, x, t)));
      await expectFail(check.ascentStep(noLr, quiet), /without the learning rate/);
      const wrapped = async (m: tf.LayersModel, x: tf.Tensor3D, t: number, lr: number) =>
        classVisualization(m, { target: t, init: x, steps: 1, learningRate: lr, range: [-1e6, 1e6] });
      await expectFail(
        check.ascentStep(wrapped, quiet),
        /classVisualization: not available inside check\.ascentStep; write your own/,
      );
      const viaSaliency = async (m: tf.LayersModel, x: tf.Tensor3D, t: number, lr: number) =>
        x.add((await saliency(m, x, { target: t, reduce: 'none' })).mul(lr));
      await expectFail(check.ascentStep(viaSaliency, quiet), /saliency: not available inside check\.ascentStep/);
      const down = (m: tf.LayersModel, x: tf.Tensor3D, t: number, lr: number) =>
        tf.tidy(() => x.mul(2).sub(ascentStepRight(m, x, t, lr)));
      await expectFail(check.ascentStep(down, quiet), /stepped down the gradient/);
      const clipped = (m: tf.LayersModel, x: tf.Tensor3D, t: number, lr: number) =>
        tf.tidy(() => ascentStepRight(m, x, t, lr).clipByValue(0, 1));
      await expectFail(check.ascentStep(clipped, quiet), /clipping belongs to regularize/);
      const probs = (m: tf.LayersModel, x: tf.Tensor3D, t: number, lr: number) =>
        tf.tidy(() => {
          const g = gradientOf(m, x, t, 'probs');
          return x.add(g.div(g.square().mean().sqrt().add(1e-12)).mul(lr));
        });
      await expectFail(check.ascentStep(probs, quiet), /climbed the probability/);
    });

    it('names the usual mistakes of the regularizers and of the loop', async () => {
      await expectFail(check.regularize(todo, quiet), /not implemented yet/);
      const noClip = (x: tf.Tensor3D, s: number, o: { l2Decay: number; blurEvery: number; blurSigma: number }) =>
        tf.tidy(() => {
          let y = x.mul(1 - o.l2Decay) as tf.Tensor3D;
          if (s % o.blurEvery === 0)
            y = gaussianBlur(y.expandDims(0) as tf.Tensor4D, o.blurSigma).squeeze([0]) as tf.Tensor3D;
          return y;
        });
      await expectFail(check.regularize(noClip, quiet), /clip the result to \[0, 1\]/);
      const keep = (x: tf.Tensor3D, s: number, o: { l2Decay: number; blurEvery: number; blurSigma: number }) =>
        regularizeRight(x.mul(o.l2Decay / (1 - o.l2Decay)), s, o);
      await expectFail(check.regularize(keep, quiet), /multiply by 1 - l2Decay/);
      const everyStep = (x: tf.Tensor3D, s: number, o: { l2Decay: number; blurEvery: number; blurSigma: number }) =>
        regularizeRight(x, 0, o);
      await expectFail(check.regularize(everyStep, quiet), /blur only on the steps/);
      await expectFail(check.gradientAscent(todo, quiet), /not implemented yet/);
      const noReg = (m: tf.LayersModel, t: number, o: Opts, step = ascentStepRight) => {
        let x = o.init.clone();
        for (let i = 0; i < o.steps; i++) {
          const y = step(m, x, t, o.learningRate);
          x.dispose();
          x = y;
        }
        return x;
      };
      await expectFail(
        check.gradientAscent(noReg, quiet),
        /did not call the regularizer[^]*expected: 12 calls\n\s+got: 0\n\s+hint: in the loop, call step/,
      );
      // A loop that calls its own globals (or inlines the step) instead of the functions it is given.
      const ownGlobals = (m: tf.LayersModel, t: number, o: Opts) => gradientAscentRight(m, t, o);
      await expectFail(check.gradientAscent(ownGlobals, quiet), /did not call the step function/);
      const fromZero = (m: tf.LayersModel, t: number, o: Opts, step = ascentStepRight, reg = regularizeRight) => {
        let x = o.init.clone();
        for (let n = 0; n < o.steps; n++) x = reg(step(m, x, t, o.learningRate), n, o);
        return x;
      };
      await expectFail(
        check.gradientAscent(fromZero, quiet),
        /wrong step numbers\.\n\s+expected: 1, 2, 3, [^]*got: 0, 1, 2/,
      );
    });
  });

  it('leaves no tensors behind: each check run twice keeps tf.memory().numTensors', async () => {
    const runs: Array<() => Promise<check.CheckResult>> = [
      () => check.saliency(saliencyRight, quiet),
      () => check.saliency((m, x, t) => tf.tidy(() => gradientOf(m, x, t).abs().sum(-1)), quiet),
      () => check.occlusion((m, x, t, w, s) => tf.tensor2d(occlusionRight(m, x, t, w, s)), quiet),
      () => check.ascentStep(ascentStepRight, quiet),
      () => check.regularize(regularizeRight, quiet),
      () => check.gradientAscent(gradientAscentRight, quiet),
      () => check.gradientAscent((m: tf.LayersModel, t: number, o: Opts) => gradientAscentRight(m, t, o), quiet),
    ];
    for (const run of runs) {
      await run(); // the hidden cases are made once per kernel
      const before = tf.memory().numTensors;
      const r = await run();
      assert.strictEqual(tf.memory().numTensors, before, `${r.name} (${r.passed ? 'passed' : 'failed'}): tensors grew`);
    }
  });

  describe('check.close', () => {
    it('compares any value and reports shape, scale and sign', () => {
      assert.ok(
        check.close(
          [
            [1, 2],
            [3, 4],
          ],
          tf.tensor2d([
            [1, 2],
            [3, 4],
          ]),
          quiet,
        ).passed,
      );
      assert.match(
        check.close(
          [1, 2, 3, 4],
          [
            [1, 2],
            [3, 4],
          ],
          quiet,
        ).message,
        /expected: shape \[2, 2\]\n\s+got: shape \[4\]\n\s+hint: it is flat: reshape it to \[2, 2\]/,
      );
      assert.match(check.close([2, 4, 6], [1, 2, 3], quiet).message, /times 2: right pattern, wrong scale/);
      assert.match(check.close([-1, -2, -3], [1, 2, 3], quiet).message, /sign flipped/);
      assert.match(
        check.close([1, 2, 9], [1, 2, 3], quiet).message,
        /expected: 3 at \[2\] \(where yours differs most\)\n\s+got: 9 there/,
      );
      assert.match(check.close(undefined, [1], quiet).message, /undefined/);
    });
  });
});
