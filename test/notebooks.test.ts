import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { launchOfflineChromium } from './util/browser';
import { isChart } from './util/charts';
import { ExecutedNotebook, executeNotebooks, REPO, streamText } from './util/notebook';

/**
 * Every lecture notebook (01-10) through the real kernel: no cell error, nothing on stderr, and
 * the outputs each must show; then its nbconvert HTML in headless Chromium, offline: no console
 * error, every PNG decoded, every Plotly chart drawn. Per-cell timings go to
 * test/artifacts/notebook-times.json; with CNNVIZ_ASSERT_TIMES=1 the live-coding budget (90 s a
 * notebook, 15 s a cell) is asserted too.
 */

type Cell = ExecutedNotebook['nb']['cells'][number];

interface Expectation {
  /** PNG figures the notebook shows, at least. */
  png: number;
  /** Plotly charts, at least. */
  plotly?: number;
  /** Patterns the notebook's printed text must match. */
  text?: RegExp[];
  /** The claims the notebook's markdown makes about its printed numbers (throws when one is false). */
  claims?: (text: string) => void;
}

/** The numbers captured by `re` in `text` (fails when it does not match). */
function numbers(text: string, re: RegExp): number[] {
  const m = text.match(re);
  assert.ok(m, `no match for ${re}`);
  return m.slice(1).map(Number);
}

