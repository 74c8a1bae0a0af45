/**
 * The attribution short forms (src/lecture/attribution*.ts) on a small model: each runs from a model name, a sample
 * and a class name, prints the lecture's line, returns its figure (and its result), leaks no tensors, stores its heavy
 * step, and names itself and the valid choices on a misspelt argument. The widget's calls of the same names still work.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setup, show, tf, occlusion } from '../src';
import { Figure } from '../src/widgets/figure';

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
  });
});
