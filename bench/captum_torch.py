"""PyTorch + Captum peer of bench/captum.ts: the attribution methods on MobileNet v1 0.75 at 224 with its REAL
weights (bench/_mobilenet_torch.py), on N threads, timed by wall and process CPU seconds (all threads).

Needs Captum 0.7.0 importable by the python that runs this file (bench/captum.ts says how to install it).
Reads a job as JSON on stdin:
  {"threads", "model_dir", "image" (raw float32 [224, 224, 3] file), "target", "out_dir", "repeats",
   "methods": [names], "ig_steps", "sg_samples", "sg_sigma", "occ_window", "occ_stride", "cam_layer"}
prints {"versions", "logits_top", "rows": {method: {"wall": [s...], "cpu": [s...]}}} and writes each method's map
(float32 [224, 224]) to out_dir/<method>.f32.
"""
import importlib.abc
import importlib.machinery
import json
import os
import sys
import time
import types

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _mobilenet_torch import load_logits  # noqa: E402


class _Stub(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return _Stub(self.__name__ + '.' + name)


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Captum imports matplotlib for its plots only; without it installed, an empty stand-in lets it load."""

    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('matplotlib', 'mpl_toolkits'):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        return _Stub(spec.name)

    def exec_module(self, module):
        module.__path__ = []


try:
    import matplotlib  # noqa: F401
except ImportError:
    sys.meta_path.insert(0, _StubFinder())

try:
    import captum
    from captum.attr import (IntegratedGradients, KernelShap, LayerAttribution, LayerGradCam, NoiseTunnel, Occlusion,
                             Saliency)
except ImportError as err:
    sys.stderr.write(f'captum not importable by {sys.executable}: {err}\n')
    sys.exit(3)


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job['threads'])
    torch.manual_seed(0)
    f = load_logits(job['model_dir'])
    hwc = np.fromfile(job['image'], dtype=np.float32).reshape(224, 224, 3)
    x = torch.from_numpy(hwc.transpose(2, 0, 1).copy())[None]
    t = job['target']
    with torch.no_grad():
        logits = f(x)[0]
    top = int(torch.argmax(logits))
    cam_layer = dict(f.net.named_children())[job['cam_layer']]

    def max_abs(a):  # [1, 3, H, W] -> [H, W]: the largest |value| over the channels
        return a[0].abs().max(dim=0).values

    def saliency():
        return max_abs(Saliency(f).attribute(x, target=t, abs=False))

    def grad_cam():
        a = LayerGradCam(f, cam_layer).attribute(x, target=t, relu_attributions=True)
        return LayerAttribution.interpolate(a, (224, 224), 'bilinear')[0, 0]

    def ig():
        a = IntegratedGradients(f).attribute(
            x, baselines=torch.zeros_like(x), target=t, n_steps=job['ig_steps'], method='riemann_trapezoid'
        )
        return a[0].sum(dim=0)

    def smoothgrad():
        nt = NoiseTunnel(Saliency(f))
        a = nt.attribute(x, nt_type='smoothgrad', nt_samples=job['sg_samples'], stdevs=job['sg_sigma'], target=t,
                         abs=False)
        return max_abs(a)

    def occlusion():
        w, s = job['occ_window'], job['occ_stride']
        a = Occlusion(f).attribute(x, sliding_window_shapes=(3, w, w), strides=(3, s, s), baselines=0, target=t)
        return a[0, 0]

    def kernel_shap():
        # The same grid of segments as cnnviz's; all-on and all-off are Captum's first two samples, cnnviz's extra.
        mask = torch.from_numpy(np.fromfile(job['shap_mask'], dtype=np.int32).astype(np.int64).reshape(1, 1, 224, 224))
        a = KernelShap(f).attribute(x, baselines=0, target=t, feature_mask=mask, n_samples=job['shap_samples'] + 2,
                                    perturbations_per_eval=job['shap_batch'])
        return a[0, 0]

    methods = {'saliency': saliency, 'gradCam': grad_cam, 'integratedGradients': ig, 'smoothGrad': smoothgrad,
               'occlusion': occlusion, 'kernelShap': kernel_shap}
    rows = {}
    for name in job['methods']:
        fn = methods[name]
        # Warm-up until WARM_S of wall time has passed (at least once), and at least SHORT_REPEATS timed runs for
        # a method under SHORT_S: the same protocol as bench/captum.ts, so both sides are timed in steady state.
        w0 = time.perf_counter()
        m = fn()
        first = time.perf_counter() - w0
        while time.perf_counter() - w0 < job['warm_s']:
            m = fn()
        repeats = max(job['repeats'], job['short_repeats'] if first < job['short_s'] else 0)
        wall, cpu = [], []
        for _ in range(repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            m = fn()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        m.detach().numpy().astype(np.float32).tofile(os.path.join(job['out_dir'], name + '.f32'))
        rows[name] = {'wall': wall, 'cpu': cpu}
    print(json.dumps({'versions': {'torch': torch.__version__, 'captum': captum.__version__},
                      'logits_top': [top, float(logits[top])], 'logit_target': float(logits[t]), 'rows': rows}))


if __name__ == '__main__':
    main()
