"""PyTorch peer of bench/imagenet.ts: MobileNet v1 0.75 at 224x224 (the same layers as the
TensorFlow.js model cnnviz loads; random weights, the same cost), one image, on N threads.

Reads {"threads", "runs", "warmup"} as JSON on stdin; prints {"forward_ms": [...], "grad_ms": [...]}.
"""
import json
import sys
import time

import torch
import torch.nn as nn


def conv_bn(cin, cout, k, stride, groups=1):
    # TensorFlow 'same' padding: with stride 2 on an even size, the padding goes after.
    pad = nn.ZeroPad2d((0, 1, 0, 1)) if stride == 2 else nn.ZeroPad2d(k // 2)
    return [pad, nn.Conv2d(cin, cout, k, stride, groups=groups, bias=False), nn.BatchNorm2d(cout), nn.ReLU6()]


def mobilenet_v1(alpha=0.75):
    c = int(32 * alpha)
    layers = conv_bn(3, c, 3, 2)
    for out, stride in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
                        (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)):
        out = int(out * alpha)
        layers += conv_bn(c, c, 3, stride, groups=c)
        layers += [nn.Conv2d(c, out, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU6()]
        c = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, 1000, 1), nn.Flatten(), nn.Softmax(dim=1))


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job['threads'])
    torch.manual_seed(1)
    net = mobilenet_v1().eval()
    logits = nn.Sequential(*list(net.children())[:-1])
    x = torch.rand(1, 3, 224, 224)

    def forward():
        with torch.no_grad():
            net(x)

    def grad():
        xi = x.clone().requires_grad_(True)
        logits(xi)[0, 281].backward()

    out = {}
    for name, fn in (('forward_ms', forward), ('grad_ms', grad)):
        for _ in range(job['warmup']):
            fn()
        times = []
        for _ in range(job['runs']):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        out[name] = times
    print(json.dumps(out))


main()
