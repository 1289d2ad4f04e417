"""Python twin of the instance step (probability maps -> labels), used for validation during training
and for choosing the thresholds written into the sidecar. The shipped figures come from the TypeScript
CLI (src/core/segment); this mirrors it: seeds = foreground and not boundary, grown back over the
foreground by a watershed on the boundary map, unseeded foreground components kept as their own particles,
regions without a centre in the distance map dropped. Not mirrored: the TypeScript step's region merges and
its absorption of a centreless region into a bordering particle.
"""

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi
from skimage.segmentation import watershed

from data import normalise, to_grey


def instances(fg, bnd, tf=0.5, tb=0.5, min_seed=4, min_area=10, dist=None, peak=0.0, peak_diam=0.0):
    mask = fg > tf
    seeds = mask & (bnd < tb)
    sl, n = ndi.label(seeds)
    if n:
        area = np.bincount(sl.ravel())
        small = area < min_seed
        small[0] = False
        sl[small[sl]] = 0
    lab = watershed(bnd, markers=sl, mask=mask) if sl.max() else np.zeros_like(sl)
    rest = mask & (lab == 0)
    if rest.any():
        rl, m = ndi.label(rest, structure=np.ones((3, 3)))
        lab = np.where(rl > 0, rl + lab.max(), lab)
    if dist is not None and peak > 0 and lab.max():
        lab = drop_centreless(lab, dist, peak, peak_diam)
    area = np.bincount(lab.ravel())
    small = area < min_area
    small[0] = False
    lab[small[lab]] = 0
    # sequential ids
    u, inv = np.unique(lab, return_inverse=True)
    return inv.reshape(lab.shape).astype(np.int32)


def drop_centreless(lab, dist, peak, peak_diam=0.0):
    """Regions whose distance-map peak is below `peak` become background; regions narrower than `peak_diam`
    (equivalent-circle diameter) need only peak * diameter / peak_diam (src/core/segment/instances.ts)."""
    n = int(lab.max())
    top = np.zeros(n + 1, np.float32)
    np.maximum.at(top, lab.ravel(), dist.ravel().astype(np.float32))
    area = np.bincount(lab.ravel(), minlength=n + 1)
    ecd = 2 * np.sqrt(area / np.pi)
    need = np.full(n + 1, peak, np.float32)
    if peak_diam > 0:
        need = np.where(ecd < peak_diam, peak * ecd / peak_diam, peak)
    drop = top < need
    drop[0] = False
    return np.where(drop[lab], 0, lab)


@torch.no_grad()
def predict(model, img, tile=None):
    """Whole-image inference padded to a multiple of 32 (zero pad, as the app's tiles)."""
    h, w = img.shape
    H, W = (h + 31) // 32 * 32, (w + 31) // 32 * 32
    x = torch.zeros(1, 1, H, W)
    x[0, 0, :h, :w] = torch.from_numpy(img)
    outs = model(x)
    return [o[0, 0, :h, :w].numpy() for o in outs]


def predict_path(model, path):
    from PIL import Image

    return predict(model, normalise(to_grey(np.array(Image.open(path)))))
