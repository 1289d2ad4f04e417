"""Fine-tune the stem U-Net with the star-convex ray head (star.py) on a patch bank (star_bank.py).

  /usr/bin/python3 models/train/star_train.py --bank /work/star-bank --init RUN/from-onnx/last.pt \
      --minutes 60 --out models/train/runs/star

The trunk starts from the shipped weights (from_onnx.py) with BatchNorm frozen, so its three maps stay what the
shipped instance step expects while the ray head learns; the three maps keep their own losses (train.loss_fn).
The bank is re-listed every 100 steps, so training can start while star_bank.py is still writing.
Writes OUT/last.pt and OUT/log.jsonl; `--device cuda` on a lent GPU.
"""

import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import intensity_aug, targets_from_labels  # noqa: E402
from net import ARCHS  # noqa: E402
from star import StarNet, ray_loss  # noqa: E402
from train import loss_fn, set_train  # noqa: E402


def load_patch(path, rng):
    z = np.load(path)
    img = z["img"].astype(np.float32)
    valid = z["valid"].astype(np.float32)
    lab = z["lab"].astype(np.int32)
    x = intensity_aug(img, rng) * valid
    fg, bnd, dist, bmask, dmask = targets_from_labels(lab, "inst")
    y = np.stack([fg, bnd, dist, valid, bmask * valid, dmask * valid])
    rays = z["rays"].astype(np.float32) / 8.0
    # Loss weight of each grid point's rays: its object probability (the distance target), as StarDist does.
    w = dist[1::2, 1::2] * valid[1::2, 1::2]
    return x, y, rays, w


class Bank(torch.utils.data.IterableDataset):
    """Endless random patches from the bank, re-listed every `relist` draws (the bank may still be growing)."""

    def __init__(self, root, seed, relist=400):
        self.root, self.seed, self.relist = root, seed, relist

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        rng = np.random.default_rng(self.seed + (info.id if info else 0) * 7919)
        files, n = [], 0
        while True:
            if not files or n % self.relist == 0:
                files = [f for f in sorted(glob.glob(os.path.join(self.root, "*.npz"))) if not f.endswith(".tmp.npz")]
                if not files:
                    time.sleep(5)
                    continue
            n += 1
            yield tuple(torch.from_numpy(np.ascontiguousarray(v)) for v in load_patch(files[int(rng.integers(len(files)))], rng))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bank", required=True)
    ap.add_argument("--init", required=True, help="from_onnx.py's checkpoint, or an earlier star run's last.pt")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--ray-weight", type=float, default=1.0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=0, help="data loader processes (0: in the training process)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    base = ARCHS["stem"]()
    state = torch.load(a.init, map_location="cpu")["model"]
    if any(k.startswith("ray_head.") for k in state):
        # A StarNet checkpoint (an earlier star_train.py run): go on from it, ray head included.
        model = StarNet(base)
        model.load_state_dict(state)
    else:
        base.load_state_dict(state)
        model = StarNet(base)
    model = model.to(a.device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    log = open(os.path.join(a.out, "log.jsonl"), "a")
    t0 = time.time()
    budget = a.minutes * 60
    loader = iter(torch.utils.data.DataLoader(Bank(a.bank, a.seed), batch_size=a.batch, num_workers=a.workers))
    step = 0
    run = {"l": 0.0, "r": 0.0, "n": 0}
    while True:
        el = time.time() - t0
        if (a.steps and step >= a.steps) or (not a.steps and el > budget):
            break
        frac = min(1.0, el / budget) if not a.steps else step / a.steps
        lr = a.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        xb, yb, rb, wb = next(loader)
        x, y, rt, w = xb[:, None].to(a.device), yb.to(a.device), rb.to(a.device), wb[:, None].to(a.device)
        set_train(model, freeze_bn=True)
        z, rays = model.parts(x)
        l_maps, _ = loss_fn(z, y, pos_w=3.0)
        l_rays = ray_loss(rays, rt, w)
        loss = l_maps + a.ray_weight * l_rays
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        run["l"] += l_maps.item()
        run["r"] += l_rays.item()
        run["n"] += 1
        if step % 50 == 0:
            rec = {"step": step, "min": round(el / 60, 2), "lr": lr, "maps": run["l"] / run["n"],
                   "rays": run["r"] / run["n"]}
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            run = {"l": 0.0, "r": 0.0, "n": 0}
            torch.save({"model": model.state_dict(), "step": step}, os.path.join(a.out, "last.pt"))
    torch.save({"model": model.state_dict(), "step": step}, os.path.join(a.out, "last.pt"))
    print("done", step, "steps", round((time.time() - t0) / 60, 1), "min")


if __name__ == "__main__":
    main()
