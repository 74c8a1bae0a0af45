"""PyTorch peer of bench/featvis.ts: Olah et al.'s recipe (1/f^decay Fourier spectrum, decorrelated
colour, sigmoid; random pad/jitter/scale/rotate; Adam) on MobileNet v1 0.75 with the REAL weights,
read from the TensorFlow.js model.json and its weight shards, on N threads.

Reads {"threads", "model_dir", "size", "steps", "target", "pad", "warmup"} as JSON on stdin; prints
{"step_ms": [...], "logit": final target logit at size, "grey_logits_top": [class index, logit] of a grey image}.
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _mobilenet_torch import build, read_weights  # noqa: E402

COLOR = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32)


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job['threads'])
    torch.manual_seed(job.get('seed', 0))
    topology, weights = read_weights(job['model_dir'])
    net = build(topology, weights)
    for p in net.parameters():
        p.requires_grad_(False)
    logits = lambda x: net(x * 2 - 1)  # the tfjs model's [0, 1] -> [-1, 1]
    with torch.no_grad():
        grey = logits(torch.full((1, 3, 224, 224), 0.5))[0]
    size, pad, steps, target = job['size'], job['pad'], job['steps'], job['target']
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    scale = 1.0 / np.maximum(np.sqrt(fx * fx + fy * fy), 1.0 / size) ** 1.5 * size
    scale = torch.from_numpy(scale.astype(np.float32))
    spec = (0.01 * torch.randn(2, 1, 3, size, size // 2 + 1)).requires_grad_(True)
    color = torch.from_numpy((COLOR / np.max(np.linalg.norm(COLOR, axis=0))).T.copy())
    opt = torch.optim.Adam([spec], lr=0.05)
    rng = np.random.default_rng(job.get('seed', 0))

    def image(out_size):
        z = torch.complex(spec[0], spec[1]) * scale
        img = torch.fft.irfft2(z, s=(size, size)) / 4
        if out_size != size:
            img = F.interpolate(img, size=(out_size, out_size), mode='bilinear', align_corners=False)
        img = torch.einsum('nchw,cd->ndhw', img, color)
        return torch.sigmoid(img)

    times = []
    for step in range(steps + job['warmup']):
        t = time.perf_counter()
        x = F.pad(image(size) - 0.5, (pad, pad, pad, pad)) + 0.5
        s = 1 + rng.uniform(-0.1, 0.1)
        a = math.radians(rng.uniform(-10, 10))
        j = 12 * size / 128 / (size + 2 * pad)
        theta = torch.tensor([[[math.cos(a) / s, -math.sin(a) / s, rng.uniform(-j, j)],
                               [math.sin(a) / s, math.cos(a) / s, rng.uniform(-j, j)]]], dtype=torch.float32)
        grid = F.affine_grid(theta, x.shape, align_corners=False)
        x = F.grid_sample(x - 0.5, grid, align_corners=False) + 0.5
        loss = -logits(x)[0, target]
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= job['warmup']:
            times.append((time.perf_counter() - t) * 1000)
    with torch.no_grad():
        final = logits(image(224))[0, target].item()
    top = int(torch.argmax(grey))
    print(json.dumps({'step_ms': times, 'logit': final, 'grey_top': [top, float(grey[top])]}))


if __name__ == '__main__':
    main()
