#!/usr/bin/env python3
"""PyTorch (CPU) anchor of one training step of @seg/optim-adm's data-set
network (createEncoderDecoder, src/dataset/network.ts) with the 'pce' method of
trainOnDataset (src/dataset/trainer.ts). Runs where `import torch` works and
prints one JSON line; encoder-decoder-step.ts runs it with 1 and 2 threads.

  python3 torch_encoder_decoder.py [--threads N] [--quick] [--batch 8] [--size 64]
                                   [--reps R] [--check FILE]

--check FILE: a JSON file of @seg's weights (`stage.layer/filter|bias`,
filters [kh, kw, in, out]), an NHWC input and @seg's logits of it; the copy is
loaded with those weights and the largest logit difference reported
(checkMaxAbsDiff), before any timing. --reps 0: no timing.

The network, layer for layer as in network.ts (NCHW here, NHWC there):
- enc0: conv 3×3 3→16, ReLU, conv 3×3 16→16, ReLU ('same' padding, bias);
- enc1..enc3: max-pool 2×2 stride 2, then two conv 3×3 + ReLU to 32, 48, 64
  channels; the last conv of enc3 dilated 2 (padding 2);
- dec2, dec1, dec0: bilinear ×2 upsampling to the skip's size with half-pixel
  centres (tfjs resizeBilinear(alignCorners=false, halfPixelCenters=true) =
  F.interpolate(mode='bilinear', align_corners=False)), concatenation
  [upsampled, skip] on the channels, conv 3×3 + ReLU to 48, 32, 16 channels;
- a 1×1 classifier 16→2 (no ReLU).
194,418 parameters with the default channels.

The step: Adam (lr 1e-3) on the partial cross-entropy of a batch of crops
(fixed random inputs; scribble strokes covering ~3 % of the pixels): per crop
the mean of −log softmax over its seeded pixels, then the mean over the crops
that have seeds (@seg/losses partialCrossEntropy, reduction 'mean').
Each figure is the median over repeated steps after warm-up.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

args = sys.argv[1:]


def arg(name, default, cast=int):
    return cast(args[args.index(name) + 1]) if name in args else default


threads = arg('--threads', 2)
quick = '--quick' in args
batch = arg('--batch', 8)
size = arg('--size', 64)
torch.set_num_threads(threads)
torch.manual_seed(1)
reps = arg('--reps', 5 if quick else 21)
check = arg('--check', None, str)


def conv_relu(cin, cout, dilation=1):
    return [nn.Conv2d(cin, cout, 3, padding=dilation, dilation=dilation), nn.ReLU()]


class EncoderDecoder(nn.Module):
    def __init__(self, ch=(16, 32, 48, 64), k=2):
        super().__init__()
        c0, c1, c2, c3 = ch
        self.enc0 = nn.Sequential(*conv_relu(3, c0), *conv_relu(c0, c0))
        self.enc1 = nn.Sequential(nn.MaxPool2d(2), *conv_relu(c0, c1), *conv_relu(c1, c1))
        self.enc2 = nn.Sequential(nn.MaxPool2d(2), *conv_relu(c1, c2), *conv_relu(c2, c2))
        self.enc3 = nn.Sequential(nn.MaxPool2d(2), *conv_relu(c2, c3), *conv_relu(c3, c3, 2))
        self.dec2 = nn.Sequential(*conv_relu(c3 + c2, c2))
        self.dec1 = nn.Sequential(*conv_relu(c2 + c1, c1))
        self.dec0 = nn.Sequential(*conv_relu(c1 + c0, c0), nn.Conv2d(c0, k, 1))

    @staticmethod
    def up(x, like):
        return F.interpolate(x, size=like.shape[2:], mode='bilinear', align_corners=False)

    def forward(self, x):
        e0 = self.enc0(x)
        e1 = self.enc1(e0)
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = self.dec2(torch.cat([self.up(e3, e2), e2], 1))
        d1 = self.dec1(torch.cat([self.up(d2, e1), e1], 1))
        return self.dec0(torch.cat([self.up(d1, e0), e0], 1))


def partial_ce(logits, seeds):
    """Mean over seeded crops of the mean −log p[y] over each crop's seeds (−1: unlabelled)."""
    nll = F.cross_entropy(logits, seeds, ignore_index=-1, reduction='none')  # [n, h, w], 0 off the seeds
    count = (seeds >= 0).sum(dim=(1, 2))
    has = count > 0
    per = nll.sum(dim=(1, 2))[has] / count[has]
    return per.mean()


def scribbles(n, h, w, gen):
    """Per crop a foreground and a background stroke, 2 px thick and ~h/2 long: ~3 % of the pixels."""
    seeds = torch.full((n, h, w), -1, dtype=torch.long)
    length = max(1, h // 2)
    for b in range(n):
        for label in (0, 1):
            r = int(torch.randint(0, h - 1, (1,), generator=gen))
            c = int(torch.randint(0, w - length + 1, (1,), generator=gen))
            seeds[b, r:r + 2, c:c + length] = label
    return seeds


def check_against(net, file):
    """Loads @seg's weights into `net`; the largest |logit difference| on @seg's input, and the largest |logit|."""
    with open(file) as f:
        ref = json.load(f)
    layers = {'enc0.a': net.enc0[0], 'enc0.b': net.enc0[2], 'dec0.classify': net.dec0[2]}
    for i in (1, 2, 3):
        layers[f'enc{i}.a'] = getattr(net, f'enc{i}')[1]
        layers[f'enc{i}.b'] = getattr(net, f'enc{i}')[3]
    for i in (0, 1, 2):
        layers[f'dec{i}.a'] = getattr(net, f'dec{i}')[0]
    assert len(ref['params']) == 2 * len(layers), sorted(ref['params'])
    with torch.no_grad():
        for name, conv in layers.items():
            w = ref['params'][f'{name}/filter']
            b = ref['params'][f'{name}/bias']
            conv.weight.copy_(torch.tensor(w['data']).reshape(w['shape']).permute(3, 2, 0, 1))
            conv.bias.copy_(torch.tensor(b['data']).reshape(b['shape']))
        inp = torch.tensor(ref['input']['data']).reshape(ref['input']['shape']).permute(0, 3, 1, 2)
        out = net(inp).permute(0, 2, 3, 1)
        want = torch.tensor(ref['logits']['data']).reshape(ref['logits']['shape'])
        assert list(out.shape) == list(want.shape), (out.shape, want.shape)
        return float((out - want).abs().max()), float(want.abs().max())


net = EncoderDecoder()
num_params = sum(p.numel() for p in net.parameters())
checked = check_against(net, check) if check else None
gen = torch.Generator().manual_seed(2)
x = torch.randn(batch, 3, size, size, generator=gen)
seeds = scribbles(batch, size, size, gen)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)


def step():
    opt.zero_grad()
    loss = partial_ce(net(x), seeds)
    loss.backward()
    opt.step()
    return loss.item()


ts = []
if reps > 0:
    for _ in range(3):
        step()
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        ts.append((time.perf_counter() - t0) * 1000)

out = {
    "solver": "torch", "version": torch.__version__, "threads": threads,
    "batch": batch, "size": size, "numParams": num_params,
    "seededFraction": round(float((seeds >= 0).float().mean()), 4),
    "encoderDecoderStepMs": round(statistics.median(ts), 3) if ts else None,
    "samplesMs": [round(t, 3) for t in ts],
}
if checked:
    out["checkMaxAbsDiff"], out["checkMaxAbsLogit"] = checked
print(json.dumps(out))
