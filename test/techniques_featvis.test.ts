import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { classVisualization, featureVisualization, objectives } from '../src/techniques';
import { models, setup } from '../src';
import { dftBasisTensors, inverseRealDft, rfftWidth } from '../src/techniques/features/fourier';
import { affineSample } from '../src/techniques/features/transforms';
import { assertNoLeak, maxAbsDiff, rejects, smallCnn, uniform, useWasm } from './util/techniques_fixtures';

/** The real 2-D DFT written out as its double sum (numpy's rfft2): [2, h, 1, 1, kw] as the parameter lays it out. */
function directRfft2(img: Float32Array, h: number, w: number): Float32Array {
  const kw = rfftWidth(w);
  const out = new Float32Array(2 * h * kw);
  for (let ky = 0; ky < h; ky++)
    for (let kx = 0; kx < kw; kx++) {
      let re = 0;
      let im = 0;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const a = -2 * Math.PI * ((ky * y) / h + (kx * x) / w);
          re += img[y * w + x] * Math.cos(a);
          im += img[y * w + x] * Math.sin(a);
        }
      out[ky * kw + kx] = re;
      out[h * kw + ky * kw + kx] = im;
    }
  return out;
}

/** Mean pairwise cosine similarity of the images (as vectors around mid-grey). */
function pairwiseSimilarity(images: Float32Array[]): number {
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < images.length; i++)
    for (let j = i + 1; j < images.length; j++) {
      let dot = 0;
      let ni = 0;
      let nj = 0;
      for (let k = 0; k < images[i].length; k++) {
        const a = images[i][k] - 0.5;
        const b = images[j][k] - 0.5;
        dot += a * b;
        ni += a * a;
        nj += b * b;
      }
      total += dot / Math.sqrt(ni * nj);
      pairs++;
    }
  return total / pairs;
}

