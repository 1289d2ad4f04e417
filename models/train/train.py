"""Train the SAEMI segmentation U-Net from scratch on real + synthetic EM images (CPU, wall-clock budget).

  /usr/bin/python3 models/train/train.py --data ../shared/data --synth /work/data/synth,/work/data/synth2 \
      --minutes 60 --out models/train/runs/main

Synthetic sets are picked up whenever their READY file appears (checked at each validation), so training
can start before the generator has finished. The best checkpoint by validation score is kept in
OUT/best.pt; OUT/log.jsonl records every validation. models/train/split.json records the held-out ids.
"""

import argparse
import copy
import json
import math
import multiprocessing as mp
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import data  # noqa: E402  (its SMALL_SCALE_RANGE is set from --small-scale)
from data import (  # noqa: E402
    Mixture,
    emps_items,
    make_split,
    msa_items,
    saemi_items,
    save_split,
    split_synth,
    synth_items,
)
from bnrecal import recalibrate  # noqa: E402
from evaluate import score_pair, summarise  # noqa: E402
from net import ARCHS, count_macs, n_params  # noqa: E402
from postprocess import instances, predict  # noqa: E402

WEIGHTS = {"emps": 0.4, "synth": 0.4, "msa": 0.12, "saemi": 0.08}


def parse_weights(spec):
    """'emps=0.5,synth=0.3' over the defaults in WEIGHTS."""
    w = dict(WEIGHTS)
    for part in filter(None, (spec or "").split(",")):
        k, v = part.split("=")
        if k not in w:
            raise SystemExit(f"--weights: unknown source {k!r} (known: {', '.join(w)})")
        w[k] = float(v)
    return w


def producer(q, cmd_q, args, seed):
    """Runs in a child process: builds batches so augmentation overlaps the optimiser step."""
    torch.set_num_threads(1)
    split = make_split(args.data)
    emps, _ = emps_items(args.data)
    pools = {
        "emps": [i for i in emps if i.id in set(split["emps"]["train"])],
        "msa": [i for i in msa_items(args.data) if i.id in set(split["msa"]["train"])],
        "saemi": saemi_items(args.data),
    }
    weights = parse_weights(args.weights)
    mix = Mixture(pools, {k: weights[k] for k in pools}, seed, small_boost=args.small_boost)
    synth_loaded = set()
    while True:
        while not cmd_q.empty():
            d = cmd_q.get()
            if d not in synth_loaded:
                synth_loaded.add(d)
                tr, _ = split_synth(synth_items(d, "synth"))
                allsyn = mix.pools.get("synth", []) + tr
                mix.set_pool("synth", allsyn, weights["synth"])
        q.put(mix.batch(args.batch, args.patch))


def soft_dice(p, t, m):
    inter = (p * t * m).sum()
    return 1 - (2 * inter + 1) / ((p * m).sum() + (t * m).sum() + 1)


def loss_fn(z, y, pos_w, dist_w=5.0):
    fg, bnd, dist, valid, bmask, dmask = [y[:, i : i + 1] for i in range(6)]
    zf, zb, zd = z[:, 0:1], z[:, 1:2], z[:, 2:3]
    lf = (F.binary_cross_entropy_with_logits(zf, fg, reduction="none") * valid).sum() / valid.sum().clamp(min=1)
    ld = soft_dice(torch.sigmoid(zf), fg, valid)
    wb = bmask * (1 + (pos_w - 1) * bnd)
    lb = (F.binary_cross_entropy_with_logits(zb, bnd, reduction="none") * wb).sum() / bmask.sum().clamp(min=1)
    # Inside particles the distance map is weighted 5x: the instance step reads its peak as "this region has a
    # centre" (thresholds.distancePeak), and an unweighted MSE is dominated by the easy zero background.
    wd = dmask * (1 + 4 * fg)
    lr = ((torch.sigmoid(zd) - dist) ** 2 * wd).sum() / wd.sum().clamp(min=1)
    return lf + ld + lb + dist_w * lr, (lf.item(), ld.item(), lb.item(), lr.item())


def set_train(model, freeze_bn):
    """Training mode; with freeze_bn the BatchNorm layers keep normalising by their running statistics."""
    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.eval()


def validate(model, val_sets, recal_images, tf=0.5, tb=0.5, freeze_bn=False):
    # Score a copy whose BN statistics come from whole training images: the running averages kept while
    # training on padded, heavily augmented batches misread real images (see bnrecal.py).
    # With frozen BN the weights are fitted to the statistics they have: re-estimating them changes the network.
    train_model = model
    model = copy.deepcopy(model).eval() if freeze_bn else recalibrate(copy.deepcopy(model), recal_images)
    res = {}
    for name, items in val_sets.items():
        rows = []
        for it in items:
            img, lab = it.load()
            fg, bnd, _ = predict(model, img)
            pred = instances(fg, bnd, tf, tb)
            if it.kind == "bin":
                from scipy import ndimage as ndi

                lab, _ = ndi.label(lab > 0, structure=np.ones((3, 3)))
            rows.append(score_pair(pred, lab))
        res[name] = summarise(rows)
    set_train(train_model, freeze_bn)
    return res


