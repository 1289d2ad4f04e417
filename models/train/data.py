"""Training data: the three labelled real sources in ../shared/data, plus synthetic pairs made by
`saemi synth` (src/core/synth), turned into (image patch, targets, loss masks) with heavy augmentation.

Every image is reduced to grey (luma, alpha ignored) and percentile-stretched over the *whole* image
(NORM_LOW..NORM_HIGH -> [0, 1], clipped) before any crop, exactly what src/core/segment does per image at
inference, so the network never sees a distribution the app does not produce.
"""

import csv
import glob
import io
import json
import os
import random

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage as ndi

NORM_LOW = 1.0
NORM_HIGH = 99.5


def to_grey(arr):
    arr = np.asarray(arr)
    if arr.ndim == 3:
        c = arr.shape[2]
        if c >= 3:
            arr = 0.299 * arr[..., 0].astype(np.float32) + 0.587 * arr[..., 1] + 0.114 * arr[..., 2]
        else:
            arr = arr[..., 0]
    return arr.astype(np.float32)


def normalise(grey):
    lo, hi = np.percentile(grey, [NORM_LOW, NORM_HIGH])
    if hi <= lo:
        hi = lo + 1.0
    return np.clip((grey - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def read_image(path):
    return normalise(to_grey(np.array(Image.open(path))))


# ---------------------------------------------------------------- sources


class Item:
    """One labelled image. `labels` is an instance map (kind 'inst') or a 0/1 mask (kind 'bin', where
    touching particles are merged so contact lines and distance are unknown)."""

    __slots__ = ("source", "id", "path", "mask_path", "kind", "_img", "_lab", "cache", "median_d")

    def __init__(self, source, id_, path, mask_path, kind, cache=True, median_d=None):
        self.source, self.id, self.path, self.mask_path, self.kind = source, id_, path, mask_path, kind
        # median particle diameter (px) when the source states it (synthetic truth.jsonl), else None
        self.median_d = median_d
        self._img = None
        self._lab = None
        self.cache = cache

    def load(self):
        if self._img is not None:
            return self._img, self._lab
        img = read_image(self.path)
        lab = load_mask(self.source, self.mask_path)
        if lab.shape != img.shape:
            raise ValueError(f"{self.id}: mask {lab.shape} != image {img.shape}")
        if self.cache:
            self._img, self._lab = img, lab
        return img, lab


def load_mask(source, path):
    m = np.array(Image.open(path))
    if source in ("emps", "semseg"):
        return m.astype(np.int32)
    if source == "msa":
        m = m[..., 0] if m.ndim == 3 else m
        return (m > 127).astype(np.int32)
    if source == "saemi":
        m = m[..., 0] if m.ndim == 3 else m
        return (m == 0).astype(np.int32)  # inverted: 0 = particle
    if source.startswith("synth"):
        return m.astype(np.int32)
    raise ValueError(source)


def image_path(folder, stem):
    """An image of a data folder by its stem: the PNG as shipped, or the JPEG the GPU pack (star_pack.py) made."""
    png = os.path.join(folder, stem + ".png")
    return png if os.path.exists(png) else os.path.join(folder, stem + ".jpg")


def emps_items(root):
    d = os.path.join(root, "emps_train")
    meta = {r["id"]: r["doi"] for r in csv.DictReader(open(os.path.join(d, "metadata.csv")))}
    items = []
    # .jpg: the GPU pack (star_pack.py) re-encodes EMPS images to fit the device tool's carry limit.
    paths = glob.glob(os.path.join(d, "images", "*.png")) + glob.glob(os.path.join(d, "images", "*.jpg"))
    for p in sorted(paths):
        i = os.path.splitext(os.path.basename(p))[0]
        items.append(Item("emps", i, p, os.path.join(d, "masks", i + ".png"), "inst"))
    return items, meta


def msa_items(root):
    d = os.path.join(root, "msa_tem_train")
    items = []
    for p in sorted(glob.glob(os.path.join(d, "images", "*.png"))):
        i = os.path.splitext(os.path.basename(p))[0]
        items.append(Item("msa", i, p, os.path.join(d, "masks", i + ".png"), "bin"))
    return items


def saemi_items(root):
    d = os.path.join(root, "saemi_sem")
    items = []
    for p in sorted(glob.glob(os.path.join(d, "images", "*"))):
        i = os.path.splitext(os.path.basename(p))[0]
        items.append(Item("saemi", i, p, os.path.join(d, "masks", i + ".png"), "bin"))
    return items


def synth_items(synth_dir, tag):
    median = {}
    truth = os.path.join(synth_dir, "truth.jsonl")
    if os.path.exists(truth):
        with open(truth) as f:
            for line in f:
                t = json.loads(line)
                median[os.path.splitext(os.path.basename(t["image"]))[0]] = t.get("medianDiameter")
    items = []
    # .jpg: the GPU pack (star_pack.py) re-encodes synthetic images as it does EMPS'; masks stay PNG.
    paths = glob.glob(os.path.join(synth_dir, "images", "*.png")) + glob.glob(os.path.join(synth_dir, "images", "*.jpg"))
    for p in sorted(paths):
        i = os.path.splitext(os.path.basename(p))[0]
        m = os.path.join(synth_dir, "masks", i + ".png")
        if os.path.exists(m):
            items.append(Item(tag, i, p, m, "inst", cache=False, median_d=median.get(i)))
    return items


def make_split(root, seed=0, emps_frac=0.2, msa_val=4):
    """EMPS by DOI (never by image), msa a few images; saemi is all training (only six images)."""
    emps, meta = emps_items(root)
    dois = sorted(set(meta[i.id] for i in emps))
    rng = random.Random(seed)
    rng.shuffle(dois)
    val_dois = set(dois[: int(round(len(dois) * emps_frac))])
    msa = msa_items(root)
    msa_ids = [i.id for i in msa]
    rng.shuffle(msa_ids)
    return {
        "seed": seed,
        "emps": {
            "rule": f"{emps_frac:.0%} of DOIs held out (metadata.csv), seeded shuffle",
            "val_dois": sorted(val_dois),
            "val": sorted(i.id for i in emps if meta[i.id] in val_dois),
            "train": sorted(i.id for i in emps if meta[i.id] not in val_dois),
        },
        "msa": {"val": sorted(msa_ids[:msa_val]), "train": sorted(msa_ids[msa_val:])},
        "saemi": {"val": [], "train": sorted(i.id for i in saemi_items(root))},
        "synth": {"rule": "first N_VAL ids in sorted order of each synthetic set are held out"},
    }


SYNTH_VAL = 300


def split_synth(items):
    ids = sorted(i.id for i in items)
    n = min(SYNTH_VAL, len(ids) // 10)
    val = set(ids[:n])
    return [i for i in items if i.id not in val], [i for i in items if i.id in val]


# ---------------------------------------------------------------- targets


def targets_from_labels(lab, kind):
    """fg, boundary, distance and their loss masks for one (augmented) label patch.

    boundary = every pixel whose 3x3 neighbourhood holds more than one label value: a 2 px band that
    straddles each outline and each contact line between touching instances.
    For binary sources contacts are unknown, so the boundary loss is masked out inside foreground
    (away from the outline) and the distance loss everywhere.
    """
    lab = lab.astype(np.int32)
    fg = (lab > 0).astype(np.float32)
    mx = ndi.maximum_filter(lab, size=3, mode="nearest")
    mn = ndi.minimum_filter(lab, size=3, mode="nearest")
    bnd = (mx != mn).astype(np.float32)
    if kind == "inst":
        # Normalised distance to the instance's own edge (1 at its centre): pixels next to another label
        # count as edge, so touching particles get separate peaks.
        inner = (lab > 0) & (mx == lab) & (mn == lab)
        dist = ndi.distance_transform_edt(inner).astype(np.float32)
        n = int(lab.max())
        if n > 0:
            peak = ndi.maximum(dist, lab, index=np.arange(n + 1))
            peak = np.asarray(peak, dtype=np.float32)
            peak[peak <= 0] = 1.0
            dist = dist / peak[lab]
            dist[lab == 0] = 0.0
        bmask = np.ones_like(fg)
        dmask = np.ones_like(fg)
    else:
        dist = np.zeros_like(fg)
        bmask = np.where((fg > 0) & (bnd == 0), 0.0, 1.0).astype(np.float32)
        dmask = np.zeros_like(fg)
    return fg, bnd, dist, bmask, dmask


# ---------------------------------------------------------------- augmentation


def jpegish(x, rng):
    q = int(rng.integers(25, 90))
    im = Image.fromarray((np.clip(x, 0, 1) * 255).astype(np.uint8))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=q)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())), dtype=np.float32) / 255.0


