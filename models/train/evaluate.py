"""Score instance label images against ground truth: pixel Dice, instance F1 at IoU 0.5, mean-ECD error.

Works on any folder of label PNGs (e.g. `saemi analyze --out DIR` writes DIR/labels/<stem>.png):

  python3 evaluate.py --pred OUT/labels --truth ../shared/data/emps_train/masks --truth-kind inst \
      [--ids a,b,c | --split split.json --source emps] [--json result.json]

--truth-kind: inst (0 = background, 1..N instances), bin (>127 = particle; instances = 8-connected
components, so touching particles count as one), bin-inverted (0 = particle).
"""

import argparse
import json
import os
import sys

import numpy as np
from PIL import Image
from scipy import ndimage as ndi


def load_truth(path, kind):
    m = np.array(Image.open(path))
    if m.ndim == 3:
        m = m[..., 0]
    if kind == "inst":
        return m.astype(np.int64)
    fg = (m == 0) if kind == "bin-inverted" else (m > 127) | ((m > 0) & (m.max() <= 1))
    lab, _ = ndi.label(fg, structure=np.ones((3, 3)))
    return lab.astype(np.int64)


def load_pred(path):
    m = np.array(Image.open(path))
    if m.ndim == 3:
        m = m[..., 0]
    return m.astype(np.int64)


def match(pred, truth, thr=0.5):
    """Greedy one-to-one matching by IoU (above 0.5 a match is unique anyway). Returns tp, fp, fn."""
    npred = int(pred.max())
    ntrue = int(truth.max())
    if npred == 0 or ntrue == 0:
        return 0, npred_count(pred), npred_count(truth)
    both = (pred > 0) & (truth > 0)
    pairs = pred[both] * (ntrue + 1) + truth[both]
    ids, inter = np.unique(pairs, return_counts=True)
    pi = ids // (ntrue + 1)
    ti = ids % (ntrue + 1)
    area_p = np.bincount(pred.ravel(), minlength=npred + 1)
    area_t = np.bincount(truth.ravel(), minlength=ntrue + 1)
    iou = inter / (area_p[pi] + area_t[ti] - inter)
    order = np.argsort(-iou)
    used_p, used_t = set(), set()
    tp = 0
    for k in order:
        if iou[k] < thr:
            break
        if pi[k] in used_p or ti[k] in used_t:
            continue
        used_p.add(pi[k])
        used_t.add(ti[k])
        tp += 1
    return tp, npred_count(pred) - tp, npred_count(truth) - tp


def npred_count(lab):
    return int(np.count_nonzero(np.bincount(lab.ravel())[1:]))


def ecds(lab):
    a = np.bincount(lab.ravel())[1:]
    a = a[a > 0]
    return 2 * np.sqrt(a / np.pi)


def drop_small(lab, min_area):
    """Truth particles under min_area px removed (the CLI drops them from its labels by --min-area)."""
    if min_area <= 0:
        return lab
    a = np.bincount(lab.ravel())
    small = a < min_area
    small[0] = False
    lab = lab.copy()
    lab[small[lab]] = 0
    return lab


def score_pair(pred, truth):
    pf, tf = pred > 0, truth > 0
    denom = pf.sum() + tf.sum()
    dice = 1.0 if denom == 0 else 2.0 * (pf & tf).sum() / denom
    tp, fp, fn = match(pred, truth)
    et, ep = ecds(truth), ecds(pred)
    ecd_err = None
    if len(et) and len(ep):
        ecd_err = abs(ep.mean() - et.mean()) / et.mean()
    return {"dice": float(dice), "tp": tp, "fp": fp, "fn": fn, "n_true": len(et), "n_pred": len(ep),
            "ecd_rel_err": None if ecd_err is None else float(ecd_err)}


def summarise(rows):
    """Dice: mean over images; F1: from TP/FP/FN pooled over images; ECD error: mean and median."""
    if not rows:
        return {}
    tp = sum(r["tp"] for r in rows)
    fp = sum(r["fp"] for r in rows)
    fn = sum(r["fn"] for r in rows)
    p = tp / max(tp + fp, 1)
    r_ = tp / max(tp + fn, 1)
    f1 = 2 * p * r_ / max(p + r_, 1e-9)
    errs = [r["ecd_rel_err"] for r in rows if r["ecd_rel_err"] is not None]
    f1s = []
    for r in rows:
        d = 2 * r["tp"] + r["fp"] + r["fn"]
        f1s.append(1.0 if d == 0 else 2 * r["tp"] / d)
    return {
        "images": len(rows),
        "pixel_dice": round(float(np.mean([r["dice"] for r in rows])), 4),
        "f1_iou50": round(f1, 4),
        "f1_iou50_mean_per_image": round(float(np.mean(f1s)), 4),
        "precision": round(p, 4),
        "recall": round(r_, 4),
        "mean_ecd_rel_err_mean": round(float(np.mean(errs)), 4) if errs else None,
        "mean_ecd_rel_err_median": round(float(np.median(errs)), 4) if errs else None,
        "n_true": sum(r["n_true"] for r in rows),
        "n_pred": sum(r["n_pred"] for r in rows),
    }


def score_dir(pred_dir, truth_dir, kind, ids, min_truth_area=0):
    """Score <pred_dir>/<id>.png against <truth_dir>/<id>.png for each id. Returns (rows, missing ids):
    a prediction that is absent or of another size than its truth is missing, not scored."""
    rows, missing = [], []
    for i in ids:
        pp = os.path.join(pred_dir, i + ".png")
        if not os.path.exists(pp):
            missing.append(i)
            continue
        pred = load_pred(pp)
        truth = drop_small(load_truth(os.path.join(truth_dir, i + ".png"), kind), min_truth_area)
        if pred.shape != truth.shape:
            print(f"{i}: shape {pred.shape} != truth {truth.shape}", file=sys.stderr)
            missing.append(i)
            continue
        r = score_pair(pred, truth)
        r["id"] = i
        rows.append(r)
    return rows, missing


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pred", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--truth-kind", default="inst", choices=["inst", "bin", "bin-inverted"])
    ap.add_argument("--ids")
    ap.add_argument("--split")
    ap.add_argument("--source")
    ap.add_argument("--json")
    ap.add_argument("--min-truth-area", type=int, default=0, help="drop truth particles below N px")
    a = ap.parse_args()
    if a.ids:
        ids = a.ids.split(",")
    elif a.split:
        ids = json.load(open(a.split))[a.source]["val"]
    else:
        ids = sorted(os.path.splitext(f)[0] for f in os.listdir(a.pred) if f.endswith(".png"))
    rows, missing = score_dir(a.pred, a.truth, a.truth_kind, ids, a.min_truth_area)
    s = summarise(rows)
    s["missing"] = missing
    print(json.dumps(s, indent=1))
    if a.json:
        json.dump({"summary": s, "images": rows}, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
