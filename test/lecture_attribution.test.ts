/**
 * The attribution short forms (src/lecture/attribution*.ts) on a small model: each runs from a model name, a sample
 * and a class name, prints the lecture's line, returns its figure (and its result), leaks no tensors, stores its heavy
 * step, and names itself and the valid choices on a misspelt argument. The widget's calls of the same names still work.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  setup,
  show,
  tf,
  occlusion,
  models,
  images,
  saliency,
  guidedBackprop,
  deconvnet,
  gradCam,
  smoothGrad,
  integratedGradients,
  kernelShap,
  deletionScore,
  randomizationCheck,
} from '../src';
import { Figure } from '../src/widgets/figure';
import { changedByEdges } from '../src/lecture/attribution_occlusion';

/** The largest difference between two tensors' values (they must have the same shape). */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepStrictEqual(a.shape, b.shape);
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

/** The share of |m| in the box, as the lecture reads it out (percent, no decimals). */
function sharePct(m: tf.Tensor, b: { top: number; left: number; height: number; width: number }): string {
  return tf.tidy(() => {
    const a = m.abs();
    return (100 * a.slice([b.top, b.left], [b.height, b.width]).sum().div(a.sum()).dataSync()[0]).toFixed(0);
  });
}

/** What `fn` printed with console.log, and its result. */
async function printed<T>(fn: () => Promise<T>): Promise<{ text: string; value: T }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
  try {
    const value = await fn();
    return { text: lines.join('\n'), value };
  } finally {
    console.log = log;
  }
}