def intensity_aug(x, rng):
    # Both polarities already occur in the data (SEM bright, TEM dark, synthetic both); inverting often
    # makes "which side of an edge is the particle" a guess and slowed learning badly on CPU budgets.
    if rng.random() < 0.2:
        x = 1.0 - x
    if rng.random() < 0.8:
        x = np.clip(x, 0, 1) ** float(np.exp(rng.uniform(-0.6, 0.6)))
        c = rng.uniform(0.6, 1.3)
        x = (x - 0.5) * c + 0.5 + rng.uniform(-0.12, 0.12)
    if rng.random() < 0.25:
        # uneven illumination, as SEM/TEM backgrounds often are
        h, w = x.shape
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        g = rng.normal(size=2) * 0.25 / max(h, w)
        x = x + (yy - h / 2) * g[0] + (xx - w / 2) * g[1]
    if rng.random() < 0.3:
        x = ndi.gaussian_filter(x, rng.uniform(0.5, 1.8))
    if rng.random() < 0.5:
        x = x + rng.normal(0, rng.uniform(0.01, 0.1), x.shape).astype(np.float32)
    if rng.random() < 0.2:
        x = jpegish(x, rng)
    return np.clip(x, 0, 1).astype(np.float32)


# Images whose particles are under SMALL_D px are segmented by the app after upsampling them (sidecar
# resampleTargetPx/maxUpscale: at most 2x since 1.2.1, 3x before), so the net must also see them enlarged.
SMALL_D = 12.0
SMALL_SCALE_RANGE = (0.5, 3.0)


