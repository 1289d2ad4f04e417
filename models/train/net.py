"""Compact U-Nets for SAEMI.

The compute budget (../shared/DESIGN.md) is ~10-12 k MAC per input pixel, which a plain base-8 U-Net
already spends at full resolution.  `StemUNet` spends it where it buys capability instead: a thin
full-resolution path (8 channels) keeps outlines sharp, a stride-2 stem moves the bulk of the work to
half resolution and below, and five levels give a receptive field of a few hundred pixels so that large
particles (EMPS has 100-500 px ones) are seen whole.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

OUTPUT_NAMES = ("foreground", "boundary", "distance")


def cbr(cin, cout, stride=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def dsc(cin, cout):
    """Depthwise-separable 3x3: cheap at coarse levels where channels are many."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
        nn.BatchNorm2d(cin),
        nn.Conv2d(cin, cout, 1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Up(nn.Module):
    """Bilinear x2 then concat with the skip, two 3x3 convs (no transposed conv: no checkerboard)."""

    def __init__(self, cin, cskip, cout, sep=False):
        super().__init__()
        block = dsc if sep else cbr
        self.reduce = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True))
        self.c1 = block(cout + cskip, cout)
        self.c2 = block(cout, cout)

    def forward(self, x, skip):
        x = self.reduce(x)
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.c2(self.c1(torch.cat([x, skip], 1)))


class UpAdd(nn.Module):
    """The full-resolution top block of `stem_add`: bilinear x2 of the reduced decoder features *added* to the
    full-resolution features, then one 3x3 conv. Against Up's concat and two 3x3 convs (16 -> 8, 8 -> 8) it saves
    1152 of the network's 12 k MAC per pixel, and float full-resolution convs are the slowest per MAC on WASM
    (they stay float in the int8 export): 1024x768 int8, WASM 2 threads in Node, 273 -> 228 ms with random weights."""

    def __init__(self, cin, cout):
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(cin, cout, 1), nn.ReLU(True))
        self.c1 = nn.Sequential(nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(True))

    def forward(self, x, skip):
        x = F.interpolate(self.reduce(x), size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.c1(x + skip)


class StemUNet(nn.Module):
    def __init__(self, full=8, widths=(16, 32, 64, 96, 128), sep_from=99, n_out=3, top_add=False):
        super().__init__()
        self.full = cbr(1, full)
        self.stem = cbr(full, widths[0], stride=2)
        self.enc = nn.ModuleList()
        cin = widths[0]
        for i, w in enumerate(widths):
            block = dsc if i >= sep_from else cbr
            first = block(cin, w) if i == 0 else nn.Sequential(nn.MaxPool2d(2), block(cin, w))
            self.enc.append(nn.Sequential(first, block(w, w)))
            cin = w
        self.dec = nn.ModuleList()
        for i in range(len(widths) - 1, 0, -1):
            self.dec.append(Up(widths[i], widths[i - 1], widths[i - 1], sep=(i - 1) >= sep_from))
        self.top = UpAdd(widths[0], full) if top_add else Up(widths[0], full, full)
        self.head = nn.Conv2d(full, n_out, 1)
        self.n_out = n_out

    def trunk(self, x):
        """(full-resolution features, the last decoder level's features at half resolution)."""
        f = self.full(x)
        h = self.stem(f)
        skips = []
        for e in self.enc:
            h = e(h)
            skips.append(h)
        h = skips[-1]
        for d, s in zip(self.dec, reversed(skips[:-1])):
            h = d(h, s)
        return f, h

    def logits(self, x):
        f, h = self.trunk(x)
        return self.head(self.top(h, f))

    def forward(self, x):
        z = self.logits(x)
        return tuple(torch.sigmoid(z[:, i : i + 1]) for i in range(self.n_out))


class PlainUNet(nn.Module):
    """The DESIGN.md reference: 4 levels, two 3x3 conv per level, base channels at full resolution."""

    def __init__(self, base=8, n_out=3):
        super().__init__()
        w = [base, base * 2, base * 4, base * 8, base * 16]
        self.enc = nn.ModuleList()
        cin = 1
        for i, c in enumerate(w):
            pre = [] if i == 0 else [nn.MaxPool2d(2)]
            self.enc.append(nn.Sequential(*pre, cbr(cin, c), cbr(c, c)))
            cin = c
        self.dec = nn.ModuleList([Up(w[i], w[i - 1], w[i - 1]) for i in range(len(w) - 1, 0, -1)])
        self.head = nn.Conv2d(base, n_out, 1)
        self.n_out = n_out

    def logits(self, x):
        skips = []
        h = x
        for e in self.enc:
            h = e(h)
            skips.append(h)
        h = skips[-1]
        for d, s in zip(self.dec, reversed(skips[:-1])):
            h = d(h, s)
        return self.head(h)

    def forward(self, x):
        z = self.logits(x)
        return tuple(torch.sigmoid(z[:, i : i + 1]) for i in range(self.n_out))


ARCHS = {
    "plain8": lambda: PlainUNet(8),
    "stem": lambda: StemUNet(8, (16, 32, 64, 96, 128)),
    "stem_add": lambda: StemUNet(8, (16, 32, 64, 96, 128), top_add=True),
    "stem_wide": lambda: StemUNet(8, (16, 32, 64, 128, 192), sep_from=3),
    "stem_sep": lambda: StemUNet(8, (24, 48, 96, 160, 256), sep_from=2),
}


def count_macs(model, h=256, w=256):
    """MACs of conv layers per input pixel (the figure DESIGN.md budgets)."""
    total = [0]

    def hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        total[0] += out.numel() * (m.in_channels // m.groups) * k

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, h, w))
    for x in hs:
        x.remove()
    return total[0] / (h * w)


def n_params(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    for k, f in ARCHS.items():
        m = f()
        print(k, "params %.3fM" % (n_params(m) / 1e6), "MAC/px %.1fk" % (count_macs(m) / 1e3))
