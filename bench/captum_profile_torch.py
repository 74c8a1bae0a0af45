"""PyTorch side of bench/captum_profile.ts: per-op CPU time of MobileNet v1 0.75 (real weights) at 224 on a batch,
forward without gradient (occlusion's pass) and forward + input gradient (saliency's, IG's and SmoothGrad's), on
N threads, by torch.profiler.

Reads {"threads", "model_dir", "batch", "runs"} as JSON on stdin; prints
{"forward": {"total_ms", "ops": {name: [ms per run, calls per run]}}, "gradient": {...}}.
"""
import json
import os
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _mobilenet_torch import load_logits  # noqa: E402


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job['threads'])
    f = load_logits(job['model_dir'])
    x = torch.rand(job['batch'], 3, 224, 224, generator=torch.Generator().manual_seed(0))

    def forward():
        with torch.no_grad():
            f(x)

    def gradient():
        xi = x.clone().requires_grad_(True)
        f(xi)[:, 1].sum().backward()

    out = {}
    for name, fn in (('forward', forward), ('gradient', gradient)):
        fn()
        runs = job['runs']
        t0 = time.perf_counter()
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(runs):
                fn()
        total = (time.perf_counter() - t0) * 1000 / runs
        ops = {}
        for e in prof.key_averages():
            # Self time: each op once, not again inside the ops that call it.
            ops[e.key] = [e.self_cpu_time_total / 1000 / runs, e.count / runs]
        out[name] = {'total_ms': total, 'ops': ops}
    print(json.dumps(out))


if __name__ == '__main__':
    main()
