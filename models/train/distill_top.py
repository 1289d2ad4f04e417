"""Distils the shipped network (arch `stem`) into `stem_add`, the same network with the cheaper full-resolution
top block (net.py UpAdd): every layer below the top block is copied and frozen; the new top block and the head
learn to give the shipped network's three maps on training patches. No labels are used, only the teacher's
outputs, so the student inherits what the teacher learnt on all of its data; hold-out images are never drawn.

  /usr/bin/python3 models/train/distill_top.py --data ../shared/data --synth DIR[,DIR] --minutes 25 \
      --out models/train/runs/distill/last.pt
  /usr/bin/python3 models/train/export.py --arch stem_add --ckpt models/train/runs/distill/last.pt --out OUT.onnx

Patches: EMPS, msa and SAEMI SEM training images (split.json), semseg_sem's training images (star_split.json)
and synthetic sets made by `saemi synth` from seeds no hold-out uses, drawn with the augmentation of data.py.
Loss: binary cross-entropy of the student's logits against the teacher's probabilities, over the image part of
each patch; with --label-weight W, plus W times train.py's supervised loss on the patches' own labels (the teacher's
mistakes are then not copied where the labels say otherwise).
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import Item, Mixture, emps_items, image_path, msa_items, saemi_items, synth_items  # noqa: E402
from from_onnx import load_folded  # noqa: E402
from net import ARCHS  # noqa: E402
from train import loss_fn  # noqa: E402


def folded(seq):
    """(weight, bias) of a Conv [+ BatchNorm] as load_folded left it (BatchNorm the identity plus a bias)."""
    conv = seq[0]
    w = conv.weight.data.clone()
    if len(seq) > 1 and isinstance(seq[1], torch.nn.BatchNorm2d):
        return w, seq[1].bias.data.clone()
    return w, (conv.bias.data.clone() if conv.bias is not None else torch.zeros(w.shape[0]))


def image_mean(per_pixel, valid):
    """Mean of a per-pixel, per-map loss over the image part of the patches (valid: 1 inside the image)."""
    return (per_pixel * valid).sum() / (valid.sum() * per_pixel.shape[1] + 1e-6)


def student_from(teacher):
    s = ARCHS["stem_add"]()
    own = s.state_dict()
    own.update({k: v for k, v in teacher.state_dict().items() if not k.startswith("top.")})
    s.load_state_dict(own)
    # The new block starts from the old one: the same reduction, and for the one 3x3 conv over (up + skip) the
    # mean of the old first conv's two halves (which read up and skip apart).
    w, b = folded(teacher.top.reduce)
    s.top.reduce[0].weight.data, s.top.reduce[0].bias.data = w, b
    w, b = folded(teacher.top.c1)
    half = w.shape[1] // 2
    s.top.c1[0].weight.data = (w[:, :half] + w[:, half:]) / 2
    s.top.c1[0].bias.data = b
    return s


def pools(data, synth_dirs):
    split = json.load(open(os.path.join(HERE, "split.json")))
    star = json.load(open(os.path.join(HERE, "star_split.json")))
    emps = [i for i in emps_items(data)[0] if i.id in set(split["emps"]["train"])]
    msa = [i for i in msa_items(data) if i.id in set(split["msa"]["train"])]
    saemi = [i for i in saemi_items(data) if i.id in set(split["saemi"]["train"])]
    d = os.path.join(data, "semseg_sem")
    semseg = [
        Item("semseg", i, image_path(os.path.join(d, "images"), i), os.path.join(d, "masks", i + ".png"), "inst")
        for i in star["semseg_sem"]["train"]
    ]
    synth = [it for k, sd in enumerate(synth_dirs) for it in synth_items(sd, f"synth{k}")]
    return {"emps": emps, "msa": msa, "saemi": saemi, "semseg": semseg, "synth": synth}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(HERE, "..", "saemi-unet.onnx"), help="the teacher")
    ap.add_argument("--data", default=os.path.join(HERE, "../../../shared/data"))
    ap.add_argument("--synth", default="", help="synthetic sets (saemi synth --out DIR), comma separated")
    ap.add_argument("--minutes", type=float, default=25)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--resume", help="a checkpoint of this script to go on from")
    ap.add_argument("--decoder", type=int, default=0, help="also train the last N decoder levels (half resolution and up)")
    ap.add_argument("--label-weight", type=float, default=0.0, help="weight of the supervised loss on the labels")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    teacher = ARCHS["stem"]()
    load_folded(teacher, a.onnx)
    teacher.eval()
    student = student_from(teacher)
    if a.resume:
        student.load_state_dict(torch.load(a.resume, map_location="cpu")["model"])
    # Eval mode throughout: the BatchNorms keep their (folded, exact) statistics, trained or not.
    student.eval()
    train = list(student.top.parameters()) + list(student.head.parameters())
    for d in list(student.dec)[len(student.dec) - a.decoder :] if a.decoder else []:
        train += list(d.parameters())
    for p in student.parameters():
        p.requires_grad_(False)
    for p in train:
        p.requires_grad_(True)
    src = pools(a.data, [d for d in a.synth.split(",") if d])
    weights = {"emps": 0.3, "msa": 0.05, "saemi": 0.05, "semseg": 0.25, "synth": 0.35}
    mix = Mixture(src, weights, a.seed)
    print({k: len(v) for k, v in src.items()}, file=sys.stderr)
    opt = torch.optim.Adam(train, lr=a.lr)
    t0 = time.time()
    budget = a.minutes * 60
    step = 0
    log = []
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = a.lr * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * frac)))
        x, y = mix.batch(a.batch)
        valid = y[:, 3:4]
        with torch.no_grad():
            # The student's trunk is the teacher's as long as it is frozen: computed once for both.
            f, h = teacher.trunk(x)
            target = torch.sigmoid(teacher.head(teacher.top(h, f)))
        if a.decoder:
            f, h = student.trunk(x)
        z = student.head(student.top(h, f))
        loss = image_mean(F.binary_cross_entropy_with_logits(z, target, reduction="none"), valid)
        distil = loss.detach()
        if a.label_weight > 0:
            loss = loss + a.label_weight * loss_fn(z, y, pos_w=3.0)[0]
        # The teacher's own entropy is the floor of that loss: the excess is what the student still misses.
        with torch.no_grad():
            floor = image_mean(F.binary_cross_entropy(target, target, reduction="none"), valid)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        log.append(float(distil - floor))
        if step % 50 == 0:
            print(f"step {step} {time.time() - t0:.0f}s excess loss {np.mean(log[-50:]):.5f}", file=sys.stderr, flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    torch.save(
        {"model": student.state_dict(), "arch": "stem_add", "teacher": os.path.abspath(a.onnx), "steps": step, "label_weight": a.label_weight},
        a.out,
    )
    print(a.out)


if __name__ == "__main__":
    main()
