"""Turn a training run into what ships: choose thresholds on the hold-out, export ONNX, write the sidecar.

  /usr/bin/python3 models/train/finalize.py --run models/train/runs/main --data ../shared/data

Writes models/saemi-unet.onnx, models/saemi-unet.json and OUT/check/ (a random input and torch's outputs,
which models/train/check-onnx.ts compares with onnxruntime-web). The sidecar's `validation.python` holds the
figures of the Python twin of the instance step; `record_validation.py` adds the TypeScript CLI's figures.
"""

import argparse
import hashlib
import itertools
import json
import os
import random
import sys

import numpy as np
import torch
from scipy import ndimage as ndi

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from data import NORM_HIGH, NORM_LOW, emps_items, msa_items, saemi_items, synth_items  # noqa: E402
from evaluate import score_pair, summarise  # noqa: E402
from bnrecal import recalibrate  # noqa: E402
from export import export  # noqa: E402
from net import ARCHS, count_macs, n_params  # noqa: E402
from postprocess import instances, predict  # noqa: E402
from records import load_record, provenance, write_record  # noqa: E402

MODELS = os.path.abspath(os.path.join(HERE, ".."))
NAME = "saemi-unet"
# Sidecar keys that tune_cli.py and the CLI studies choose (see the card's tuning section): --keep-rules keeps them.
RULE_KEYS = ("thresholds", "diameterRangePx", "resampleTargetPx", "maxUpscale", "tile")


def val_items(data, split):
    emps, _ = emps_items(data)
    sets = {
        "emps": [i for i in emps if i.id in set(split["emps"]["val"])],
        "msa": [i for i in msa_items(data) if i.id in set(split["msa"]["val"])],
    }
    for d, info in split["synth"].get("sets", {}).items():
        ids = set(info["val"])
        sets.setdefault("synth", [])
        sets["synth"] += [i for i in synth_items(d, "synth") if i.id in ids]
    return sets