const EXPECT: Record<string, Expectation> = {
  '01-first-layer-filters': {
    png: 9,
    text: [
      /mnist-cnn: first-layer filters 32 x 5 x 5 x 1/,
      /cifar-cnn: first-layer filters 32 x 5 x 5 x 3/,
      /mobilenet: first-layer filters \d+ x 3 x 3 x 3/,
      /darknet-tiny: first-layer filters \d+ x 3 x 3 x 3/,
      // the large-kernel network: 7x7 colour filters
      /face ResNet \(conv32_down\/conv\/filters\): first-layer filters 32 x 7 x 7 x 3/,
    ],
    claims: (text) => {
      // "the printed change is well under half of the weights' size": the start still dominates
      const [digits] = numbers(text, /mnist-cnn: training changed conv1 by (\d+)% of its size/);
      const [clothes] = numbers(text, /fashion-cnn: training changed conv1 by (\d+)% of its size/);
      assert.ok(digits < 40 && clothes < 40, `conv1 moved ${digits}% and ${clothes}% of its size`);
      // "none fades: even the weakest keeps a large part" of the strongest filter's largest weight
      const [weakest] = numbers(text, /the strongest filter's: weakest (\d+)%/);
      assert.ok(weakest >= 40, `the weakest filter's peak is ${weakest}% of the strongest's`);
    },
  },
  '02-feature-space': {
    png: 3,
    text: [
      /database: 1000 ImageNet photos, one per class, in 20 WordNet groups/,
      /MobileNet features 1000 x 768, pixels 1000 x 9408/,
    ],
    claims: (text) => {
      const [pixels, features, chance] = numbers(
        text,
        new RegExp(
          /in the query's WordNet group among the 5 nearest: pixel space (\d+\.\d)%,/.source +
            / MobileNet features (\d+\.\d)%, chance (\d+\.\d)%/.source,
        ),
      );
      assert.ok(Math.abs(pixels - chance) <= 3, `pixel space ${pixels}% within a few points of chance ${chance}%`);
      assert.ok(features >= 4 * pixels, `MobileNet ${features}% about four times pixels' ${pixels}%`);
      const row = (q: string) =>
        numbers(text, new RegExp(`${q} \\(\\w[^)]*\\): (\\d) of 6 feature-space neighbours in its group, (\\d) of 6`));
      const rows = ['aircraft carrier', 'golden retriever', 'sports car', "photo 'dog'"].map(row);
      for (const [f, p] of rows) assert.ok(f >= p, `each query: feature space ${f} >= pixels ${p} in the group`);
      assert.ok(row('sports car')[0] >= 4, 'the sports car finds other cars');
      const [cPixels, small] = numbers(
        text,
        /CIFAR-10, same class among the 5 nearest: pixel space (\d+\.\d)%, cifar-cnn features (\d+\.\d)%/,
      );
      assert.ok(cPixels > 10 && small > 2 * cPixels, `CIFAR-10: chance 10% < pixels ${cPixels}% < cifar-cnn ${small}%`);
      const change = (c: string) => {
        const v = numbers(
          text,
          new RegExp(
            `${c}: original found: pixels (\\d+)%, cifar-cnn (\\d+)%; same class: pixels (\\d+)%, cifar-cnn (\\d+)%`,
          ),
        );
        return { found: { pixels: v[0], small: v[1] }, same: { pixels: v[2], small: v[3] } };
      };
      const r = Object.fromEntries(
        ['flipped', 'shifted 4 px', 'shifted 8 px', 'cropped 24x24', 'covered 12x12'].map((c) => [c, change(c)]),
      );
      for (const c of ['flipped', 'shifted 4 px', 'shifted 8 px'])
        assert.ok(r[c].found.pixels <= 60, `${c}: pixel space finds the original ${r[c].found.pixels}% (often not)`);
      assert.ok(r['shifted 4 px'].found.small >= 80, 'cifar-cnn finds the original after a 4-pixel shift');
      assert.ok(
        r['flipped'].found.small < r['shifted 4 px'].found.small &&
          r['shifted 8 px'].found.small < r['shifted 4 px'].found.small,
        'cifar-cnn: less for a flip and an 8-pixel shift',
      );
      for (const c of ['cropped 24x24', 'covered 12x12'])
        assert.ok(r[c].found.pixels >= r[c].found.small, `${c}: pixel space finds the original at least as often`);
      for (const [c, v] of Object.entries(r))
        assert.ok(v.same.small >= 2 * v.same.pixels, `${c}: cifar-cnn same-class share at least twice pixels'`);
    },
  },
  '03-dimensionality-reduction': {
    png: 1,
    plotly: 9,
    text: [
      /10000 CIFAR-10 test images/,
      /explain \d+\.\d% of the variance/,
      /kernel PCA: method nystrom \(Nystrom approximation/,
      /trustworthiness/,
    ],
    claims: (text) => {
      const [tsneKnn, largest] = numbers(
        text,
        /ImageNet photos, WordNet group by 5-NN vote in 2-D: t-SNE (\d\.\d+); largest group (\d\.\d+)/,
      );
      const [umapKnn] = numbers(text, /ImageNet photos, WordNet group by 5-NN vote in 2-D: UMAP (\d\.\d+);/);
      assert.ok(
        tsneKnn >= 2.5 * largest && umapKnn >= 2.5 * largest,
        `both maps far above the largest group: t-SNE ${tsneKnn}, UMAP ${umapKnn}, largest ${largest}`,
      );
      const top = text.match(/most confused pairs: ([^,\n]+), ([^,\n]+), ([^,\n]+)\n/);
      assert.ok(top, 'the most confused pairs are printed');
      assert.strictEqual(top[1], 'cat / dog', 'the text: cat / dog comes first');
      assert.ok(
        top.slice(1, 4).includes('automobile / truck'),
        `the text: automobile / truck among the top three (${top.slice(1, 4).join(', ')})`,
      );
      const counts = [...text.matchAll(/│ \d+\s+│ '([a-z]+ \/ [a-z]+)'\s+│ (\d+)/g)].map((m) => Number(m[2]));
      assert.ok(
        counts.length >= 2 && counts[0] >= 1.5 * counts[1],
        `cat / dog first by far: ${counts.slice(0, 2).join(' vs ')}`,
      );
      const knn = (map: string) =>
        numbers(text, new RegExp(`'t-SNE of ${map}'\\s+│ '[-\\d.]+'\\s+│ '(\\d\\.\\d+)'`))[0];
      assert.ok(
        knn('MobileNet features') > knn('pixels') + 0.2 && knn('MobileNet features') < knn('cifar-cnn features'),
        'MobileNet map: far above pixels, below cifar-cnn',
      );
    },
  },
  '04-images-in-2d': {
    png: 6,
    text: [/1000 ImageNet photos, MobileNet features 768 values each, placed by t-SNE/],
    claims: (text) => {
      const [grid, random] = numbers(
        text,
        /t-SNE grid: (\d+\.\d)% of adjacent photos in one WordNet group; random cells: (\d+\.\d)%/,
      );
      assert.ok(
        grid >= 3 * random,
        `the t-SNE grid keeps groups together (${grid}%) against random cells (${random}%)`,
      );
      const [pSame, pColour] = numbers(
        text,
        /pixels grid: (\d+\.\d)% of adjacent images share a class; mean colour difference of adjacent images (\d\.\d+)/,
      );
      const [fSame, fColour] = numbers(
        text,
        new RegExp(
          /features grid: (\d+\.\d)% of adjacent images share a class;/.source +
            / mean colour difference of adjacent images (\d\.\d+)/.source,
        ),
      );
      assert.ok(
        pSame < 50 && fSame > 50,
        `pixel grid: most neighbours of another class (${pSame}%); feature grid: mostly one class (${fSame}%)`,
      );
      assert.ok(pColour < fColour, `pixel neighbours differ least in colour (${pColour} < ${fColour})`);
      assert.match(text, /features grid, the most frequent neighbours of two classes: [^\n]*cat \/ dog/);
      assert.match(text, /features grid, the most frequent neighbours of two classes: [^\n]*automobile \/ truck/);
    },
  },
  '05-activating-patches': {
    png: 15,
    text: [
      /of 128 conv3 channels have 7 or more top images of one class/,
      // the survey draws the most class-specific channel (the table's first row) and one of the least
      /conv3 channel 124: 8 of 9 'truck'/,
    ],
    claims: (text) => {
      // The text: a late unit sees the whole 224x224 photo and more, an early one a few pixels.
      const field = (layer: string) =>
        numbers(text, new RegExp(`${layer}: output [\\dx]+, receptive field (\\d+)x\\d+ px of 224x224`));
      const [[deepest], [late], [early]] = ['conv_pw_13_bn', 'conv_pw_11_bn', 'conv_pw_1_bn'].map(field);
      assert.ok(deepest >= 224 && late >= 200 && early <= 10, `fields: ${early}, ${late}, ${deepest} px`);
      const [none1] = numbers(text, /conv_pw_1_bn: (\d+) of 48 channels have 7 or more/);
      const [seven13] = numbers(text, /conv_pw_13_bn: (\d+) of 768 channels have 7 or more/);
      assert.strictEqual(none1, 0, 'no conv_pw_1 channel has 7 of its top nine in one group');
      assert.strictEqual(seven13, 7, 'seven conv_pw_13 channels have 7 or more of their top nine in one group');
      // Each channel the text describes, with the group count and classes the text names.
      const line = (layer: string, channel: number, count: number, group: string, names: string[]) => {
        const m = text.match(new RegExp(`${layer} channel ${channel}: (\\d) of 9 in '${group}': ([^\\n]+)`));
        assert.ok(m, `${layer} channel ${channel} is chosen, in '${group}'`);
        assert.strictEqual(Number(m[1]), count, `${layer} channel ${channel}: ${count} of 9`);
        for (const n of names)
          assert.ok(m[2].split(', ').includes(n), `${layer} channel ${channel}: ${n} in its top 9`);
      };
      line('conv_pw_1_bn', 2, 5, 'device', ['carousel', 'scuba diver', 'holster']);
      line('conv_pw_1_bn', 26, 3, 'other mammal', ['African grey', 'zebra', 'echidna', 'hamper']);
      line('conv_pw_5_bn', 140, 5, 'tool or implement', ['rugby ball', 'tank', 'spindle', 'harvestman']);
      line('conv_pw_5_bn', 118, 5, 'device', ['sunglass', 'stove', 'black and gold garden spider']);
      line('conv_pw_11_bn', 218, 7, 'dog', ['basset', 'beagle', 'Labrador retriever', 'little blue heron', 'crane']);
      line('conv_pw_11_bn', 188, 6, 'device', ['power drill', 'mousetrap', 'daisy', 'papillon', 'screw']);
      line('conv_pw_13_bn', 567, 8, 'dog', ['Chihuahua', 'Norwegian elkhound', 'Norwich terrier', 'tabby']);
      line('conv_pw_13_bn', 391, 7, 'bird', ['hen', 'jacamar', 'robin', 'white stork', 'macaw', 'hartebeest']);
    },
  },
  '06-occlusion': {
    png: 17,
    text: [
      /MobileNet top 5: malamute/,
      /malamute: score -?\d+\.\d+ unoccluded/,
      /mountain bike: score -?\d+\.\d+ unoccluded/,
      /pickup: score -?\d+\.\d+ unoccluded/,
      /probability \d\.\d+ unoccluded/,
      /window 56, stride 28, fill blur: \d+x\d+ positions/,
    ],
    claims: (text) => {
      // each class's score falls most where its object is: dog lower left, bicycle middle, truck top right
      const lowest = (c: string) =>
        numbers(
          text,
          new RegExp(`${c}: score [-\\d.]+ unoccluded, lowest [-\\d.]+ with the patch at row (\\d+), column (\\d+)`),
        );
      const [dogRow, dogCol] = lowest('malamute');
      const [, bikeCol] = lowest('mountain bike');
      const [truckRow, truckCol] = lowest('pickup');
      assert.ok(dogRow >= 84 && dogCol <= 56, `malamute lowest at (${dogRow}, ${dogCol}): the dog, lower left`);
      assert.ok(bikeCol >= 56 && bikeCol <= 112, `mountain bike lowest at column ${bikeCol}: the bicycle, middle`);
      assert.ok(truckRow <= 56 && truckCol >= 140, `pickup lowest at (${truckRow}, ${truckCol}): the truck, top right`);
      // "even the 32-pixel patch takes almost all of the dog's probability away"; larger windows at least as much
      const windows = [32, 56, 112].map((w) =>
        numbers(
          text,
          new RegExp(
            `malamute: probability (\\d\\.\\d+) unoccluded, lowest (\\d\\.\\d+)` +
              `[^\\n]*\\(window ${w}, stride 16, fill mean:`,
          ),
        ),
      );
      for (const [base, low] of windows) assert.ok(low < base / 10, `lowest ${low} against ${base} unoccluded`);
      // the 32-px patch hurts most on the dog (lower left); the 112-px one also raises the probability somewhere
      const [w32Row, w32Col] = numbers(
        text,
        /malamute: [^\n]* lowest \d\.\d+ with the patch at row (\d+), column (\d+)[^\n]*\(window 32, stride 16,/,
      );
      assert.ok(w32Row >= 100 && w32Col <= 100, `window 32 lowest at (${w32Row}, ${w32Col}): the dog`);
      const [high112] = numbers(text, /highest (\d\.\d+) at row \d+, column \d+ \(window 112, stride 16,/);
      assert.ok(high112 > windows[2][0] * 1.5, `covering some region raises P(malamute) to ${high112}`);
      assert.ok(windows[2][1] <= windows[0][1], 'the largest window takes at least as much');
      // the fill hardly matters here: all near zero, at one place
      const fills = ['mean', 'black', 'blur'].map((f) =>
        numbers(
          text,
          new RegExp(
            `malamute: probability [\\d.]+ unoccluded, lowest (\\d\\.\\d+) with the patch at row (\\d+), ` +
              `column (\\d+)[^\\n]*\\(window 56, stride 28, fill ${f}:`,
          ),
        ),
      );
      for (const [low, row, col] of fills) {
        assert.ok(low < 0.02, `fill: lowest ${low}`);
        assert.deepStrictEqual([row, col], [fills[0][1], fills[0][2]], 'the same place for every fill');
      }
      // one 7x7 patch dents a near-certain answer
      const [sure, dented] = numbers(text, /Ankle boot: probability (\d\.\d+) unoccluded, lowest (\d\.\d+)/);
      assert.ok(sure > 0.99 && dented < 0.5, `ankle boot ${sure} -> ${dented}`);
      // image 4: covering the collar lowers Shirt and raises T-shirt/top
      const [row, , s0, s1, t0, t1] = numbers(
        text,
        /patch at row (\d+), column (\d+): P\(Shirt\) (\d\.\d+) -> (\d\.\d+), P\(T-shirt\/top\) (\d\.\d+) -> (\d\.\d+)/,
      );
      assert.ok(row <= 6, `the patch at the top of the garment (row ${row})`);
      assert.ok(s1 < s0 && t1 > 2 * t0, `Shirt ${s0} -> ${s1}, T-shirt ${t0} -> ${t1}`);
    },
  },
  '07-saliency-and-guided-backprop': {
    png: 6,
    text: [
      /P\(malamute\) = \d\.\d+/,
      /P\(mountain bike\) = \d\.\d+/,
      /conv_pw_5_relu: \d+ channels, 28x28 positions; receptive field \d+x\d+ px/,
      /Grad-CAM: malamute vs mountain bike, correlation 0\.[0-5]\d/,
      /guided backprop: malamute vs mountain bike, correlation (0\.9\d|1\.00)/,
    ],
    claims: (text) => {
      const [grad, gbp, dec] = numbers(
        text,
        new RegExp(
          /gradient: (\d+)% in the dog's box, guided backprop: (\d+)% in the dog's box,/.source +
            / deconvnet: (\d+)% in the dog's box/.source,
        ),
      );
      // the box is a quarter of the photo: the deconvnet spreads evenly, guided backprop and the gradient about half
      assert.ok(dec >= 20 && dec <= 30, `deconvnet ${dec}% in the dog's box, about its area share`);
      assert.ok(gbp >= 45 && grad >= 40, `guided backprop ${gbp}% and gradient ${grad}% on the dog`);
      // one neuron: all of its guided backprop inside its receptive field, most in the middle quarter
      const neurons = [...text.matchAll(/(\d+\.\d)% of its guided backprop inside, (\d+)% in the middle quarter/g)];
      assert.strictEqual(neurons.length, 2, 'two neurons');
      for (const m of neurons) {
        assert.strictEqual(m[1], '100.0', 'guided backprop of a neuron lies inside its receptive field');
        assert.ok(Number(m[2]) > 50, `${m[2]}% in the middle quarter`);
      }
      // Integrated Gradients' black baseline: less on the black dog than the plain gradient, less on dark pixels
      const [salBox, igBox] = numbers(text, /in the dog's box: saliency (\d+)%, [^\n]*Integrated Gradients (\d+)%/);
      assert.ok(igBox < salBox, `IG ${igBox}% in the dog's box, saliency ${salBox}%`);
      const [ratio] = numbers(text, /the others [\d.e+-]+ \((\d+\.\d) times as much\)/);
      assert.ok(ratio >= 1.5, `non-dark pixels get ${ratio} times the IG of dark ones`);
      // guided backprop is class-insensitive: the bicycle's map still on the dog
      const [bikeOnDog, dogOnDog] = numbers(
        text,
        /guided backprop for mountain bike: (\d+)% of its magnitude in the dog's box \(for malamute: (\d+)%\)/,
      );
      assert.ok(bikeOnDog >= 40 && bikeOnDog > dogOnDog - 10, `mountain bike ${bikeOnDog}%, malamute ${dogOnDog}%`);
      const [cam] = numbers(text, /Grad-CAM: malamute vs mountain bike, correlation (\d\.\d+)/);
      assert.ok(cam < 0.5, `Grad-CAM tells the classes apart (${cam})`);
    },
  },
  '08-class-visualization': {
    png: 10,
    text: [
      /P\(tarantula\) = \d\.\d+ \(logit -?\d+\.\d\)/,
      /olah +P\(goldfish\) = \d\.\d+/,
      /channel images: 9 \(3 layers x 3 channels\)/,
      /conv_pw_11_relu:250 fires hardest on: [^,\n]+, [^,\n]+, [^,\n]+\n/,
      // the markdown: channel 100's top photos are dogs (faces and fur), as its image is
      /conv_pw_11_relu:100 fires hardest on: Australian terrier, Japanese spaniel/,
      /P\(3\) = \d\.\d+/,
      // the four presets on class 3, then every digit by preset 3, each with the network's probability
      /yosinski4 P\(3\) = \d\.\d{4} \(logit -?\d+\.\d\)/,
      /^P\(0\) = \d\.\d{4} .*\n(^P\([1-9]\) = \d\.\d{4} .*\n){9}/m,
    ],
    claims: (text) => {
      // Plain ascent: probability about 1 for every class, and a higher logit than Olah's image.
      for (const c of ['tarantula', 'goldfish', 'flamingo', 'volcano']) {
        const [p, plain] = numbers(text, new RegExp(`simonyan +P\\(${c}\\) = (\\d\\.\\d+) \\(logit (-?[\\d.]+)\\)`));
        const [, olah] = numbers(text, new RegExp(`olah +P\\(${c}\\) = (\\d\\.\\d+) \\(logit (-?[\\d.]+)\\)`));
        assert.ok(p > 0.99 && plain > olah, `${c}: plain ascent P ${p}, logit ${plain}; Olah's logit ${olah}`);
      }
    },
  },
  '10-your-own-image': {
    png: 9,
    text: [/photo: /, /MobileNet top 5: /, /unoccluded, lowest/, /\d+ coalitions; the \d+ values/, /class image of /],
    claims: (text) => {
      // two classes of different objects: the least alike Grad-CAM maps among the top 10
      const [rank, r] = numbers(
        text,
        /\(rank (\d+) of 10, P = \d\.\d+\), the least alike Grad-CAM maps: correlation (-?\d\.\d+)/,
      );
      assert.ok(rank >= 2 && rank <= 10 && r < 0.5, `second class at rank ${rank}, Grad-CAM correlation ${r}`);
      // the sample photo (an empty folder) is not the dog of notebooks 06-09
      if (/has no image yet/.test(text)) assert.match(text, /photo: sample giraffe/);
    },
  },
  '09-shap-and-sanity': {
    png: 5,
    text: [/dog: malamute \d\.\d+/, /coalitions; the \d+ values add up to/, /deletion AUC/, /best deletion: /],
    claims: (text) => {
      // Kernel SHAP: malamute's strongest superpixel on the dog (lower left), mountain bike's on the
      // bicycle's rear wheel (right of the middle: the bicycle faces left)
      const [, malamuteCol] = numbers(text, /malamute: \d+ coalitions;[^\n]*centred at row (\d+), column (\d+)/);
      const [bikeRow, bikeCol] = numbers(
        text,
        /mountain bike: \d+ coalitions;[^\n]*centred at row (\d+), column (\d+)/,
      );
      assert.ok(malamuteCol < 112, `malamute's best superpixel at column ${malamuteCol}`);
      assert.ok(
        bikeRow >= 110 && bikeRow <= 190 && bikeCol >= 115 && bikeCol <= 175,
        `mountain bike's best superpixel at (${bikeRow}, ${bikeCol}): the rear wheel`,
      );
      const [coalitions] = numbers(text, /malamute: (\d+) coalitions/);
      assert.ok(coalitions >= 300 && coalitions <= 1000, `"several hundred" combinations: ${coalitions}`);
      // deletion and insertion disagree: IG best on deletion but below random on insertion, as guided
      // backprop; Grad-CAM about twice random's deletion; only SmoothGrad and Kernel SHAP beat random on both
      assert.match(text, /best deletion: Integrated Gradients;/);
      const [worseIns] = text.match(/worse than random on deletion: [^;]*; on insertion: ([^\n]*)/)!.slice(1);
      assert.ok(
        worseIns.includes('Integrated Gradients') && worseIns.includes('guided backprop'),
        `below random on insertion: ${worseIns}`,
      );
      assert.match(text, /beat random on both scores: SmoothGrad, Kernel SHAP;/);
      // "Grad-CAM's insertion is among the best": its rank in the printed table
      const ins = [...text.matchAll(/│ '([A-Za-z -]+)'\s+│ '(\d\.\d+)'\s+│ '(\d\.\d+)'/g)].map((m) => [
        m[1],
        Number(m[3]),
      ]);
      const camIns = ins.findIndex(([m]) => m === 'Grad-CAM');
      assert.ok(camIns >= 0 && ins.filter(([, v]) => v > ins[camIns][1]).length <= 2, `Grad-CAM's insertion rank`);
      const [camRatio] = numbers(text, /Grad-CAM's deletion AUC is (\d+\.\d) times random's/);
      assert.ok(camRatio >= 1.7 && camRatio <= 2.5, `Grad-CAM's deletion ${camRatio} times random's ("about twice")`);
      // the cascade is randomizationCheck's default: every layer with weights, top down
      const [all, convs, bns] = numbers(
        text,
        /randomized in turn, top down: (\d+) layers with weights \((\d+) convolutions, (\d+) batch norms\)/,
      );
      assert.deepStrictEqual([all, convs, bns], [55, 28, 27], 'MobileNet: 28 convolutions and 27 batch norms');
      assert.match(text, /batch norms\): conv_preds -> conv_pw_13_bn -> conv_pw_13 -> conv_dw_13_bn -> conv_dw_13 -> /);
      assert.match(text, / -> conv_dw_1 -> conv1_bn -> conv1\n/);
      assert.match(text, /steps computed: 55, 55, 55, 55; the same layers as the cascade above: true/);
      const line = (m: string) =>
        numbers(
          text,
          new RegExp(
            `${m}: (-?\\d\\.\\d+) after conv_preds, (-?\\d\\.\\d+) after block 13, (-?\\d\\.\\d+) with every ` +
              `layer random; first below 0.5 with (\\d+) of 55 layers random`,
          ),
        );
      const [camTop, cam13, camAll, camBelow] = line('Grad-CAM');
      const [salTop, , salAll, salBelow] = line('saliency');
      const [gbpTop, gbp13, gbpAll, gbpBelow] = line('guided backprop');
      const [, , igAll] = line('Integrated Gradients');
      assert.ok(
        camTop < 0.5 && camBelow === 1 && cam13 < 0.5,
        `Grad-CAM weak at once and stays so (${camTop}, ${cam13})`,
      );
      assert.ok(camAll < 0.5, `Grad-CAM never comes back (${camAll})`);
      assert.ok(
        salTop < 0.8 && salTop > camTop && salAll < salTop && salBelow <= 2,
        `saliency changes at once, less than Grad-CAM, and keeps falling (${salTop} -> ${salAll})`,
      );
      assert.ok(gbpTop >= 0.9 && gbp13 >= 0.9, `guided backprop near 1 through block 13 (${gbpTop}, ${gbp13})`);
      assert.ok(
        gbpBelow > 55 / 2 && gbpAll < 0.3,
        `guided backprop below 0.5 only in the lower blocks (step ${gbpBelow})`,
      );
      assert.ok(
        igAll >= 0.3 && igAll <= 0.5 && igAll > salAll && igAll > camAll && igAll > gbpAll,
        `Integrated Gradients about 0.4 with every layer random, the highest (${igAll})`,
      );
    },
  },
};

function source(c: Cell): string {
  return Array.isArray(c.source) ? c.source.join('') : c.source;
}

function mimes(c: Cell): string[] {
  return (c.outputs ?? []).flatMap((o) => Object.keys((o.data as Record<string, unknown> | undefined) ?? {}));
}

export function lectureNotebooks(): string[] {
  const dir = path.join(REPO, 'notebooks', 'lecture15');
  return fs
    .readdirSync(dir)
    .filter((f) => /^(0[1-9]|10)-.*\.ipynb$/.test(f))
    .sort()
    .map((f) => path.join('notebooks', 'lecture15', f));
}

/** Records per-notebook and per-cell seconds for the README table. */
export function recordTimes(file: string, runs: ExecutedNotebook[]): void {
  const rows = runs.map(({ report, nb }) => {
    const code = nb.cells.filter((c) => c.cell_type === 'code');
    const cells = report.cells.map((c, k) => ({
      cell: c.index,
      seconds: c.seconds,
      first: source(code[k] ?? { cell_type: 'code', source: '' })
        .split('\n')[0]
        .slice(0, 60),
    }));
    const slowest = cells.reduce((m, c) => ((c.seconds ?? 0) > (m.seconds ?? 0) ? c : m), cells[0]);
    return { notebook: path.relative(REPO, report.notebook), seconds: report.seconds, slowest, cells };
  });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify(
      { when: new Date().toISOString(), load: fs.readFileSync('/proc/loadavg', 'utf8').trim(), notebooks: rows },
      null,
      1,
    ),
  );
}

/**
 * CNNVIZ_NOTEBOOKS=02,03 runs only those lecture notebooks (by number); unset: all of them.
 * An unknown number is an error, so a typo cannot pass by running nothing.
 */
function selectedNotebooks(all: string[]): string[] {
  const want = (process.env.CNNVIZ_NOTEBOOKS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (want.length === 0) return all;
  const numbers = all.map((n) => path.basename(n).slice(0, 2));
  const unknown = want.filter((w) => !numbers.includes(w));
  if (unknown.length)
    throw new Error(`CNNVIZ_NOTEBOOKS: no lecture notebook ${unknown.join(', ')}; valid: ${numbers.join(', ')}`);
  return all.filter((n) => want.includes(path.basename(n).slice(0, 2)));
}

describe('lecture notebooks run through the real kernel', function () {
  this.timeout(3600_000);
  const allNotebooks = lectureNotebooks();
  const notebooks = selectedNotebooks(allNotebooks);
  let runs: ExecutedNotebook[] = [];

  before(function () {
    runs = executeNotebooks(notebooks, {
      timeoutS: 600,
      html: true,
      outDir: path.join(REPO, 'test', 'artifacts', 'lecture'),
    });
    recordTimes(path.join(REPO, 'test', 'artifacts', 'notebook-times.json'), runs);
  });

  it('has notebooks 01 to 10', () => {
    assert.deepStrictEqual(
      allNotebooks.map((n) => path.basename(n).slice(0, 2)),
      ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10'],
    );
  });

  const selected = new Set(notebooks.map((n) => path.basename(n, '.ipynb')));
  for (const name of Object.keys(EXPECT).filter((n) => selected.has(n))) {
    it(`${name}: no error, nothing on stderr, its pictures and text`, () => {
      const run = runs.find((r) => path.basename(r.report.notebook, '.ipynb') === name);
      assert.ok(run, `${name} was not executed`);
      const { report, nb } = run;
      assert.strictEqual(
        report.error,
        null,
        `cell ${report.error?.cell} failed: ${report.error?.message}\n${report.error?.cell_output}`,
      );
      for (const c of report.cells) assert.strictEqual(c.stderr, '', `cell ${c.index} wrote to stderr: ${c.stderr}`);
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      const text = code.map(streamText).join('\n');
      assert.doesNotMatch(
        text,
        /Error:|Traceback|is not defined|undefined \(reading/,
        'an error message in the printed output',
      );
      const exp = EXPECT[name];
      // Figures, not cells: a cell may show several (one per channel, per image...).
      const png = code.reduce((n, c) => n + mimes(c).filter((m) => m === 'image/png').length, 0);
      assert.ok(png >= exp.png, `expected at least ${exp.png} PNG figures, got ${png}`);
      const plotly = code.reduce(
        (n, c) => n + (c.outputs ?? []).filter((o) => isChart(o.data as Record<string, unknown> | undefined)).length,
        0,
      );
      assert.ok(plotly >= (exp.plotly ?? 0), `expected at least ${exp.plotly} Plotly charts, got ${plotly}`);
      for (const re of exp.text ?? []) assert.match(text, re);
      exp.claims?.(text);
      // The intro: a title and a few sentences of why, before any code.
      assert.strictEqual(nb.cells[0].cell_type, 'markdown');
      assert.match(source(nb.cells[0]), /^# Lecture 15 · \d\d — /);
      if (process.env.CNNVIZ_ASSERT_TIMES === '1') {
        assert.ok(report.seconds < 90, `${name} took ${report.seconds} s (budget 90 s)`);
        for (const c of report.cells)
          assert.ok((c.seconds ?? 0) < 15, `${name} cell ${c.index} took ${c.seconds} s (budget 15 s)`);
      }
    });
  }

  it('the HTML of every notebook shows all its figures in Chromium, offline and without errors', async function () {
    const browser = await launchOfflineChromium(['--disable-gpu']);
    try {
      for (const { report, nb } of runs) {
        const name = path.basename(report.notebook);
        assert.ok(report.html, `${name}: no HTML`);
        const bundles = nb.cells.flatMap((c) =>
          (c.outputs ?? []).map((o) => (o.data as Record<string, unknown> | undefined) ?? {}),
        );
        const pngs = bundles.filter((d) => 'image/png' in d).length;
        const charts = bundles.filter((d) => isChart(d)).length;
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const errors: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') errors.push(`console: ${m.text()}`);
        });
        page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
        await page.route(/^https?:/, (route) => {
          errors.push(`network request: ${route.request().url()}`);
          return route.abort();
        });
        await page.goto('file://' + report.html, { waitUntil: 'load', timeout: 180000 });
        // each chart drawn, or (a WebGL chart past the page's budget of live contexts) parked on its static picture
        const chartStates = () =>
          Array.from(document.querySelectorAll('.cnnviz-plotly')).map((g) =>
            g.querySelector('.main-svg') && (g as unknown as { _fullLayout?: unknown })._fullLayout
              ? 'drawn'
              : g.getAttribute('data-cnnviz-parked') &&
                  ((g.querySelector('img.cnnviz-static') as HTMLImageElement | null)?.naturalWidth ?? 0) > 100
                ? 'parked'
                : 'blank',
          );
        // (a timeout falls through to the assertion below, which names the blank charts)
        await page
          .waitForFunction(`(${String(chartStates)})().every((x) => x !== 'blank')`, null, { timeout: 120000 })
          .catch(() => undefined);
        const seen = await page.evaluate(() => ({
          images: Array.from(document.querySelectorAll('img'))
            .filter((i) => i.src.startsWith('data:image/png'))
            .map((i) => i.complete && i.naturalWidth > 0),
          charts: document.querySelectorAll('.cnnviz-plotly').length,
        }));
        const states = (await page.evaluate(`(${String(chartStates)})()`)) as string[];
        await page.close();
        assert.deepStrictEqual(errors, [], `${name}: errors in the browser`);
        assert.strictEqual(seen.images.length, pngs, `${name}: ${pngs} PNG outputs, ${seen.images.length} in the page`);
        assert.ok(seen.images.every(Boolean), `${name}: a PNG did not decode`);
        assert.strictEqual(seen.charts, charts, `${name}: ${charts} Plotly outputs, ${seen.charts} charts in the page`);
        const blank = states.filter((x) => x === 'blank').length;
        assert.strictEqual(blank, 0, `${name}: ${blank} of ${charts} charts neither drawn nor showing their picture`);
      }
    } finally {
      await browser.close();
    }
  });
});
