"""PyTorch peer of bench/engine.ts: the same three nets, the same cases, timed the same way.

Reads a JSON list of jobs on stdin, each {"net", "case", "batch", "threads", "runs", "warmup"},
and prints a JSON list of {"job": ..., "ms": [...], "median_ms": ...} on stdout.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn


def lecture_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(128 * 3 * 3, 256), nn.ReLU(), nn.Linear(256, 10), nn.Softmax(dim=1))


def vgg_style():
    layers, c = [], 3
    for out in (64, 64, 'pool', 128, 128, 'pool', 256, 256, 'pool'):
        if out == 'pool':
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU()]
            c = out
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 8 * 8, 10), nn.Softmax(dim=1))


def same_pad_conv(cin, cout, k, stride, groups=1):
    # TensorFlow 'same' padding with stride 2 on even sizes pads only after; match it.
    if stride == 1:
        return nn.Conv2d(cin, cout, k, stride, padding=k // 2, groups=groups, bias=False)
    return nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(cin, cout, k, stride, groups=groups, bias=False))


def mobilenet_style():
    layers = [same_pad_conv(3, 32, 3, 2), nn.BatchNorm2d(32), nn.ReLU6()]
    c = 32
    for out, stride in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)):
        layers += [same_pad_conv(c, c, 3, stride, groups=c), nn.BatchNorm2d(c), nn.ReLU6(),
                   nn.Conv2d(c, out, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU6()]
        c = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10), nn.Softmax(dim=1))


NETS = {
    'fashion-cnn': (lecture_cnn, (1, 28, 28)),
    'vgg': (vgg_style, (3, 64, 64)),
    'mobilenet': (mobilenet_style, (3, 96, 96)),
}


def run_job(job):
    torch.set_num_threads(job['threads'])
    torch.manual_seed(1)
    build, shape = NETS[job['net']]
    model = build()
    x = torch.rand(job['batch'], *shape)
    y = torch.nn.functional.one_hot(torch.randint(0, 10, (job['batch'],)), 10).float()
    opt = torch.optim.Adam(model.parameters())

    def forward():
        model.eval()
        with torch.no_grad():
            model(x)

    def input_gradient():
        model.eval()
        xi = x.clone().requires_grad_(True)
        model(xi)[:, 0].sum().backward()
        return xi.grad

    def train_step():
        model.train()
        opt.zero_grad()
        p = model(x)
        loss = -(y * torch.log(p.clamp_min(1e-7))).sum(1).mean()
        loss.backward()
        opt.step()

    fn = {'forward': forward, 'inputGradient': input_gradient, 'trainStep': train_step}[job['case']]
    for _ in range(job['warmup']):
        fn()
    times = []
    for _ in range(job['runs']):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return {'job': job, 'ms': times, 'median_ms': statistics.median(times)}


def main():
    jobs = json.load(sys.stdin)
    out = [run_job(j) for j in jobs]
    json.dump({'torch': torch.__version__, 'results': out}, sys.stdout)


if __name__ == '__main__':
    main()