def recalibrate_bn(model, data, split, n=40, seed=0):
    """BN statistics from whole training images (never hold-out ones); see bnrecal.py for why."""
    rng = random.Random(seed)
    emps, _ = emps_items(data)
    train_ids = set(split["emps"]["train"])
    pool = rng.sample([i for i in emps if i.id in train_ids], n)
    pool += [i for i in msa_items(data) if i.id in set(split["msa"]["train"])][:8]
    pool += saemi_items(data)[:3]
    for d, info in split["synth"].get("sets", {}).items():
        val = set(info["val"])
        pool += rng.sample([i for i in synth_items(d, "synth") if i.id not in val], n // 2)
    recalibrate(model, [i.load()[0] for i in pool])
    return [f"{i.source}:{i.id}" for i in pool]


def truth_of(item):
    _, lab = item.load()
    if item.kind == "bin":
        lab, _ = ndi.label(lab > 0, structure=np.ones((3, 3)))
    return lab


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "../../../shared/data"))
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--max-per-set", type=int, default=0, help="score at most N images per set (quick check)")
    ap.add_argument("--ckpt", default="last.pt", help="last.pt: the end of the cosine schedule")
    ap.add_argument(
        "--keep-bn",
        action="store_true",
        help="keep the BatchNorm statistics the run trained with (train.py --freeze-bn): its weights were fitted "
        "to them, and re-estimated ones change the network (measured: EMPS Dice 0.92 -> 0.73)",
    )
    ap.add_argument("--grid-limit", type=int, default=100, help="images per set scored in the threshold search")
    ap.add_argument(
        "--keep-rules",
        action="store_true",
        help="start the sidecar from the shipped one and keep its instance rules (thresholds, diameter range, "
        "resampling), which tune_cli.py chose through the whole TypeScript pipeline; the Python twin's grid is "
        "still recorded. Its CLI figures describe other weights and are dropped: tune_cli.py --write and "
        "eval_cli.py --record write them again",
    )
    ap.add_argument("--note", help="a note on this training stage for the sidecar's training record")
    a = ap.parse_args()
    old_sidecar = os.path.join(MODELS, NAME + ".json")
    shipped = json.load(open(old_sidecar)) if os.path.exists(old_sidecar) else None
    if a.keep_rules and shipped is None:
        ap.error("--keep-rules needs the shipped sidecar %s" % old_sidecar)
    torch.set_num_threads(2)
    ck = torch.load(os.path.join(a.run, a.ckpt), map_location="cpu")
    model = ARCHS[ck["arch"]]()
    model.load_state_dict(ck["model"])
    model.eval()
    split = json.load(open(os.path.join(HERE, "split.json")))
    recal_ids = [] if a.keep_bn else recalibrate_bn(model, a.data, split)
    torch.save({"model": model.state_dict(), "arch": ck["arch"], "step": ck["step"], "recalibrated": recal_ids},
               os.path.join(a.run, "final.pt"))
    sets = val_items(a.data, split)
    if a.max_per_set:
        sets = {k: v[: a.max_per_set] for k, v in sets.items()}

    preds = {}
    for name, items in sets.items():
        preds[name] = []
        for it in items:
            img, _ = it.load()
            fg, bnd, dist = predict(model, img)
            preds[name].append((fg, bnd, dist, truth_of(it)))
        print(name, len(items), "predicted", flush=True)

    def run(p, names, limit=None):
        return {
            n: summarise(
                [
                    score_pair(instances(fg, b, p["tf"], p["tb"], dist=d, peak=p["peak"], peak_diam=p["diam"]), t)
                    for fg, b, d, t in preds[n][:limit]
                ]
            )
            for n in names
        }

    # Thresholds: best mean instance F1 over the instance-labelled hold-outs (EMPS, synthetic); the binary
    # msa masks merge touching particles, so they would reward under-splitting. Coordinate search: the
    # distance-peak filter first, then foreground/boundary at that filter, then the filter again.
    inst_sets = [n for n in ("emps", "synth") if n in preds]
    grid = []
    p = {"tf": 0.5, "tb": 0.3, "peak": 0.0, "diam": 0.0}

    def search(axes):
        best = None
        for vals in itertools.product(*axes.values()):
            q = {**p, **dict(zip(axes, vals))}
            r = run(q, inst_sets, a.grid_limit or None)
            s = float(np.mean([r[n]["f1_iou50"] for n in inst_sets]))
            grid.append({**q, "score": round(s, 4), **{n: round(r[n]["f1_iou50"], 4) for n in inst_sets}})
            print(json.dumps(grid[-1]), flush=True)
            if best is None or s > best[0]:
                best = (s, q)
        p.update(best[1])

    peaks = {"peak": (0.0, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55), "diam": (0.0, 8.0, 12.0, 16.0)}
    search(peaks)
    search({"tf": (0.3, 0.4, 0.5, 0.6, 0.7), "tb": (0.3, 0.4, 0.5, 0.6, 0.7)})
    search(peaks)
    tf, tb = p["tf"], p["tb"]
    final = run(p, list(preds))
    print(json.dumps(final, indent=1))

    onnx_path = os.path.join(MODELS, NAME + ".onnx")
    export(model, onnx_path)
    sha = hashlib.sha256(open(onnx_path, "rb").read()).hexdigest()

    # reference tensors for the onnxruntime-web equivalence check
    chk = os.path.join(a.run, "check")
    os.makedirs(chk, exist_ok=True)
    rng = np.random.default_rng(1)
    x = rng.random((1, 1, 320, 224), dtype=np.float32)
    with torch.no_grad():
        outs = model(torch.from_numpy(x))
    x.tofile(os.path.join(chk, "input.f32"))
    for n, o in zip(("foreground", "boundary", "distance"), outs):
        o.numpy().astype(np.float32).tofile(os.path.join(chk, n + ".f32"))
    json.dump({"shape": list(x.shape)}, open(os.path.join(chk, "shape.json"), "w"))

    log = [json.loads(l) for l in open(os.path.join(a.run, "log.jsonl"))]
    start = [e for e in log if e["event"] == "start"][-1]
    done = [e for e in log if e["event"] == "done"]
    # A run started from earlier weights (--init) continues the stages of the model it started from.
    stage = {
        "steps": ck["step"],
        "minutes": start["args"]["minutes"],
        "lr": start["args"]["lr"],
        "weights": start["args"].get("weights") or "default",
        "init": start["args"].get("init"),
        **({"note": a.note} if a.note else {}),
    }
    stages = [stage]
    if stage["init"] and shipped is not None:
        stages = load_record(shipped).get("training", {}).get("stages", []) + stages
    synth_info = split["synth"].get("sets", {})
    emps_all, meta = emps_items(a.data)
    sidecar = {
        "name": NAME,
        "version": a.version,
        "sha256": sha,
        "file": NAME + ".onnx",
        "input": {
            "name": "image",
            "multiple": 32,
            "normalisation": {"method": "percentile", "low": NORM_LOW, "high": NORM_HIGH},
        },
        "diameterRangePx": [6, 300],
        "tile": {"size": 1088, "overlap": 96},
        "outputs": [
            {"name": "foreground", "kind": "foreground", "description": "P(pixel is particle)"},
            {
                "name": "boundary",
                "kind": "boundary",
                "description": "P(pixel lies in the 2 px band along a particle outline or a contact line "
                "between touching particles)",
            },
            {
                "name": "distance",
                "kind": "distance",
                "description": "distance to the particle's own edge divided by its maximum (0 edge, 1 centre)",
            },
        ],
        "thresholds": {
            "foreground": tf,
            "boundary": tb,
            **({"distancePeak": p["peak"]} if p["peak"] > 0 else {}),
            **({"distancePeakDiameterPx": p["diam"]} if p["peak"] > 0 and p["diam"] > 0 else {}),
        },
        "architecture": {
            "arch": ck["arch"],
            "params": n_params(model),
            "macPerPixel": round(count_macs(model)),
        },
        "training": {
            "sources": {
                "emps": {
                    "images": len(split["emps"]["train"]),
                    "dois": len(set(meta[i] for i in split["emps"]["train"])),
                    "licence": "MIT (by256/emps), pixels from journal figures: internal training only",
                },
                "msa_tem": {"images": len(split["msa"]["train"]), "licence": "CC-BY-4.0 (msa-em/microscopy-seg-track)"},
                "saemi_sem": {
                    "images": len(split["saemi"]["train"]),
                    "licence": "Apache-2.0 (lwang94/sem_size_analysis); images NFFA-Europe CC-BY 4.0",
                },
                "synthetic": {
                    "images": sum(v["n_train"] for v in synth_info.values()),
                    "sets": list(synth_info),
                    "licence": "generated by src/core/synth (this project)",
                },
            },
            "emps_images_total": len(emps_all),
            "steps": sum(st["steps"] for st in stages),
            "batch": start["args"]["batch"],
            "patch": start["args"]["patch"],
            "minutes": round(sum(st["minutes"] for st in stages), 1),
            "finished": bool(done),
            "stages": stages,
            "machine": "2 CPU cores, torch 1.13, %d intra-op thread(s), batch %d x %d px patches"
            % (start["args"].get("threads", 1), start["args"]["batch"], start["args"]["patch"]),
            "bnRecalibration": "BatchNorm running statistics re-estimated from %d training images (finalize.py, "
            "bnrecal.py)" % len(recal_ids)
            if recal_ids
            else "none: BatchNorm statistics frozen during the last stage (train.py --freeze-bn) and kept",
        },
        "validation": {
            "split": "models/train/split.json (EMPS held out by DOI)",
            "thresholdGrid": grid,
            "python": final,
            "pythonNotes": "finalize.py on %s%s%s: the Python twin of the instance step (no upsampled pass, merges or "
            "contrast filter) and its threshold grid%s"
            % (
                os.path.join(a.run, a.ckpt),
                " --keep-bn" if a.keep_bn else "",
                " --max-per-set %d" % a.max_per_set if a.max_per_set else "",
                "; the shipped rules come from tune_cli.py (cliTuning)" if a.keep_rules else "",
            ),
        },
    }
    if a.keep_rules:
        kept = {k: v for k, v in shipped.items() if k not in sidecar or k in RULE_KEYS}
        stale = ("cli", "cliTuning", "pythonNotes")
        shipped_validation = {
            k: v for k, v in load_record(shipped).get("validation", {}).items() if k not in stale
        }
        kept = {k: v for k, v in kept.items() if k not in ("training", "validation", "provenance")}
        sidecar = {**sidecar, **kept, "validation": {**shipped_validation, **sidecar["validation"]}}
    # The records go beside the model, not into what browsers load.
    record = {"training": sidecar.pop("training"), "validation": sidecar.pop("validation")}
    sidecar["provenance"] = provenance(sidecar)
    write_record(sidecar, record)
    with open(os.path.join(MODELS, NAME + ".json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")
    print("wrote", onnx_path, sha, os.path.getsize(onnx_path), "bytes")


if __name__ == "__main__":
    main()
