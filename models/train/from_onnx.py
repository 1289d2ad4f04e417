"""Rebuild a trainable checkpoint from the shipped ONNX model, so a fine-tuning stage can start from what ships
when the training checkpoints (models/train/runs/, git-ignored) are gone.

  /usr/bin/python3 models/train/from_onnx.py --onnx models/saemi-unet.onnx --data ../shared/data \
      --out models/train/runs/from-onnx/last.pt

The exporter folded every BatchNorm into its convolution (W' = W * g / s, b' = beta - mu * g / s), so the ONNX
file holds W' and b' only. Loaded as they are, with each BatchNorm set to add b', the network is the shipped one
exactly in eval mode. Training mode normalises by the batch's own statistics instead, which would change the
function at the first step; so each BatchNorm is given the statistics its input has on real training images
(mean m, variance v, read in eval mode, where the network is still exact): gamma = sqrt(v + eps),
beta = m + b', running stats m, v. Then eval mode is still exact and training mode starts close to it.
"""

import argparse
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from bnrecal import centre_crops  # noqa: E402
from net import ARCHS  # noqa: E402


def conv_order(model):
    """The model's Conv2d modules in the order the forward pass calls them (the order the exporter wrote)."""
    order = []
    hooks = [m.register_forward_hook(lambda m, i, o: order.append(m)) for m in model.modules() if isinstance(m, nn.Conv2d)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 64, 64))
    for h in hooks:
        h.remove()
    return order


def bn_after(model):
    """{conv: the BatchNorm2d that follows it in its Sequential} (the head has none)."""
    pairs = {}
    for m in model.modules():
        if isinstance(m, nn.Sequential):
            mods = list(m)
            for a, b in zip(mods, mods[1:]):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d):
                    pairs[a] = b
    return pairs


def load_folded(model, path):
    g = onnx.load(path).graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    convs = [n for n in g.node if n.op_type == "Conv"]
    order = conv_order(model)
    if len(convs) != len(order):
        raise SystemExit(f"{path}: {len(convs)} Conv nodes, the net has {len(order)} convolutions")
    bns = bn_after(model)
    for node, conv in zip(convs, order):
        w = init[node.input[1]]
        if tuple(w.shape) != tuple(conv.weight.shape):
            raise SystemExit(f"shape mismatch: ONNX {w.shape} vs torch {tuple(conv.weight.shape)}")
        b = init[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
        conv.weight.data = torch.from_numpy(w.copy())
        bn = bns.get(conv)
        if bn is None:
            conv.bias.data = torch.from_numpy(b.copy())
            continue
        # Identity BatchNorm plus the folded bias (running_var 1 - eps makes sqrt(var + eps) exactly 1).
        bn.weight.data.fill_(1.0)
        bn.bias.data = torch.from_numpy(b.copy())
        bn.running_mean.zero_()
        bn.running_var.fill_(1.0 - bn.eps)
    return bns


@torch.no_grad()
def match_batch_statistics(model, bns, images, max_side=512):
    """Per BatchNorm, the mean and variance of its input over `images` (eval mode: the exact network)."""
    acc = {bn: [0.0, 0.0, 0] for bn in bns.values()}

    def hook(bn):
        def f(m, inp, out):
            x = inp[0].double()
            a = acc[bn]
            a[0] = a[0] + x.sum((0, 2, 3))
            a[1] = a[1] + (x * x).sum((0, 2, 3))
            a[2] += x.numel() // x.shape[1]

        return f

    hs = [bn.register_forward_hook(hook(bn)) for bn in acc]
    model.eval()
    for x in centre_crops(images, max_side):
        model(x)
    for h in hs:
        h.remove()
    for bn, (s, ss, n) in acc.items():
        m = s / n
        v = torch.clamp(ss / n - m * m, min=1e-6)
        b = bn.bias.data.double()
        bn.weight.data = torch.sqrt(v + bn.eps).float()
        bn.bias.data = (m + b).float()
        bn.running_mean.data = m.float()
        bn.running_var.data = v.float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(HERE, "..", "saemi-unet.onnx"))
    ap.add_argument("--arch", default="stem")
    ap.add_argument("--data", default=os.path.join(HERE, "../../../shared/data"))
    ap.add_argument("--images", type=int, default=48)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    from data import emps_items, make_split

    model = ARCHS[a.arch]()
    bns = load_folded(model, a.onnx)
    x = torch.rand(1, 1, 256, 320)
    model.eval()
    with torch.no_grad():
        before = [o.clone() for o in model(x)]
    split = make_split(a.data)
    train = [i for i in emps_items(a.data)[0] if i.id in set(split["emps"]["train"])]
    images = [i.load()[0] for i in train[:: max(1, len(train) // a.images)]]
    match_batch_statistics(model, bns, images)
    with torch.no_grad():
        after = model(x)
    drift = max(float((p - q).abs().max()) for p, q in zip(before, after))
    print(f"eval-mode outputs before/after the statistics: max diff {drift:.2e}", file=sys.stderr)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save({"model": model.state_dict(), "from_onnx": os.path.abspath(a.onnx)}, a.out)
    print(a.out)


if __name__ == "__main__":
    main()
