"""MobileNet v1 0.75 (or any Keras chain of Conv2D, DepthwiseConv2D, BatchNormalization, ReLU6 and global average
pooling) in PyTorch with the REAL weights, read from a TensorFlow.js layers model.json and its weight shards.
Shared by bench/featvis_torch.py and bench/captum_torch.py.
"""
import json
from collections import OrderedDict
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

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
    layers = []  # (Keras name, module): the Sequential's children are named after the Keras layers
    for layer in config:
        kind, c, name = layer['class_name'], layer['config'], layer['config']['name']
        if kind == 'Conv2D':
            k = weights[name + '/kernel']  # [kh, kw, in, out]
            conv = nn.Conv2d(k.shape[2], k.shape[3], k.shape[0], c['strides'][0], bias=c.get('use_bias', True))
            conv.weight.data = torch.from_numpy(k.transpose(3, 2, 0, 1).copy())
            if conv.bias is not None:
                conv.bias.data = torch.from_numpy(weights[name + '/bias'].copy())
            pad = TfSame(k.shape[0], c['strides'][0]) if c['padding'] == 'same' else nn.Identity()
            layers += [(name + '_pad', pad), (name, conv)]
        elif kind == 'DepthwiseConv2D':
            k = weights[name + '/depthwise_kernel']  # [kh, kw, in, 1]
            conv = nn.Conv2d(k.shape[2], k.shape[2], k.shape[0], c['strides'][0], groups=k.shape[2], bias=False)
            conv.weight.data = torch.from_numpy(k.transpose(2, 3, 0, 1).copy())
            layers += [(name + '_pad', TfSame(k.shape[0], c['strides'][0])), (name, conv)]
        elif kind == 'BatchNormalization':
            g = weights[name + '/gamma']
            bn = nn.BatchNorm2d(g.shape[0], eps=c['epsilon'])
            bn.weight.data = torch.from_numpy(g.copy())
            bn.bias.data = torch.from_numpy(weights[name + '/beta'].copy())
            bn.running_mean = torch.from_numpy(weights[name + '/moving_mean'].copy())
            bn.running_var = torch.from_numpy(weights[name + '/moving_variance'].copy())
            layers.append((name, bn))
        elif kind == 'Activation' and c['activation'] == 'relu6':
            layers.append((name, nn.ReLU6()))
        elif kind == 'GlobalAveragePooling2D':
            layers.append((name, nn.AdaptiveAvgPool2d(1)))
        if name == 'conv_preds':
            break
    return nn.Sequential(OrderedDict(layers + [('flatten', nn.Flatten())])).eval()

class Logits(nn.Module):
    """The tfjs model's logits for pixels in [0, 1] (its preprocess layer maps them to [-1, 1])."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x * 2 - 1)

def load_logits(model_dir):
    """MobileNet's logits (conv_preds, flattened) as an eval-mode module with frozen weights."""
    topology, weights = read_weights(model_dir)
    net = build(topology, weights)
    for p in net.parameters():
        p.requires_grad_(False)
    return Logits(net).eval()