describe('techniques: feature visualization (Olah et al. 2017)', function () {
  before(useWasm);

  it('the inverse Fourier transform as matrix products inverts a direct DFT (even and odd sides)', () => {
    for (const [h, w] of [
      [6, 8],
      [5, 7],
    ]) {
      const img = uniform(h * w, h * 31 + w);
      const spec = tf.tensor(directRfft2(img, h, w), [2, h, 1, 1, rfftWidth(w)]);
      const basis = dftBasisTensors(h, w);
      const back = inverseRealDft(spec, basis);
      assert.deepStrictEqual(back.shape, [1, h, w, 1]);
      assert.ok(maxAbsDiff(back.dataSync(), img) < 1e-4, `${h}x${w}: ${maxAbsDiff(back.dataSync(), img)}`);
      tf.dispose([spec, back, basis.alongX, basis.alongY]);
    }
  });

  it('the gradient through the inverse transform is its transpose (finite differences)', () => {
    const [h, w] = [6, 5];
    const kw = rfftWidth(w);
    const basis = dftBasisTensors(h, w);
    const weights = tf.tensor4d(uniform(h * w * 2, 3, -1, 1), [1, h, w, 2]);
    const spec0 = uniform(2 * h * 2 * kw, 4, -1, 1);
    const f = (s: tf.Tensor) => tf.sum(tf.mul(inverseRealDft(s, basis), weights));
    const g = tf.tidy(() =>
      tf
        .grad(f)(tf.tensor(spec0, [2, h, 1, 2, kw]))
        .dataSync(),
    );
    const eps = 1e-2;
    for (const i of [0, 7, 13, 2 * h * 2 * kw - 1]) {
      const plus = Float32Array.from(spec0);
      plus[i] += eps;
      const minus = Float32Array.from(spec0);
      minus[i] -= eps;
      const numeric = tf.tidy(
        () =>
          (f(tf.tensor(plus, [2, h, 1, 2, kw])).dataSync()[0] - f(tf.tensor(minus, [2, h, 1, 2, kw])).dataSync()[0]) /
          (2 * eps),
      );
      assert.ok(Math.abs(numeric - g[i]) < 1e-3, `entry ${i}: ${numeric} vs ${g[i]}`);
    }
    assert.ok(
      g.some((v) => Math.abs(v) > 1e-3),
      'the gradient is not zero',
    );
    tf.dispose([basis.alongX, basis.alongY, weights]);
  });

  it('the two-pass warp is the identity at rest, shifts by whole pixels, and passes gradients', () => {
    const img = tf.tensor4d(uniform(8 * 8 * 2, 9), [1, 8, 8, 2]);
    const same = affineSample(img, { scale: 1, angle: 0, dy: 0, dx: 0 }, 8, 8);
    assert.ok(maxDiffOf(same, img) < 1e-6);
    const shifted = affineSample(img, { scale: 1, angle: 0, dy: 2, dx: -1 }, 8, 8);
    const s = shifted.arraySync()[0];
    const a = img.arraySync()[0];
    assert.ok(Math.abs(s[3][4][1] - a[5][3][1]) < 1e-6, 'output (3, 4) samples input (5, 3)');
    assert.ok(Math.abs(s[7][0][0] - 0.5) < 1e-6, 'outside the image: the grey fill');
    const g = tf.tidy(() =>
      tf.grad((x: tf.Tensor) => tf.sum(affineSample(x as tf.Tensor4D, { scale: 1.1, angle: 0.2, dy: 1, dx: 0 }, 8, 8)))(
        img,
      ),
    );
    assert.ok(g.dataSync().some((v) => v > 0.5));
    tf.dispose([img, same, shifted, g]);
  });

  it('raises a channel and a class of a small network; seeded; sizes as asked; no tensor leaks', async () => {
    const model = smallCnn({ size: 16, channels: 3, seed: 21 });
    const scores: number[] = [];
    const img = await featureVisualization(model, 'conv2:3', {
      steps: 30,
      seed: 2,
      onStep: (s) => void scores.push(s.score),
    });
    assert.deepStrictEqual(img.shape, [16, 16, 3]);
    assert.ok(scores[29] > scores[0] + 0.1, `channel: ${scores[0]} -> ${scores[29]}`);
    const again = await featureVisualization(model, 'conv2:3', { steps: 30, seed: 2 });
    assert.strictEqual(maxAbsDiff(img.dataSync(), again.dataSync()), 0, 'same seed, same image');
    const big = await featureVisualization(model, objectives.class(1), { steps: 5, size: 40 });
    assert.deepStrictEqual(big.shape, [40, 40, 3]);
    assert.ok(big.dataSync().every((v) => v >= 0 && v <= 1));
    tf.dispose([img, again, big]);
    await assertNoLeak(() =>
      featureVisualization(model, objectives.class(1).plus(objectives.layer('conv1').times(0.1)), { steps: 3 }),
    );
    await assertNoLeak(() =>
      featureVisualization(model, objectives.diversity('conv1').plus(objectives.channel('conv1', 2)), {
        steps: 2,
        batch: 2,
      }),
    );
    await assertNoLeak(() => classVisualization(model, { target: 2, steps: 3 }));
  });

  it('diversity: a batch of 4 of one channel is pairwise less alike than 4 independent runs', async () => {
    const model = smallCnn({ size: 16, channels: 3, seed: 22 });
    const independent: Float32Array[] = [];
    for (let seed = 0; seed < 4; seed++) {
      const img = await featureVisualization(model, 'conv2:5', { steps: 40, seed });
      independent.push(img.dataSync() as Float32Array);
      img.dispose();
    }
    const objective = objectives.channel('conv2', 5).plus(objectives.diversity('conv2').times(20));
    const batch = await featureVisualization(model, objective, { steps: 40, batch: 4, seed: 0 });
    assert.deepStrictEqual(batch.shape, [4, 16, 16, 3]);
    const together = tf.unstack(batch).map((t) => {
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    });
    batch.dispose();
    const a = pairwiseSimilarity(independent);
    const b = pairwiseSimilarity(together);
    console.log(`      independent ${a.toFixed(3)}, with diversity ${b.toFixed(3)}`);
    assert.ok(b < a - 0.1, `independent ${a.toFixed(3)}, with diversity ${b.toFixed(3)}`);
  });

  it('classVisualization: Olah by default, old recipes by name, pixel options pick a pixel one', async () => {
    const model = smallCnn({ size: 16, channels: 3, seed: 23 });
    const olah = await classVisualization(model, { target: 0, steps: 2 });
    const plain = await classVisualization(model, { target: 0, steps: 2, recipe: 'simonyan' });
    const preset = await classVisualization(model, { target: 0, steps: 2, preset: 'yosinski3' });
    assert.deepStrictEqual(
      [olah.shape, plain.shape, preset.shape],
      [
        [16, 16, 3],
        [16, 16, 3],
        [16, 16, 3],
      ],
    );
    tf.dispose([olah, plain, preset]);
    await rejects(
      () => classVisualization(model, { target: 0, recipe: 'olah', l2Decay: 0.1 }),
      /^classVisualization: recipe 'olah' optimises a Fourier spectrum, not pixels; l2Decay belong/,
    );
    await rejects(() => classVisualization(model, { target: 0, recipe: 'rainbow' as never }), /recipe.*rainbow.*olah/);
    await rejects(
      () => classVisualization(model, { target: 0, recipe: 'yosinski1', size: 32 }),
      /size belong to recipe 'olah', not 'yosinski1'/,
    );
  });

  it('bad input gets named errors', async () => {
    const model = smallCnn({ size: 16, channels: 3, seed: 24 });
    const fv =
      (o: Parameters<typeof featureVisualization>[1], opts = {}) =>
      () =>
        featureVisualization(model, o, { steps: 1, ...opts });
    await rejects(fv('conv9:1'), /^featureVisualization: unknown layer 'conv9'; layers of this model: conv1, pool1/);
    await rejects(
      fv('conv2:8'),
      /^featureVisualization: channel 8 out of range; layer 'conv2' has 8 channels \(0\.\.7\)/,
    );
    await rejects(
      fv(objectives.diversity('features'), { batch: 2 }),
      /^featureVisualization: diversity needs a layer with positions, but 'features' has output shape \[16\]/,
    );
    await rejects(
      fv(objectives.neuron('logits', 1, { y: 0, x: 0 })),
      /^featureVisualization: neuron needs a layer with positions, but 'logits'/,
    );
    await rejects(fv(objectives.diversity('conv2')), /diversity compares the images of a batch; give batch >= 2/);
    await rejects(fv(objectives.direction('conv2', [1, 2])), /direction for 'conv2' has 2 entries; the layer has 8/);
    await rejects(
      fv(objectives.channel('conv2', 1, { batch: 3 }), { batch: 2 }),
      /is for image 3, but the batch has 2/,
    );
    await rejects(
      fv(1, { steps: 20000 }),
      /^featureVisualization: steps must be a positive integer at most 10000, got 20000/,
    );
    await rejects(fv(1, { size: 8 }), /^featureVisualization: size 8 is below this network's minimum of 16 pixels/);
    await rejects(fv(1, { optimizeSize: 32 }), /optimizeSize 32: this model takes 16x16 images only/);
    await rejects(fv('zebra'), /^featureVisualization: unknown class 'zebra'/);
    await rejects(fv(1, { transforms: { rotate: 400 } }), /transforms\.rotate/);
  });
});

describe('techniques: feature visualization on MobileNet', function () {
  this.timeout(600000);
  let net: tf.LayersModel;
  before(async () => {
    await setup({ quiet: true });
    net = await models.load('mobilenet');
  });
  after(() => net?.dispose());

  const logit = (img: tf.Tensor3D, target: number) =>
    tf.tidy(() => {
      const logits = tf.model({ inputs: net.inputs, outputs: net.getLayer('logits').output as tf.SymbolicTensor });
      return (logits.predict(img.expandDims(0)) as tf.Tensor).dataSync()[target];
    });

  it('a short run at 128 px raises the target logit of the 224 px image it returns', async () => {
    const flamingo = models.classNames(net).indexOf('flamingo');
    const start = await classVisualization(net, { target: 'flamingo', steps: 0 });
    const img = await classVisualization(net, { target: 'flamingo', steps: 24, optimizeSize: 128 });
    assert.deepStrictEqual(img.shape, [224, 224, 3]);
    const [before, after] = [logit(start, flamingo), logit(img, flamingo)];
    assert.ok(after > before + 2, `flamingo logit ${before} -> ${after}`);
    tf.dispose([start, img]);
  });

  it('takes any size above its largest stride, and refuses below it', async () => {
    await rejects(
      () => featureVisualization(net, 'conv_pw_5_relu:7', { size: 16, steps: 1 }),
      /^featureVisualization: size 16 is below this network's minimum of 32 pixels/,
    );
    await assertNoLeak(() => featureVisualization(net, 'conv_pw_5_relu:7', { size: 48, steps: 2 }), 1);
  });
});

function maxDiffOf(a: tf.Tensor, b: tf.Tensor): number {
  return maxAbsDiff(a.dataSync(), b.dataSync());
}
