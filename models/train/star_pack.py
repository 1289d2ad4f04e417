"""Pack what a lent GPU machine needs for star_gpu.sh into one git-ignored folder under the device tool's carry
limit (64 MiB, the working tree included): semseg_sem and the EMPS training split as grey JPEG (q 92: the
training augmentation applies JPEG anyway; masks stay PNG), the first --synth-max images of each of the recipe's
synthetic sets (reproduce.py's synth stage makes them) as JPEG q --synth-quality (their noise makes them large),
the star split and the shipped weights as a checkpoint (from_onnx.py's output).

  /usr/bin/python3 models/train/star_pack.py --data ../shared/data --init RUN/init/last.pt \
      --synth models/train/synth/synth-agglom-211,models/train/synth/synth-mixed-212 --out models/train/pack
"""

import argparse
import csv
import json
import os
import shutil
import sys

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import make_split  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--emps-quality", type=int, default=92, help="JPEG quality of the real images (EMPS, semseg_sem)")
    ap.add_argument("--synth", default="", help="comma-separated synthetic sets, packed under their folder names")
    ap.add_argument("--synth-max", type=int, default=100, help="images packed per synthetic set")
    ap.add_argument("--synth-quality", type=int, default=75)
    a = ap.parse_args()
    out = a.out
    shutil.rmtree(out, ignore_errors=True)
    s_src = os.path.join(a.data, "semseg_sem")
    s_dst = os.path.join(out, "data", "semseg_sem")
    shutil.copytree(s_src, s_dst, ignore=shutil.ignore_patterns("*.png"))
    shutil.copytree(os.path.join(s_src, "masks"), os.path.join(s_dst, "masks"), dirs_exist_ok=True)
    os.makedirs(os.path.join(s_dst, "images"), exist_ok=True)
    for f in sorted(os.listdir(os.path.join(s_src, "images"))):
        Image.open(os.path.join(s_src, "images", f)).convert("L").save(
            os.path.join(s_dst, "images", os.path.splitext(f)[0] + ".jpg"), quality=a.emps_quality
        )
    split = make_split(a.data)
    train = set(split["emps"]["train"])
    e_src = os.path.join(a.data, "emps_train")
    e_dst = os.path.join(out, "data", "emps_train")
    os.makedirs(os.path.join(e_dst, "images"))
    os.makedirs(os.path.join(e_dst, "masks"))
    rows = list(csv.DictReader(open(os.path.join(e_src, "metadata.csv"))))
    with open(os.path.join(e_dst, "metadata.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        for r in rows:
            if r["id"] in train:
                w.writerow(r)
    for i in sorted(train):
        Image.open(os.path.join(e_src, "images", i + ".png")).convert("L").save(
            os.path.join(e_dst, "images", i + ".jpg"), quality=a.emps_quality
        )
        shutil.copy(os.path.join(e_src, "masks", i + ".png"), os.path.join(e_dst, "masks", i + ".png"))
    for src in filter(None, a.synth.split(",")):
        dst = os.path.join(out, "data", os.path.basename(os.path.normpath(src)))
        os.makedirs(os.path.join(dst, "images"))
        os.makedirs(os.path.join(dst, "masks"))
        # truth.jsonl names .png images; synth_items reads only each image's median diameter from it, by stem.
        shutil.copy(os.path.join(src, "truth.jsonl"), os.path.join(dst, "truth.jsonl"))
        for f in sorted(os.listdir(os.path.join(src, "images")))[: a.synth_max]:
            stem = os.path.splitext(f)[0]
            Image.open(os.path.join(src, "images", f)).convert("L").save(
                os.path.join(dst, "images", stem + ".jpg"), quality=a.synth_quality
            )
            shutil.copy(os.path.join(src, "masks", stem + ".png"), os.path.join(dst, "masks", stem + ".png"))
    shutil.copy(a.init, os.path.join(out, "init.pt"))
    shutil.copy(os.path.join(HERE, "star_split.json"), os.path.join(out, "star_split.json"))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(json.dumps({"out": out, "MiB": round(size / 2**20, 1), "emps_train": len(train)}))
    # The working tree travels with it (about 10 MiB) under the same 64 MiB.
    if size > 52 * 2**20:
        raise SystemExit("pack over 52 MiB: lower --synth-max or a quality")


if __name__ == "__main__":
    main()
