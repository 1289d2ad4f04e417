"""The label reader's input line, exactly as src/core/calibrate/label-line.ts makes it (the two must agree
pixel for pixel: tests/label-line.test.ts holds the TypeScript side to values this file printed).

A crop is stretched between its 1st and 99th percentile, shrunk by whole-pixel box averaging while it is at least
twice LINE_H tall, resized bilinearly to LINE_H rows, and padded on the right with its border median to a width
that is a multiple of STRIDE (the network's horizontal downsampling)."""
import numpy as np

LINE_H = 32
STRIDE = 4
MIN_W = 16
MAX_W = 384


def js_round(x):
    return np.floor(np.asarray(x, np.float64) + 0.5)


def stretch(a):
    v = np.sort(a.astype(np.float32).ravel())
    lo = float(v[int(np.floor(v.size * 0.01))])
    hi = float(v[min(v.size - 1, int(np.floor(v.size * 0.99)))])
    span = hi - lo
    if span <= 0:
        return np.full(a.shape, 128, np.uint8)
    t = np.clip((a.astype(np.float64) - lo) / span, 0, 1)
    return js_round(255 * t).astype(np.uint8)


def box_shrink(a, k):
    h, w = a.shape[0] // k, a.shape[1] // k
    s = a[:h * k, :w * k].astype(np.int64).reshape(h, k, w, k).sum(axis=(1, 3))
    return js_round(s / (k * k)).astype(np.uint8)


def resize_bilinear(a, w, h):
    """Port of resizeU8 (label-ocr.ts)."""
    ih, iw = a.shape
    sx, sy = iw / w, ih / h
    fy = np.clip((np.arange(h) + 0.5) * sy - 0.5, 0, ih - 1)
    fx = np.clip((np.arange(w) + 0.5) * sx - 0.5, 0, iw - 1)
    y0 = np.floor(fy).astype(int)
    x0 = np.floor(fx).astype(int)
    y1 = np.minimum(ih - 1, y0 + 1)
    x1 = np.minimum(iw - 1, x0 + 1)
    ty = (fy - y0)[:, None]
    tx = (fx - x0)[None, :]
    d = a.astype(np.float64)
    top = d[y0][:, x0] * (1 - tx) + d[y0][:, x1] * tx
    bot = d[y1][:, x0] * (1 - tx) + d[y1][:, x1] * tx
    return js_round(top * (1 - ty) + bot * ty).astype(np.uint8)


def border_median(a):
    b = np.sort(np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]]))
    return int(b[b.size // 2])


def net_line(crop):
    a = stretch(crop)
    k = a.shape[0] // LINE_H
    if k >= 2 and a.shape[1] >= k:
        a = box_shrink(a, k)
    w = int(min(MAX_W, max(MIN_W, js_round(a.shape[1] * LINE_H / a.shape[0]))))
    a = resize_bilinear(a, w, LINE_H)
    padded = -(-w // STRIDE) * STRIDE
    if padded > w:
        a = np.concatenate([a, np.full((LINE_H, padded - w), border_median(a), np.uint8)], axis=1)
    return a
