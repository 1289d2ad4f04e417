"""Validation figures of what ships: run the TypeScript CLI (`npx saemi analyze`) on the held-out images
with the model and with the classical threshold method, then score its labels/<stem>.png against truth.

  /usr/bin/python3 models/train/eval_cli.py --data ../shared/data [--record]

--record writes the figures into the model's record (models/records/, records.py) under validation.cli. Needs split.json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

from evaluate import score_dir, summarise  # noqa: E402
from records import update_record  # noqa: E402

SOURCES = {
    # name: (images dir, masks dir, truth kind, image extension)
    "emps": ("emps_train/images", "emps_train/masks", "inst"),
    "msa": ("msa_tem_train/images", "msa_tem_train/masks", "bin"),
    # JEOL SEM, touching spheres: the hold-out of star_split.json (every fifth complete image). The masks end at
    # the info banner; a particle found in the banner counts as a false one.
    "semseg": ("semseg_sem/images", "semseg_sem/masks", "inst"),
}


# A synthetic set of agglomerated, touching SEM particles (issue 20's "synthetic agglomerate" figure), made by the
# CLI from a seed no training set uses; every image is held out. Made into WORK/agglom-set when it is not there.
AGGLOM_SET = ["--n", "60", "--seed", "101", "--size", "384..640", "--modality", "sem", "--arrangement", "agglomerated"]


def make_agglom(work):
    d = os.path.join(work, "agglom-set")
    if not os.path.exists(os.path.join(d, "READY")):
        shutil.rmtree(d, ignore_errors=True)
        subprocess.run(["npx", "saemi", "synth", *AGGLOM_SET, "--out", d, "--quiet"], cwd=ROOT, check=True)
    return d


def load_split():
    """split.json (EMPS, msa, synthetic) with the semseg_sem hold-out of star_split.json."""
    split = json.load(open(os.path.join(HERE, "split.json")))
    star = json.load(open(os.path.join(HERE, "star_split.json")))
    split["semseg"] = star["semseg_sem"]
    return split


def stage(split, data, work, synth_max=0, sources=("emps", "msa", "semseg", "synth", "agglom")):
    """Copy each source's held-out images into WORK/<source>/in (the CLI takes a folder)."""
    sets = {}
    for name, (imgs, masks, kind) in SOURCES.items():
        ids = split.get(name, {}).get("val")
        if not ids or name not in sources:
            continue
        d = os.path.join(work, name, "in")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for i in ids:
            src = [f for f in os.listdir(os.path.join(data, imgs)) if os.path.splitext(f)[0] == i][0]
            shutil.copy(os.path.join(data, imgs, src), os.path.join(d, src))
        sets[name] = (d, os.path.join(data, masks), kind, ids)
    synth = split["synth"].get("sets", {})
    if synth and "synth" in sources:
        d = os.path.join(work, "synth", "in")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        tdir = os.path.join(work, "synth", "truth")
        shutil.rmtree(tdir, ignore_errors=True)
        os.makedirs(tdir)
        ids = []
        for k, (sd, info) in enumerate(synth.items()):
            if not os.path.isdir(sd):
                print(f"synthetic set {sd} is not here (npx saemi synth makes it): not scored", file=sys.stderr)
                continue
            for i in info["val"][: synth_max or None]:
                sid = f"s{k}_{i}"  # two sets may share ids
                shutil.copy(os.path.join(sd, "images", i + ".png"), os.path.join(d, sid + ".png"))
                os.symlink(os.path.join(sd, "masks", i + ".png"), os.path.join(tdir, sid + ".png"))
                ids.append(sid)
        if ids:
            sets["synth"] = (d, tdir, "inst", ids)
    if "agglom" in sources:
        src = make_agglom(work)
        ids = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(src, "images")))
        sets["agglom"] = (os.path.join(src, "images"), os.path.join(src, "masks"), "inst", ids)
    return sets


def run_cli(indir, outdir, method, extra):
    shutil.rmtree(outdir, ignore_errors=True)
    cmd = ["npx", "saemi", "analyze", indir, "--out", outdir, "--method", method, *extra]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        print(f"{' '.join(cmd)} exited {r.returncode}: {r.stderr[-2000:]}", file=sys.stderr)
    return r.returncode


# The CLI's default --min-area (src/core/types.ts DEFAULT_OPTIONS.minAreaPx): particles under it are left out of
# its labels, so truth particles under it are left out of the score too (a few px of an occluded or edge-cut
# particle that no setting of the tool reports; 2 % of the synthetic truth, mostly slivers).
CLI_MIN_AREA = 10


def min_area_of(extra):
    """The --min-area the CLI runs with, given its extra options."""
    return int(extra[extra.index("--min-area") + 1]) if "--min-area" in extra else CLI_MIN_AREA


def score(labels_dir, truth_dir, kind, ids, min_area=CLI_MIN_AREA):
    rows, missing = score_dir(labels_dir, truth_dir, kind, ids, min_truth_area=min_area)
    s = summarise(rows)
    s["missing"] = len(missing)
    return s, rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--work", default=os.path.join(HERE, "runs", "cli-eval"))
    ap.add_argument("--methods", default="model,threshold")
    ap.add_argument("--sources", default="emps,msa,semseg,synth,agglom")
    ap.add_argument("--extra", default="", help="extra CLI options, space separated")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--synth-max", type=int, default=0, help="score only the first N synthetic hold-out images")
    a = ap.parse_args()
    split = load_split()
    sets = stage(split, a.data, a.work, a.synth_max, a.sources.split(","))
    extra = a.extra.split() if a.extra else []
    results = {}
    for name, (indir, tdir, kind, ids) in sets.items():
        if name not in a.sources.split(","):
            continue
        results[name] = {}
        for method in a.methods.split(","):
            out = os.path.join(a.work, name, method)
            rc = run_cli(indir, out, method, extra)
            s, rows = score(os.path.join(out, "labels"), tdir, kind, ids, min_area_of(extra))
            s["cli_exit"] = rc
            results[name][method] = s
            json.dump(rows, open(os.path.join(a.work, name, method + "-rows.json"), "w"), indent=1)
            print(name, method, json.dumps(s), flush=True)
    json.dump(results, open(os.path.join(a.work, "results.json"), "w"), indent=1)
    if a.record:

        def record(r):
            r.setdefault("validation", {})["cli"] = {
                "command": "npx saemi analyze <held-out images> --out DIR --method model|threshold " + a.extra,
                "notes": "labels/<stem>.png scored by models/train/evaluate.py; msa truth is binary, so its "
                "instances are connected components (touching particles count as one); truth particles under "
                "the CLI's --min-area (%d px, which the CLI leaves out of its labels) are left out of the truth"
                % min_area_of(extra),
                "results": results,
            }

        update_record(record)


def update_sidecar(change):
    """Read models/saemi-unet.json, let `change` edit it in place, write it back."""
    p = os.path.join(ROOT, "models", "saemi-unet.json")
    sc = json.load(open(p))
    change(sc)
    with open(p, "w") as f:
        json.dump(sc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
