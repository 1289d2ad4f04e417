"""Star-convex instance head (StarDist-style) on top of the stem U-Net: per-pixel ray distances.

Touching particles are separated by construction: every pixel near a particle's centre predicts the distance
from itself to that particle's own outline along N_RAYS fixed directions, so two particles that touch give two
polygons even where no contact line is visible; greedy non-maximum suppression by the object probability
(the existing `distance` output: normalised distance to the particle's own edge, StarDist's object probability)
keeps one polygon per particle. The rays are predicted at half resolution (grid 2, from the last decoder level
below full resolution), which costs ~1.5 k MAC/px on top of the trunk.

Here: ray targets from instance labels, the network wrapper, the ray loss and a Python twin of the decoder
(used for choosing the probability and overlap thresholds and for in-training validation; the shipped decoder
is TypeScript).
"""

import math

import numpy as np
import torch
from scipy import ndimage as ndi
import torch.nn as nn
import torch.nn.functional as F
from skimage.draw import polygon as draw_polygon

N_RAYS = 32
GRID = 2
# Rays come out of a softplus times this (px at the model's input scale), so the initial output is a few px.
RAY_UNIT = 8.0


def ray_directions(n=N_RAYS):
    a = 2 * math.pi * np.arange(n) / n
    return np.sin(a).astype(np.float32), np.cos(a).astype(np.float32)


def ray_targets(lab, n=N_RAYS, grid=GRID):
    """[n, H/grid, W/grid] distances (px) from each grid point to its own instance's outline; 0 on ground.

    A ray ends at the first pixel (rounded position) that is not the same instance, at t - 0.5. Rays march by
    sphere tracing: from a point whose distance to anything but its own instance's interior is e, the next e - 1
    px are safe to skip, so a ray takes a few steps in the open and 1 px steps only near the outline."""
    H, W = lab.shape
    ys = np.arange(grid // 2, H, grid)
    xs = np.arange(grid // 2, W, grid)
    Y, X = np.meshgrid(ys, xs, indexing="ij")
    own = lab[Y, X]
    out = np.zeros((n,) + Y.shape, np.float32)
    inside = own > 0
    m = int(inside.sum())
    if m == 0:
        return out
    dy, dx = ray_directions(n)
    py = np.repeat(Y[inside].astype(np.float32), n)
    px = np.repeat(X[inside].astype(np.float32), n)
    pl = np.repeat(own[inside], n)
    ry = np.tile(dy, m)
    rx = np.tile(dx, m)
    d = np.zeros(m * n, np.float32)
    alive = np.arange(m * n)
    flat = lab.ravel()
    mx = ndi.maximum_filter(lab, size=3, mode="constant", cval=0)
    mn = ndi.minimum_filter(lab, size=3, mode="constant", cval=0)
    safe = ndi.distance_transform_edt((lab > 0) & (mx == mn)).ravel().astype(np.float32)
    t = np.zeros(m * n, np.float32)
    while alive.size:
        ta = t[alive]
        yy = np.rint(py[alive] + ta * ry[alive]).astype(np.int64)
        xx = np.rint(px[alive] + ta * rx[alive]).astype(np.int64)
        ok = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        same = ok.copy()
        q = yy[ok] * W + xx[ok]
        same[ok] = flat[q] == pl[alive[ok]]
        step = np.ones(alive.size, np.float32)
        step[ok] = np.maximum(1.0, safe[q] - 1.5)
        ended = ~same
        d[alive[ended]] = ta[ended] - 0.5
        t[alive] = ta + step
        alive = alive[same]
    out[:, inside] = d.reshape(m, n).T
    return out


class StarNet(nn.Module):
    """The stem U-Net's three maps plus `rays` [1, N_RAYS, H/2, W/2] in input px."""

    def __init__(self, base, n_rays=N_RAYS, hidden=32):
        super().__init__()
        self.base = base
        w0 = base.stem[0].out_channels
        self.ray_head = nn.Sequential(
            nn.Conv2d(w0, hidden, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(hidden, n_rays, 1)
        )
        nn.init.constant_(self.ray_head[2].bias, 1.0)

    def parts(self, x):
        """(logits of the three maps [B,3,H,W], rays [B,N_RAYS,H/2,W/2])."""
        f, h = self.base.trunk(x)
        rays = F.softplus(self.ray_head(h)) * RAY_UNIT
        return self.base.head(self.base.top(h, f)), rays

    def forward(self, x):
        z, rays = self.parts(x)
        return (torch.sigmoid(z[:, 0:1]), torch.sigmoid(z[:, 1:2]), torch.sigmoid(z[:, 2:3]), rays)


def ray_loss(pred, target, weight):
    """Prob-weighted L1 of log(1 + d): scale-free, so 4 px and 300 px particles weigh alike."""
    e = (torch.log1p(pred) - torch.log1p(target)).abs().mean(1, keepdim=True)
    return (e * weight).sum() / weight.sum().clamp_min(1.0)


def decode(prob, rays, prob_threshold=0.5, overlap=0.3, min_area=8):
    """Twin of the TypeScript decoder: candidates = grid points with prob > threshold, best first; a candidate
    whose own point already lies in an accepted polygon is suppressed, else its polygon is kept unless more
    than `overlap` of its area is taken. Returns an int32 label image at prob's size."""
    H, W = prob.shape
    n, gh, gw = rays.shape
    dy, dx = ray_directions(n)
    ys = np.arange(gh) * GRID + GRID // 2
    xs = np.arange(gw) * GRID + GRID // 2
    ys = np.minimum(ys, H - 1)
    xs = np.minimum(xs, W - 1)
    p = prob[np.ix_(ys, xs)]
    cand = np.argwhere(p > prob_threshold)
    order = np.argsort(-p[cand[:, 0], cand[:, 1]], kind="stable")
    lab = np.zeros((H, W), np.int32)
    nxt = 1
    for ci in order:
        gy, gx = cand[ci]
        cy, cx = ys[gy], xs[gx]
        if lab[cy, cx]:
            continue
        r = rays[:, gy, gx]
        rr, cc = draw_polygon(cy + r * dy, cx + r * dx, shape=(H, W))
        if rr.size < min_area:
            continue
        taken = lab[rr, cc] > 0
        if taken.mean() > overlap:
            continue
        keep = ~taken
        lab[rr[keep], cc[keep]] = nxt
        nxt += 1
    return lab
