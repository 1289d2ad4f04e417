"""Pack what a lent GPU machine needs for star_gpu.sh into one git-ignored folder under the device tool's carry
limit (64 MiB): semseg_sem (train and hold-out, as they are), the EMPS training split as grey JPEG (q 92: the
training augmentation applies JPEG anyway; masks stay PNG), the star split and the shipped weights as a
checkpoint (from_onnx.py's output).

  /usr/bin/python3 models/train/star_pack.py --data ../shared/data --init RUN/from-onnx/last.pt \
      --out models/train/pack
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
    ap.add_argument("--emps-quality", type=int, default=92)
    a = ap.parse_args()
    out = a.out
    shutil.rmtree(out, ignore_errors=True)
    s_src = os.path.join(a.data, "semseg_sem")
    s_dst = os.path.join(out, "data", "semseg_sem")
    shutil.copytree(s_src, s_dst)
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
    shutil.copy(a.init, os.path.join(out, "init.pt"))
    shutil.copy(os.path.join(HERE, "star_split.json"), os.path.join(out, "star_split.json"))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(json.dumps({"out": out, "MiB": round(size / 2**20, 1), "emps_train": len(train)}))
    if size > 60 * 2**20:
        raise SystemExit("pack over 60 MiB: lower --emps-quality")


if __name__ == "__main__":
    main()
