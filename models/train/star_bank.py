"""Write a bank of augmented training patches with their ray targets (star.py), so that training does not wait
on the ray targets (about 0.3-1 s per 256 px patch on this CPU). Geometry (crop, scale, rot90, flip) is baked
into each patch; intensity augmentation stays online in star_train.py.

  /usr/bin/python3 models/train/star_bank.py --data ../shared/data --out /work/star-bank --n 3000

Each patch is OUT/<i>.npz: img float16 [P,P], lab uint16 [P,P] (instances), valid uint8 [P,P] (0 where the
crop overhangs the image), rays uint16 [N_RAYS,P/2,P/2] in 1/8 px. Sources: instance-labelled only
(semseg_sem train images, EMPS train split, synthetic sets if given); the held-out ids are never drawn.
"""

import argparse
import csv
import glob
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import Item, emps_items, geometric_crop, image_path, make_split, synth_items, split_synth  # noqa: E402
from star import ray_targets  # noqa: E402

# The hold-outs: written once from make_split (EMPS by DOI) and semseg_split, then read (the GPU pack carries it).
SPLIT_PATH = os.path.join(HERE, "star_split.json")


def semseg_items(root):
    d = os.path.join(root, "semseg_sem")
    rows = list(csv.DictReader(open(os.path.join(d, "metadata.csv"))))
    items = []
    for r in rows:
        if r["complete"] != "yes":
            continue
        i = r["image"]
        items.append(Item("semseg", i, image_path(os.path.join(d, "images"), i), os.path.join(d, "masks", i + ".png"), "inst"))
    return items


def semseg_split(items):
    """Every fifth complete image (sorted by id) is held out: 8 of 40."""
    ids = sorted(i.id for i in items)
    val = ids[::5]
    return {"val": val, "train": [i for i in ids if i not in val]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--start", type=int, default=0, help="first patch index (several writers: disjoint ranges)")
    ap.add_argument("--synth", default="", help="comma-separated synthetic sets (saemi synth --out DIRs)")
    ap.add_argument("--weights", default="semseg=0.5,emps=0.5,synth=0")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--patch", type=int, default=256)
    ap.add_argument("--scale-range", default="0.5,1.6", help="crop scale drawn log-uniformly in [lo,hi]")
    a = ap.parse_args()
    scale_range = tuple(float(v) for v in a.scale_range.split(","))
    os.makedirs(a.out, exist_ok=True)
    emps, _ = emps_items(a.data)
    ss = semseg_items(a.data)
    if os.path.exists(SPLIT_PATH):
        split = json.load(open(SPLIT_PATH))
    else:
        es = make_split(a.data)["emps"]
        split = {"semseg_sem": semseg_split(ss), "emps": {"val": es["val"], "train": es["train"]}}
        with open(SPLIT_PATH, "w") as f:
            json.dump(split, f, indent=1)
    pools = {
        "semseg": [i for i in ss if i.id in set(split["semseg_sem"]["train"])],
        "emps": [i for i in emps if i.id in set(split["emps"]["train"])],
        "synth": [],
    }
    for d in filter(None, a.synth.split(",")):
        pools["synth"] += split_synth(synth_items(d, "synth"))[0]
    w = {k: float(v) for k, v in (p.split("=") for p in a.weights.split(","))}
    names = [k for k in pools if pools[k] and w.get(k, 0) > 0]
    p = np.array([w[k] for k in names])
    p /= p.sum()
    rng = np.random.default_rng(a.seed + a.start)
    for i in range(a.start, a.start + a.n):
        path = os.path.join(a.out, f"{i:06d}.npz")
        if os.path.exists(path):
            continue
        src = names[int(rng.choice(len(names), p=p))]
        item = pools[src][int(rng.integers(len(pools[src])))]
        ci, cl, cv = geometric_crop(item, rng, a.patch, scale_range)
        rays = ray_targets(cl)
        tmp = path + ".tmp.npz"
        np.savez(
            tmp,
            img=ci.astype(np.float16),
            lab=cl.astype(np.uint16),
            valid=(cv > 0).astype(np.uint8),
            rays=np.minimum(np.rint(rays * 8), 65535).astype(np.uint16),
            source=np.array(src),
        )
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
