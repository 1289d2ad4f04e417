"""Score a StarNet checkpoint (Python twin of the decoder) on the star split's hold-outs (or, with --part train,
on training images, where thresholds are to be chosen), and optionally the shipped model's CLI labels on the
same images, side by side.

  /usr/bin/python3 models/train/star_eval.py --data ../shared/data --ckpt RUN/last.pt \
      [--cli-labels DIR_OF_saemi_analyze_labels] [--grid] [--json OUT.json]

semseg_sem images are scored above their info banner (metadata.csv banner_first_row), where the masks end.
Source `synth` (with --synth DIRS) is the held-out part of each synthetic training set (split_synth: images the
bank never draws), whichever --part: a tuning split, apart from the agglomerated evaluation set eval_cli scores.
"""

import argparse
import csv
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import emps_items, image_path, read_image, split_synth, synth_items  # noqa: E402
from evaluate import score_pair, summarise  # noqa: E402
from net import ARCHS  # noqa: E402
from star import StarNet, decode  # noqa: E402


def predict(model, img, device):
    h, w = img.shape
    H, W = (h + 31) // 32 * 32, (w + 31) // 32 * 32
    x = np.zeros((H, W), np.float32)
    x[:h, :w] = img
    with torch.no_grad():
        fg, bnd, dist, rays = model(torch.from_numpy(x)[None, None].to(device))
    return dist[0, 0, :h, :w].cpu().numpy(), rays[0, :, : (h + 1) // 2, : (w + 1) // 2].cpu().numpy()


def hold_out(data_root, split, part="val", synth_dirs=()):
    rows = {r["image"]: r for r in csv.DictReader(open(os.path.join(data_root, "semseg_sem", "metadata.csv")))}
    out = []
    for i in split["semseg_sem"][part]:
        cut = int(rows[i]["banner_first_row"])
        d = os.path.join(data_root, "semseg_sem")
        out.append(("semseg_sem", i, image_path(os.path.join(d, "images"), i), os.path.join(d, "masks", i + ".png"), cut))
    emps, _ = emps_items(data_root)
    val = set(split["emps"][part])
    for it in emps:
        if it.id in val:
            out.append(("emps", it.id, it.path, it.mask_path, None))
    # The sets taken in turns, so a cap on images still sees every set.
    sets = [split_synth(synth_items(d, "synth"))[1] for d in synth_dirs]
    for k in range(max((len(s) for s in sets), default=0)):
        for s in sets:
            if k < len(s):
                out.append(("synth", s[k].id, s[k].path, s[k].mask_path, None))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--ckpt")
    ap.add_argument("--cli-labels", help="folder of labels/<id>.png from saemi analyze on the same images")
    ap.add_argument("--sources", default="semseg_sem,emps")
    ap.add_argument("--prob", type=float, default=0.5)
    ap.add_argument("--overlap", type=float, default=0.3)
    ap.add_argument("--grid", action="store_true", help="try every pair of --grid-probs x --grid-overlaps")
    ap.add_argument("--grid-probs", default="0.4,0.5,0.6,0.7,0.8")
    ap.add_argument("--grid-overlaps", default="0.1,0.2,0.3")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--part", default="val", help="val (the hold-out) or train: choose thresholds on train")
    ap.add_argument("--max-images", type=int, default=0, help="at most this many images per source (0: all)")
    ap.add_argument("--synth", default="", help="comma-separated synthetic sets (source synth)")
    ap.add_argument("--json")
    a = ap.parse_args()
    split = json.load(open(os.path.join(HERE, "star_split.json")))
    items = [t for t in hold_out(a.data, split, a.part, list(filter(None, a.synth.split(",")))) if t[0] in a.sources.split(",")]
    if a.max_images:
        per_source = {}
        capped = []
        for t in items:
            per_source[t[0]] = per_source.get(t[0], 0) + 1
            if per_source[t[0]] <= a.max_images:
                capped.append(t)
        items = capped
    model = None
    if a.ckpt:
        base = ARCHS["stem"]()
        model = StarNet(base)
        model.load_state_dict(torch.load(a.ckpt, map_location="cpu")["model"])
        model.eval().to(a.device)
    points = [(a.prob, a.overlap)]
    if a.grid:
        points = [(float(p), float(o)) for p in a.grid_probs.split(",") for o in a.grid_overlaps.split(",")]
    rows = {p: {} for p in points}
    cli_rows = {}
    for src, i, ip, mp, cut in items:
        truth = np.array(Image.open(mp)).astype(np.int64)
        if cut:
            truth = truth[:cut]
        if model is not None:
            img = read_image(ip)
            if cut:
                img = read_image(ip)[:cut]
            prob, rays = predict(model, img, a.device)
            for p in points:
                pred = decode(prob, rays, p[0], p[1]).astype(np.int64)
                rows[p].setdefault(src, []).append(score_pair(pred, truth))
        if a.cli_labels:
            lp = os.path.join(a.cli_labels, i + ".png")
            if os.path.exists(lp):
                pred = np.array(Image.open(lp)).astype(np.int64)
                if cut:
                    pred = pred[:cut]
                cli_rows.setdefault(src, []).append(score_pair(pred, truth))
    result = {}
    for p in points:
        if model is None:
            break
        result[f"star prob {p[0]} overlap {p[1]}"] = {s: summarise(r) for s, r in rows[p].items()}
    if cli_rows:
        result["cli"] = {s: summarise(r) for s, r in cli_rows.items()}
    for k, v in result.items():
        print(k, json.dumps({s: {m: round(x, 3) if isinstance(x, float) else x for m, x in d.items()} for s, d in v.items()}))
    if a.json:
        json.dump(result, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