describe('lecture short forms: attribution', function () {
  this.timeout(120_000);
  let dir: string;
  const envCache = process.env.CNNVIZ_CACHE;
  before(async () => {
    await setup({ backend: 'wasm' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnviz-attrib-'));
    process.env.CNNVIZ_CACHE = dir;
  });
  after(() => {
    if (envCache === undefined) delete process.env.CNNVIZ_CACHE;
    else process.env.CNNVIZ_CACHE = envCache;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('show.predictions prints the top classes and the named ones with their ranks, and draws the image', async () => {
    await show.predictions('cifar-cnn', 'dog'); // the model loaded once, before the count
    const before = tf.memory().numTensors;
    const { text, value } = await printed(() => show.predictions('cifar-cnn', 'dog', ['cat', 'truck'], { top: 3 }));
    assert.match(text, /^cifar-cnn top 3: \w+ \d\.\d{3}, \w+ \d\.\d{3}, \w+ \d\.\d{3}\n/);
    const [, pCat, rank] = text.match(/P\(cat\) = (\d\.\d{4}) \(rank (\d+)\), P\(truck\) = \d\.\d{4} \(rank \d+\)/)!;
    assert.strictEqual(Number(pCat).toFixed(4), value.probabilities[3].toFixed(4));
    assert.strictEqual(value.classes.indexOf(3) + 1, Number(rank));
    assert.ok(value.figure instanceof Figure);
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('show.occlusion(net, image, class) prints the unoccluded, lowest and highest scores, stores the map', async () => {
    const o = { window: 8, stride: 4 };
    const first = await printed(() => show.occlusion('cifar-cnn', 'dog', 'cat', o));
    const before = tf.memory().numTensors;
    assert.match(first.text, /computed in/);
    const line = first.text.split('\n').find((l) => l.startsWith('cat: '))!;
    const m = line.match(
      new RegExp(
        /^cat: probability (\d\.\d{3}) unoccluded, lowest (\d\.\d{3}) with the patch at row (\d+), column (\d+), /
          .source +
          /highest (\d\.\d{3}) at row \d+, column \d+ \(window 8, stride 4, fill mean: (\d+)x(\d+) positions\)$/.source,
      ),
    );
    assert.ok(m, line);
    const r = first.value;
    const map = r.map.dataSync();
    assert.strictEqual(Number(m[1]).toFixed(3), r.score[0].toFixed(3));
    assert.strictEqual(Number(m[2]).toFixed(3), Math.min(...map).toFixed(3));
    assert.strictEqual(Number(m[5]).toFixed(3), Math.max(...map).toFixed(3));
    // the grid printed is the result's own (whatever rows and columns occlusion() chose)
    assert.deepStrictEqual([Number(m[6]), Number(m[7])], [r.rows.length, r.cols.length]);
    assert.ok(r.rows.includes(Number(m[3])) && r.cols.includes(Number(m[4])));
    assert.ok(r.figure instanceof Figure);
    // the same map as occlusion() itself
    const again = await printed(() => show.occlusion('cifar-cnn', 'dog', 'cat', o));
    assert.match(again.text, /cat: loaded from the cache/);
    assert.deepStrictEqual(Array.from(again.value.map.dataSync()), Array.from(map));
    tf.dispose([again.value.map, again.value.drop]);
    tf.dispose([r.map, r.drop]);
    assert.strictEqual(tf.memory().numTensors, before - 2);
  });

  it('show.occlusion with two classes prints the trade where the first falls most; logits are scores', async () => {
    const { text, value } = await printed(() =>
      show.occlusion('cifar-cnn', 'dog', ['dog', 'cat'], { window: 8, stride: 8, output: 'logits' }),
    );
    assert.strictEqual(value.length, 2);
    assert.match(text, /^dog: score -?\d+\.\d{2} unoccluded, lowest -?\d+\.\d{2} with the patch/m);
    assert.match(text, /^patch at row \d+, column \d+: P\(dog\) -?\d+\.\d{3} -> -?\d+\.\d{3}, P\(cat\) /m);
    for (const r of value) tf.dispose([r.map, r.drop]);
  });

  it('show.occlusion stores the map of a named image only: a tensor is computed each time', async () => {
    const image = tf.randomUniform([32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    for (let k = 0; k < 2; k++) {
      const { text, value } = await printed(() => show.occlusion('cifar-cnn', image, 'cat', { window: 8, stride: 8 }));
      assert.doesNotMatch(text, /computed in|loaded from/);
      assert.match(text, /^cat: probability \d\.\d{3} unoccluded/);
      tf.dispose([value.map, value.drop]);
    }
    assert.strictEqual(tf.memory().numTensors, before);
    image.dispose();
  });

  it("show.occlusion keeps the widget's call: occlusion()'s result and the image", async () => {
    const net = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 2, activation: 'softmax' })],
    });
    const image = tf.randomUniform([8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor3D;
    const r = await occlusion(net, image, { target: 0, window: 4, stride: 2, details: true });
    const fig = show.occlusion(r, image, { title: 'widget' });
    assert.ok(fig instanceof Figure);
    tf.dispose([r.map, r.drop, image]);
    net.dispose();
  });

  it('names show.occlusion and the choices on a misspelt class, image or output', async () => {
    await assert.rejects(
      show.occlusion('cifar-cnn', 'dog', 'kat'),
      /^Error: show\.occlusion: unknown class 'kat'; closest: 'cat'/,
    );
    await assert.rejects(show.occlusion('cifar-cnn', 'dgo', 'cat'), /^Error: show\.occlusion: unknown image 'dgo'/);
    await assert.rejects(
      show.occlusion('cifar-cnn', 'dog', 'cat', { output: 'prob' as never }),
      /^Error: show\.occlusion: unknown output 'prob'; valid choices: 'probs', 'logits'/,
    );
    await assert.rejects(show.predictions('cifar-cnn', 'dog', 'kat'), /^Error: show\.predictions: unknown class 'kat'/);
    await assert.rejects(
      show.predictions('cifar-cnn', 'dog', [], { top: 0 }),
      /^Error: show\.predictions: top must be a positive integer at most 10, got 0$/,
    );
  });
  it('changedByEdges: a grid whose strides stop short of the far edge (its map gets a new key)', () => {
    assert.strictEqual(changedByEdges(224, 224, 56, 16), true); // 0..160, then 168: 11 -> 12 positions
    assert.strictEqual(changedByEdges(224, 224, 56, 28), false); // 0..168 ends on the edge
    assert.strictEqual(changedByEdges(224, 224, 32, 16), false);
    assert.strictEqual(changedByEdges(224, 224, 112, 16), false);
    assert.strictEqual(changedByEdges(28, 28, 7, 2), true);
    assert.strictEqual(changedByEdges(224, 224), true); // the defaults: window 37, stride 9
    assert.strictEqual(changedByEdges(224, 210, [56, 56], [28, 16]), true); // only the columns stop short
  });

  describe('the gradient short forms (on cifar-cnn and the sample dog)', () => {
    let net: tf.LayersModel;
    let x: tf.Tensor3D;
    before(async () => {
      net = await models.load('cifar-cnn');
      x = await images.sample('dog', { size: [32, 32], fit: 'fill' });
    });
    after(() => x.dispose());

    it("show.saliency and show.gradCam: the technique's map on the same image, no tensor left", async () => {
      await show.saliency('cifar-cnn', 'dog', 'cat').then((r) => r.map.dispose()); // kernels compiled once
      const before = tf.memory().numTensors;
      const s = await show.saliency('cifar-cnn', 'dog', 'cat');
      const own = await saliency(net, x, { target: 3 });
      assert.ok(maxDiff(s.map, own) === 0, 'saliency: the same map');
      const g = await show.gradCam('cifar-cnn', 'dog', 'cat');
      const ownCam = await gradCam(net, x, { target: 3 });
      assert.ok(maxDiff(g.map, ownCam) < 1e-6, 'Grad-CAM: the same map');
      assert.ok(s.figure instanceof Figure && g.figure instanceof Figure);
      tf.dispose([s.map, own, g.map, ownCam]);
      assert.strictEqual(tf.memory().numTensors, before);
    });

    it("show.smoothGrad and show.integratedGradients: the technique's map, stored for a named image", async () => {
      const o = { samples: 4, steps: 4 };
      const first = await printed(() => show.smoothGrad('cifar-cnn', 'dog', 'cat', o));
      assert.match(first.text, /smoothgrad-cifar-cnn-dog-cat: computed in/);
      const own = await smoothGrad(net, x, { target: 3, samples: 4, noiseLevel: 0.15, seed: 0 });
      assert.ok(maxDiff(first.value.map, own) < 1e-6, 'SmoothGrad: the same map');
      const again = await printed(() => show.smoothGrad('cifar-cnn', 'dog', 'cat', o));
      assert.match(again.text, /smoothgrad-cifar-cnn-dog-cat: loaded from the cache/);
      assert.strictEqual(maxDiff(again.value.map, first.value.map), 0);
      const ig = await printed(() => show.integratedGradients('cifar-cnn', 'dog', 'cat', o));
      const ownIg = await integratedGradients(net, x, { target: 3, steps: 4, tolerance: Infinity });
      assert.ok(maxDiff(ig.value.map, ownIg) < 1e-6, 'Integrated Gradients: the same map');
      // its line: the dark pixels' mean |attribution| against the others', and their ratio
      const [, dark, rest, ratio] = ig.text.match(
        new RegExp(
          /Integrated Gradients, cat: dark pixels \([^)]*\) get a mean \|attribution\| of ([\d.e+-]+), /.source +
            /the others ([\d.e+-]+) \((\d+\.\d) times as much\)/.source,
        ),
      )!;
      assert.strictEqual((Number(rest) / Number(dark)).toFixed(0), Number(ratio).toFixed(0));
      tf.dispose([first.value.map, own, again.value.map, ig.value.map, ownIg]);
    });

    it("show.attributions prints each map's share in the box and, for two classes, their correlation", async () => {
      const box = { top: 8, left: 0, height: 16, width: 16, name: 'the box' };
      const methods = ['saliency', 'Grad-CAM'] as const;
      const before = tf.memory().numTensors;
      const one = await printed(() => show.attributions('cifar-cnn', 'dog', 'cat', { methods, box }));
      const [sal, cam] = one.value.maps[0];
      const own = await saliency(net, x, { target: 3 });
      assert.strictEqual(maxDiff(sal, own), 0);
      own.dispose();
      assert.match(
        one.text,
        new RegExp(
          `share of the magnitude in the box: saliency ${sharePct(sal, box)}%, Grad-CAM ${sharePct(cam, box)}%`,
        ),
      );
      const two = await printed(() => show.attributions('cifar-cnn', 'dog', ['cat', 'dog'], { methods, box }));
      assert.strictEqual(two.value.maps.length, 2);
      assert.match(two.text, /^saliency: cat vs dog, correlation -?\d\.\d\d$/m);
      assert.match(two.text, /^Grad-CAM for dog: \d+% of its magnitude in the box \(for cat: \d+%\)$/m);
      tf.dispose([...one.value.maps.flat(), ...two.value.maps.flat()]);
      assert.strictEqual(tf.memory().numTensors, before);
    });

    it('show.guidedBackprop: the gradient, guided backprop, deconvnet of the techniques, shares printed', async () => {
      const box = { top: 0, left: 0, height: 16, width: 32, name: 'the top half' };
      const before = tf.memory().numTensors;
      const { text, value } = await printed(() => show.guidedBackprop('cifar-cnn', 'dog', 'cat', { box }));
      const own = [
        await saliency(net, x, { target: 3, reduce: 'none' }),
        await guidedBackprop(net, x, { target: 3 }),
        await deconvnet(net, x, { target: 3 }),
      ];
      value.maps.forEach((m, k) => assert.ok(maxDiff(m, own[k]) < 1e-6, `map ${k}`));
      const shares = own.map((m) => sharePct(m, box));
      assert.strictEqual(
        text,
        `gradient: ${shares[0]}% in the top half, guided backprop: ${shares[1]}% in the top half, ` +
          `deconvnet: ${shares[2]}% in the top half`,
      );
      tf.dispose([...value.maps, ...own]);
      assert.strictEqual(tf.memory().numTensors, before);
    });

    it("show.guidedNeurons: each neuron's guided backprop lies inside its receptive field", async () => {
      const before = tf.memory().numTensors;
      const { text, value } = await printed(() => show.guidedNeurons('cifar-cnn', 'dog', 'conv2', { count: 2 }));
      assert.match(text, /^conv2: 64 channels, 16x16 positions; receptive field \d+x\d+ px, \d+ px apart/);
      assert.strictEqual(value.neurons.length, 2);
      for (const n of value.neurons) {
        assert.ok(n.inside > 0.999, `channel ${n.channel}: ${n.inside} inside`);
        const g = await guidedBackprop(net, x, { layer: 'conv2', channel: n.channel, y: n.y, x: n.x });
        const [h, w] = [n.box.bottom - n.box.top, n.box.right - n.box.left];
        const inside = tf.tidy(() => g.abs().slice([n.box.top, n.box.left], [h, w]).sum().div(g.abs().sum()));
        assert.strictEqual(inside.dataSync()[0].toFixed(4), n.inside.toFixed(4));
        tf.dispose([g, inside]);
      }
      assert.strictEqual(tf.memory().numTensors, before);
      await assert.rejects(
        show.guidedNeurons('cifar-cnn', 'dog', 'conv22'),
        /^Error: show\.guidedNeurons: unknown layer 'conv22'; layers of this model: conv1, pool1, bn1, conv2,/,
      );
      await assert.rejects(
        show.guidedNeurons('cifar-cnn', 'dog', 'conv2', { count: 0 }),
        /^Error: show\.guidedNeurons: count/,
      );
    });

    it("show.shap: kernelShap's values, adding up to the printed scores; stored for a named image", async () => {
      const o = { nSegments: 6, samples: 40, output: 'logits' as const };
      const first = await printed(() => show.shap('cifar-cnn', 'dog', 'cat', o));
      assert.match(first.text, /shap-cifar-cnn-dog-cat-logits: computed in/);
      const r = first.value.shap[0];
      const own = await kernelShap(net, x, {
        target: 3,
        segments: 'slic',
        nSegments: 6,
        samples: 40,
        seed: 0,
        output: 'logits',
        details: true,
      });
      assert.deepStrictEqual(Array.from(r.values), Array.from(own.perImage[0].values));
      own.attributions.dispose();
      const [, n, sum, fx, fb] = first.text.match(
        new RegExp(
          /cat: (\d+) coalitions; the \d+ values add up to (-?\d+\.\d\d) = /.source +
            /score\(photo\) (-?\d+\.\d\d) - score\(black\) (-?\d+\.\d\d); largest for/.source,
        ),
      )!;
      assert.strictEqual(Number(n), r.coalitions);
      assert.ok(Math.abs(Number(sum) - (Number(fx) - Number(fb))) <= 0.011, `${sum} = ${fx} - ${fb}`);
      const before = tf.memory().numTensors;
      const again = await printed(() => show.shap('cifar-cnn', 'dog', ['cat', 'dog'], o));
      assert.match(again.text, /shap-cifar-cnn-dog-cat-logits: loaded from the cache/);
      assert.strictEqual(again.value.maps.length, 2);
      tf.dispose([...first.value.maps, ...again.value.maps]);
      assert.strictEqual(tf.memory().numTensors, before - 1);
    });

    it("show.yourImage: the photo, the top 5 and the class whose Grad-CAM map is least like the best's", async () => {
      const before = tf.memory().numTensors;
      const { text, value } = await printed(() => show.yourImage('cifar-cnn', 'dog'));
      assert.match(text, /^photo: sample dog\ncifar-cnn top 5: /);
      const p = tf.tidy(() => (net.predict(x.expandDims(0)) as tf.Tensor2D).dataSync());
      assert.strictEqual(value.first, p.indexOf(Math.max(...p)));
      assert.notStrictEqual(value.second, value.first);
      assert.deepStrictEqual(value.classes, [value.first, value.second]);
      assert.match(text, /the least alike Grad-CAM maps: correlation -?\d\.\d\d$/m);
      assert.strictEqual(tf.memory().numTensors, before);
    });

    it('names the function and the valid choices: misspelt class, image, method; a box outside the image', async () => {
      await assert.rejects(
        show.saliency('cifar-cnn', 'dog', 'kat'),
        /^Error: show\.saliency: unknown class 'kat'; closest: 'cat'/,
      );
      await assert.rejects(show.gradCam('cifar-cnn', 'dgo', 'cat'), /^Error: show\.gradCam: unknown image 'dgo'/);
      await assert.rejects(
        show.attributions('cifar-cnn', 'dog', 'cat', { methods: ['Grad-Cam' as never] }),
        new RegExp(
          /^Error: show\.attributions: unknown method 'Grad-Cam'; valid choices: saliency, guided backprop, /.source +
            /SmoothGrad, Integrated Gradients, Grad-CAM, guided Grad-CAM/.source,
        ),
      );
      await assert.rejects(
        show.attributions('cifar-cnn', 'dog', ['cat', 'dog', 'ship']),
        /^Error: show\.attributions: expected one class or two, got 3/,
      );
      await assert.rejects(
        show.guidedBackprop('cifar-cnn', 'dog', 'cat', { box: { top: 20, left: 0, height: 16, width: 8 } }),
        /^Error: show\.guidedBackprop: box \{ top, left, height, width \} must lie inside the 32x32 image/,
      );
      await assert.rejects(
        show.shap('cifar-cnn', 'dog', 'cat', { output: 'logit' as never }),
        /^Error: show\.shap: unknown output 'logit'; valid choices: probs, logits/,
      );
      await assert.rejects(show.shap('cifar-cnn', 'dog', 'kat'), /^Error: show\.shap: unknown class 'kat'/);
    });
    it("show.shap on several photos: each photo's best class, or one class each", async () => {
      const o = { nSegments: 6, samples: 40 };
      const before = tf.memory().numTensors;
      const { text, value } = await printed(() => show.shap('cifar-cnn', ['dog', 'coffee'], 'best', o));
      assert.strictEqual(value.maps.length, 2);
      const p = tf.tidy(() => (net.predict(x.expandDims(0)) as tf.Tensor2D).dataSync());
      const best = p.indexOf(Math.max(...p));
      assert.match(text, new RegExp(`^${models.classNames(net)[best]}: \\d+ coalitions;`, 'm'));
      tf.dispose(value.maps);
      assert.strictEqual(tf.memory().numTensors, before);
      await assert.rejects(
        show.shap('cifar-cnn', ['dog', 'coffee'], ['cat'], o),
        /^Error: show\.shap: 2 images: give one class each, or 'best'/,
      );
    });

    it('show.deletion: the areas of deletionScore, stored; the printed lines read the table', async () => {
      const photos = ['dog', 'coffee'];
      const first = await printed(() => show.deletion('cifar-cnn', photos));
      assert.match(first.text, /^dog: \w+ \d\.\d{3}\ncoffee: \w+ \d\.\d{3}\n/);
      assert.match(first.text, /deletion-insertion-cifar-cnn: computed in/);
      const rows = first.value.scores;
      assert.deepStrictEqual(
        rows.map((r) => r.method),
        ['saliency', 'guided backprop', 'SmoothGrad', 'Integrated Gradients', 'Grad-CAM', 'Kernel SHAP', 'random'],
      );
      // Grad-CAM's row is deletionScore of gradCam on the same batch, each photo for its best class
      const batch = tf.stack([x, await images.sample('coffee', { size: [32, 32], fit: 'fill' })]) as tf.Tensor4D;
      const best = tf.tidy(() => Array.from((net.predict(batch) as tf.Tensor2D).argMax(-1).dataSync()));
      const cam = await gradCam(net, batch, { target: best });
      const del = await deletionScore(net, batch, cam, { target: best, steps: 24 });
      assert.ok(Math.abs(del.auc - rows[4].deletion) < 1e-6, `${del.auc} against ${rows[4].deletion}`);
      tf.dispose([batch, cam]);
      const byDel = [...rows].sort((a, b) => a.deletion - b.deletion)[0].method;
      assert.match(first.text, new RegExp(`^best deletion: ${byDel};`, 'm'));
      const before = tf.memory().numTensors;
      const again = await printed(() => show.deletion('cifar-cnn', photos));
      assert.match(again.text, /deletion-insertion-cifar-cnn: loaded from the cache/);
      assert.deepStrictEqual(
        again.value.scores.map((r) => r.deletion),
        rows.map((r) => r.deletion),
      );
      assert.strictEqual(tf.memory().numTensors, before);
    });

    it("show.sanity: randomizationCheck's cascade and means, the line where each first falls below 0.5", async () => {
      const before = tf.memory().numTensors;
      const { text, value } = await printed(() => show.sanity('cifar-cnn', ['dog']));
      assert.deepStrictEqual(value.cascade, ['logits', 'features', 'bn3', 'conv3', 'bn2', 'conv2', 'bn1', 'conv1']);
      assert.match(
        text,
        /top down: 8 layers with weights \(3 convolutions, 2 dense layers, 3 batch norms\): logits -> features -> /,
      );
      assert.match(text, /steps computed: 8, 8, 8, 8; the same layers as the cascade above: true/);
      const p = tf.tidy(() => (net.predict(x.expandDims(0)) as tf.Tensor2D).dataSync());
      const best = [p.indexOf(Math.max(...p))];
      const batch = x.expandDims(0);
      const r = await randomizationCheck(net, (m, b) => gradCam(m, b, { target: best }), batch, { seed: 0 });
      batch.dispose();
      const cam = value.rows.find((row) => row.method === 'Grad-CAM')!;
      assert.deepStrictEqual(
        cam.means.map((m) => m.toFixed(6)),
        r.steps.map((t) => t.mean.toFixed(6)),
      );
      const below = cam.means.findIndex((m) => m < 0.5);
      const tail =
        below < 0 ? 'never below 0.5' : `first below 0.5 with ${below + 1} of 8 layers random \\(down to \\w+\\)`;
      assert.match(text, new RegExp(`^Grad-CAM: ${cam.means[0].toFixed(2)} after logits, .*; ${tail}$`, 'm'));
      assert.strictEqual(tf.memory().numTensors, before);
    });

    it('show.randomizedMaps draws the maps along the cascade, stored; errors name the call', async () => {
      const before = tf.memory().numTensors;
      const first = await printed(() => show.randomizedMaps('cifar-cnn', 'dog', { size: 32 }));
      assert.match(first.text, /randomization-maps-cifar-cnn-dog: computed in/);
      assert.ok(first.value.figure instanceof Figure);
      const again = await printed(() => show.randomizedMaps('cifar-cnn', 'dog', { size: 32 }));
      assert.match(again.text, /randomization-maps-cifar-cnn-dog: loaded from the cache/);
      assert.strictEqual(tf.memory().numTensors, before);
      await assert.rejects(show.sanity('cifar-cnn', []), /^Error: show\.sanity: expected a list of photos/);
      await assert.rejects(
        show.deletion('cifar-cnn', ['dog', 'coffee'], { fit: ['fill'] }),
        /^Error: show\.deletion: fit: 1 fits for 2 photos/,
      );
      await assert.rejects(show.sanity('cifar-cnn', ['dgo']), /^Error: show\.sanity: unknown image 'dgo'/);
    });
  });
});