def geometric_crop(item, rng, P=256, scale_range=(0.5, 1.6)):
    """A random P x P crop at a random scale, rot90 and flip: image, labels and the in-image mask (0 where the
    crop overhangs the image: zero-padded there and masked out of the loss). star_bank.py bakes these into its
    patches; sample_patch adds the intensity augmentation and the targets."""
    img, lab = item.load()
    h, w = img.shape
    if item.median_d is not None and item.median_d < SMALL_D:
        scale_range = SMALL_SCALE_RANGE
    s = float(np.exp(rng.uniform(np.log(scale_range[0]), np.log(scale_range[1]))))
    c = int(round(P / s))
    y0 = int(rng.integers(min(0, h - c), max(0, h - c) + 1))
    x0 = int(rng.integers(min(0, w - c), max(0, w - c) + 1))
    ci = np.zeros((c, c), np.float32)
    cl = np.zeros((c, c), np.int32)
    cv = np.zeros((c, c), np.float32)
    sy0, sx0 = max(y0, 0), max(x0, 0)
    sy1, sx1 = min(y0 + c, h), min(x0 + c, w)
    ci[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = img[sy0:sy1, sx0:sx1]
    cl[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = lab[sy0:sy1, sx0:sx1]
    cv[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = 1.0
    if c != P:
        ti = torch.from_numpy(ci)[None, None]
        ci = F.interpolate(ti, size=(P, P), mode="bilinear", align_corners=False, antialias=c > P)[0, 0].numpy()
        cl = F.interpolate(torch.from_numpy(cl)[None, None].float(), size=(P, P), mode="nearest")[0, 0].numpy()
        cl = cl.astype(np.int32)
        cv = F.interpolate(torch.from_numpy(cv)[None, None], size=(P, P), mode="nearest")[0, 0].numpy()
    k = int(rng.integers(4))
    ci, cl, cv = np.rot90(ci, k), np.rot90(cl, k), np.rot90(cv, k)
    if rng.random() < 0.5:
        ci, cl, cv = ci[:, ::-1], cl[:, ::-1], cv[:, ::-1]
    return np.ascontiguousarray(ci), np.ascontiguousarray(cl), np.ascontiguousarray(cv)


def sample_patch(item, rng, P=256, scale_range=(0.5, 1.6)):
    ci, cl, cv = geometric_crop(item, rng, P, scale_range)
    ci = intensity_aug(ci, rng) * cv  # the pad stays flat 0, as the app's zero-padding of tiles
    fg, bnd, dist, bmask, dmask = targets_from_labels(cl, item.kind)
    return ci, np.stack([fg, bnd, dist, cv, bmask * cv, dmask * cv])


class Mixture:
    """Draws sources by weight (renormalised over the sources present), then an item uniformly."""

    def __init__(self, pools, weights, seed, small_boost=1.0):
        self.pools = pools
        self.weights = weights
        self.rng = np.random.default_rng(seed)
        # Items of small particles (median_d < SMALL_D) drawn this many times as often within their pool:
        # they hold most of the particles, and most of the misses, of a synthetic set.
        self.small_boost = small_boost
        self.item_p = {}

    def set_pool(self, name, items, weight):
        self.pools[name] = items
        self.weights[name] = weight
        self.item_p.pop(name, None)

    def _pick(self, src):
        pool = self.pools[src]
        if self.small_boost == 1.0:
            return pool[int(self.rng.integers(len(pool)))]
        p = self.item_p.get(src)
        if p is None:
            p = np.array([self.small_boost if (i.median_d is not None and i.median_d < SMALL_D) else 1.0 for i in pool])
            p = self.item_p[src] = p / p.sum()
        return pool[int(self.rng.choice(len(pool), p=p))]

    def batch(self, n, P=256):
        names = [k for k in self.pools if self.pools[k]]
        w = np.array([self.weights[k] for k in names], np.float64)
        w /= w.sum()
        xs, ys = [], []
        for _ in range(n):
            src = names[int(self.rng.choice(len(names), p=w))]
            x, y = sample_patch(self._pick(src), self.rng, P)
            xs.append(x)
            ys.append(y)
        return torch.from_numpy(np.stack(xs)[:, None]), torch.from_numpy(np.stack(ys))


def save_split(split, path):
    with open(path, "w") as f:
        json.dump(split, f, indent=1)
