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
import torch.nn as nn
import torch.nn.functional as F

COLOR = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32)


def read_weights(model_dir):
    manifest = json.load(open(os.path.join(model_dir, 'model.json')))
    out = {}
    for group in manifest['weightsManifest']:
        buf = b''.join(open(os.path.join(model_dir, p), 'rb').read() for p in group['paths'])
        offset = 0
        for w in group['weights']:
            n = int(np.prod(w['shape'])) if w['shape'] else 1
            out[w['name']] = np.frombuffer(buf, dtype=np.float32, count=n, offset=offset).reshape(w['shape'])
            offset += 4 * n
    return manifest['modelTopology'], out


class TfSame(nn.Module):
    """TensorFlow 'same' padding for a k x k kernel with stride s (the extra row/column goes after)."""

    def __init__(self, k, s):
        super().__init__()
        self.k, self.s = k, s

    def forward(self, x):
        h, w = x.shape[2:]
        ph = max((math.ceil(h / self.s) - 1) * self.s + self.k - h, 0)
        pw = max((math.ceil(w / self.s) - 1) * self.s + self.k - w, 0)
        return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


def build(topology, weights):
    """The Keras chain as torch layers, up to the logits (conv_preds), weights copied in."""
    config = topology.get('model_config', topology)['config']['layers']
    layers = [nn.Identity()]
    for layer in config:
        kind, c, name = layer['class_name'], layer['config'], layer['config']['name']
        if kind == 'Conv2D':
            k = weights[name + '/kernel']  # [kh, kw, in, out]
            conv = nn.Conv2d(k.shape[2], k.shape[3], k.shape[0], c['strides'][0], bias=c.get('use_bias', True))
            conv.weight.data = torch.from_numpy(k.transpose(3, 2, 0, 1).copy())
            if conv.bias is not None:
                conv.bias.data = torch.from_numpy(weights[name + '/bias'].copy())
            layers += [TfSame(k.shape[0], c['strides'][0]) if c['padding'] == 'same' else nn.Identity(), conv]
        elif kind == 'DepthwiseConv2D':
            k = weights[name + '/depthwise_kernel']  # [kh, kw, in, 1]
            conv = nn.Conv2d(k.shape[2], k.shape[2], k.shape[0], c['strides'][0], groups=k.shape[2], bias=False)
            conv.weight.data = torch.from_numpy(k.transpose(2, 3, 0, 1).copy())
            layers += [TfSame(k.shape[0], c['strides'][0]), conv]
        elif kind == 'BatchNormalization':
            g = weights[name + '/gamma']
            bn = nn.BatchNorm2d(g.shape[0], eps=c['epsilon'])
            bn.weight.data = torch.from_numpy(g.copy())
            bn.bias.data = torch.from_numpy(weights[name + '/beta'].copy())
            bn.running_mean = torch.from_numpy(weights[name + '/moving_mean'].copy())
            bn.running_var = torch.from_numpy(weights[name + '/moving_variance'].copy())
            layers.append(bn)
        elif kind == 'Activation' and c['activation'] == 'relu6':
            layers.append(nn.ReLU6())
        elif kind == 'GlobalAveragePooling2D':
            layers.append(nn.AdaptiveAvgPool2d(1))
        if name == 'conv_preds':
            break
    return nn.Sequential(*layers, nn.Flatten()).eval()


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