def score_of(res):
    # Real data only: synthetic sets join mid-run and would make scores incomparable across time.
    parts = [res["emps"]["f1_iou50"], res["emps"]["pixel_dice"]]
    if "msa" in res:
        parts.append(res["msa"]["pixel_dice"])
    return float(np.mean(parts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(HERE, "../../../shared/data"))
    ap.add_argument("--synth", default="/work/data/synth,/work/data/synth2")
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--arch", default="stem")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=6e-3)
    ap.add_argument("--val-every", type=float, default=10.0, help="minutes")
    ap.add_argument("--emps-val", type=int, default=30, help="EMPS hold-out images scored during training")
    ap.add_argument("--synth-val", type=int, default=40, help="synthetic hold-out images scored during training")
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "main"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--small-boost", type=float, default=1.0, help="draw synthetic images of particles under 12 px this many times as often"
    )
    ap.add_argument(
        "--small-scale", default="", help="crop scale range lo,hi for those images (default data.SMALL_SCALE_RANGE)"
    )
    ap.add_argument(
        "--freeze-bn",
        action="store_true",
        help="BatchNorm normalises by its running statistics while the rest trains: a stage started from "
        "from_onnx.py's checkpoint then starts from exactly the shipped network",
    )
    ap.add_argument("--init", help="start from this checkpoint's weights (a fresh optimiser and LR schedule)")
    ap.add_argument("--weights", default="", help="patch sampling weights per source, e.g. emps=0.5,synth=0.3")
    ap.add_argument("--steps", type=int, default=0, help="stop after N steps (smoke test)")
    args = ap.parse_args()

    # On a shared 2-core machine, 2 OpenMP threads spin-wait whenever one is descheduled (measured: 6 s/step
    # against 1.9 s/step with one thread under load); --threads 2 pays off only on an idle machine.
    torch.set_num_threads(args.threads)
    if args.small_scale:
        # Set before the patch producer is forked, which reads it at every small-particle patch.
        data.SMALL_SCALE_RANGE = tuple(float(v) for v in args.small_scale.split(","))
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    split = make_split(args.data)
    emps, _ = emps_items(args.data)
    # A fixed subset during training keeps validation cheap; finalize.py scores the whole hold-out.
    emps_val = [i for i in emps if i.id in set(split["emps"]["val"])]
    val_sets = {
        "emps": emps_val[:: max(1, len(emps_val) // args.emps_val)],
        "msa": [i for i in msa_items(args.data) if i.id in set(split["msa"]["val"])],
    }
    synth_dirs = [d for d in args.synth.split(",") if d]
    train_emps = [i for i in emps if i.id in set(split["emps"]["train"])]
    recal_images = [i.load()[0] for i in train_emps[:: max(1, len(train_emps) // 24)]]
    split["synth"]["sets"] = {}
    save_split(split, os.path.join(HERE, "split.json"))

    model = ARCHS[args.arch]()
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu")["model"])
    log = open(os.path.join(args.out, "log.jsonl"), "a")

    def emit(d):
        d["t_min"] = round((time.time() - t0) / 60, 2)
        log.write(json.dumps(d) + "\n")
        log.flush()
        print(json.dumps(d), flush=True)

    t0 = time.time()
    emit({"event": "start", "arch": args.arch, "params": n_params(model), "mac_per_px": count_macs(model),
          "args": vars(args)})
    set_train(model, args.freeze_bn)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)

    ctx = mp.get_context("fork")
    q = ctx.Queue(maxsize=6)
    cmd_q = ctx.Queue()
    proc = ctx.Process(target=producer, args=(q, cmd_q, args, args.seed + 1), daemon=True)
    proc.start()

    def poll_synth():
        for d in synth_dirs:
            if d in split["synth"]["sets"] or not os.path.exists(os.path.join(d, "READY")):
                continue
            tr, va = split_synth(synth_items(d, "synth"))
            split["synth"]["sets"][d] = {"n_train": len(tr), "val": [i.id for i in va]}
            save_split(split, os.path.join(HERE, "split.json"))
            val_sets.setdefault("synth", [])
            val_sets["synth"] += va[: max(0, args.synth_val - len(val_sets["synth"]))]
            cmd_q.put(d)
            emit({"event": "synth", "dir": d, "train": len(tr), "val": len(va)})

    poll_synth()
    budget = args.minutes * 60
    best = -1.0
    step = 0
    last_val = time.time()
    acc = np.zeros(5)
    nacc = 0
    while True:
        el = time.time() - t0
        frac = min(el / budget, 1.0)
        warm = min(1.0, (step + 1) / 50)
        lr = args.lr * warm * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = q.get()
        z = model.logits(x)
        loss, parts = loss_fn(z, y, pos_w=3.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        acc += [loss.item(), *parts]
        nacc += 1
        step += 1
        done = el >= budget or (args.steps and step >= args.steps)
        if time.time() - last_val >= args.val_every * 60 or done:
            poll_synth()
            res = validate(model, val_sets, recal_images, freeze_bn=args.freeze_bn)
            s = score_of(res)
            emit({"event": "val", "step": step, "lr": lr, "loss": list(np.round(acc / max(nacc, 1), 4)),
                  "score": round(s, 4), "val": res})
            acc[:] = 0
            nacc = 0
            torch.save({"model": model.state_dict(), "arch": args.arch, "step": step, "score": s, "val": res},
                       os.path.join(args.out, "last.pt"))
            if s > best:
                best = s
                torch.save({"model": model.state_dict(), "arch": args.arch, "step": step, "score": s, "val": res},
                           os.path.join(args.out, "best.pt"))
            last_val = time.time()
        elif step % 50 == 0:
            emit({"event": "train", "step": step, "lr": round(lr, 6), "loss": list(np.round(acc / nacc, 4))})
        if done:
            break
    emit({"event": "done", "steps": step, "best": best})
    proc.terminate()


if __name__ == "__main__":
    main()
