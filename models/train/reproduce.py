"""Rebuild a model from its recipe (models/recipes/*.json), stage by stage, into one run folder.

  /usr/bin/python3 models/train/reproduce.py models/recipes/saemi-star-2.1.json [--profile cpu|gpu]
      [--data ../shared/data] [--run DIR] [--from STAGE] [--to STAGE] [--dry-run]
  /usr/bin/python3 models/train/reproduce.py RECIPE --hash     # write the data/split/init hashes into the recipe

Stages, in order: check (the data, split and initial weights are the recipe's, by sha256) -> synth (the
recipe's synthetic training sets, made by the shipped CLI's generator from their seeds where they are not there
yet, and checked by sha256; a profile with a `synthFolder` reads them from there, already packed) -> init (the shipped
ONNX back into a checkpoint, BatchNorm statistics re-estimated) -> train (a bank of augmented patches with their
ray targets, written by background processes while training reads it) -> export (ONNX) -> thresholds (chosen on
the training part, never the hold-out) -> sidecar -> validate (the shipped CLI on every validation source's
hold-out). A stage whose output is already in the run folder is skipped, so an interrupted run goes on where it
stopped; --from STAGE redoes that stage and the ones after it. Every command run is printed and logged.
"""

import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PY = sys.executable or "/usr/bin/python3"
STAGES = ["check", "synth", "init", "train", "export", "thresholds", "sidecar", "validate"]
# Where the synthetic training sets are made (git-ignored); a profile's synthFolder overrides it.
SYNTH_DIR = os.path.join(HERE, "synth")


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_sha256(root):
    """(file count, sha256 over 'relative path NUL file sha256 LF' of every file, sorted by path): the same
    for the same files wherever the folder lies and whatever the file system's order."""
    files = sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root, followlinks=True) for f in fs
    )
    h = hashlib.sha256()
    for rel in files:
        h.update(f"{rel}\0{file_sha256(os.path.join(root, rel))}\n".encode())
    return len(files), h.hexdigest()


class Run:
    def __init__(self, recipe_path, profile, data, run_dir, dry):
        self.recipe_path = recipe_path
        self.r = json.load(open(recipe_path))
        if profile not in self.r["profiles"]:
            sys.exit(f"profile {profile!r} is not in the recipe (it has {', '.join(self.r['profiles'])})")
        self.p = self.r["profiles"][profile]
        self.profile = profile
        self.data = os.path.abspath(data)
        self.dir = os.path.abspath(run_dir)
        self.dry = dry
        self.name = f"{self.r['model']}-{self.r['version']}"
        os.makedirs(self.dir, exist_ok=True)
        self.log = open(os.path.join(self.dir, "reproduce.log"), "a")

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def say(self, msg):
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        self.log.write(line + "\n")
        self.log.flush()

    def sh(self, cmd, out=None):
        """Run one command (list), its output to `out` (a file in the run folder) or to ours; stop on failure."""
        self.say("$ " + " ".join(cmd) + (f" > {os.path.relpath(out, self.dir)}" if out else ""))
        if self.dry:
            return
        with open(out, "w") if out else open(os.devnull, "w") as f:
            r = subprocess.run(cmd, cwd=ROOT, stdout=f if out else None, stderr=subprocess.STDOUT if out else None)
        if r.returncode != 0:
            tail = open(out).read()[-1500:] if out else ""
            sys.exit(f"stage failed: {' '.join(cmd)} exited {r.returncode}\n{tail}")

    # --- stages -------------------------------------------------------------------------------------------

    def check(self):
        bad = []
        # A profile may train on a derived copy of the data (the GPU profile: star_pack.py's pack, EMPS as JPEG,
        # so that it fits the device tool's carry limit); it records that copy's hashes itself.
        for name, want in self.p.get("data", self.r["data"]).items():
            d = os.path.join(self.data, name)
            if not os.path.isdir(d):
                bad.append(f"{name}: no folder {d}")
                continue
            n, h = tree_sha256(d)
            self.say(f"data {name}: {n} files, sha256 {h[:16]}...")
            if (n, h) != (want["files"], want["sha256"]):
                bad.append(f"{name}: {n} files, sha256 {h}; the recipe says {want['files']} files, {want['sha256']}")
        files = {**self.r["splits"], self.r["init"]["file"]: self.r["init"]["sha256"]}
        for rel, want in files.items():
            h = file_sha256(os.path.join(ROOT, rel))
            if h != want:
                bad.append(f"{rel}: sha256 {h}, the recipe says {want}")
        if bad:
            sys.exit("not the recipe's inputs (a different result would not be a reproduction):\n  " + "\n  ".join(bad))
        self.say("data, split and initial weights are the recipe's")

    def synth_dirs(self):
        """Folders of the recipe's synthetic training sets, by name (none when the recipe has none)."""
        sets = self.r.get("synthetic", {}).get("sets", {})
        base = os.path.join(ROOT, self.p["synthFolder"]) if "synthFolder" in self.p else SYNTH_DIR
        return {name: os.path.join(base, name) for name in sets}

    def synth(self):
        sets = self.r.get("synthetic", {}).get("sets", {})
        if "synthFolder" in self.p:
            # Packed sets are data of the profile (re-encoded): check() has checked them with the profile's data.
            return self.say(f"synth: {len(sets)} set(s) from {self.p['synthFolder']}")
        bad = []
        for name, d in self.synth_dirs().items():
            spec = sets[name]
            if not os.path.isdir(d):
                self.sh(["node", os.path.join(ROOT, "bin", "saemi.js"), "synth", "--out", d, "--jobs", "2",
                         *spec["args"]], self.path(f"synth-{name}.txt"))
            if self.dry:
                continue
            n, h = tree_sha256(d)
            self.say(f"synth {name}: {n} files, sha256 {h[:16]}...")
            if (n, h) != (spec.get("files"), spec.get("sha256")):
                bad.append(f"{name}: {n} files, sha256 {h}; the recipe says {spec.get('files')} files, {spec.get('sha256')}")
        if bad:
            sys.exit("synthetic sets are not the recipe's (another generator version?):\n  " + "\n  ".join(bad))

    def init(self):
        out = self.path("init", "last.pt")
        if os.path.exists(out):
            return self.say("init: done before (init/last.pt)")
        os.makedirs(self.path("init"), exist_ok=True)
        i = self.r["init"]
        self.sh([PY, os.path.join(HERE, "from_onnx.py"), "--onnx", os.path.join(ROOT, i["file"]), "--data", self.data,
                 "--images", str(i["bnImages"]), "--out", out], self.path("init", "log.txt"))

    def train(self):
        ckpt = self.path("train", "last.pt")
        if os.path.exists(self.path("train", "done")):
            return self.say("train: done before (train/last.pt)")
        bank = self.path("bank")
        os.makedirs(bank, exist_ok=True)
        os.makedirs(self.path("train"), exist_ok=True)
        b, p = self.r["bank"], self.p
        per = p["bankPatches"] // p["bankWriters"]
        writers = []
        for k in range(p["bankWriters"]):
            cmd = [PY, os.path.join(HERE, "star_bank.py"), "--data", self.data, "--out", bank, "--n", str(per),
                   "--start", str(k * per), "--weights", b["weights"], "--seed", str(self.r["seed"]),
                   "--patch", str(b["patch"]), "--scale-range", ",".join(str(v) for v in b["scaleRange"]),
                   "--synth", ",".join(self.synth_dirs().values())]
            if "bankSeconds" in p:
                cmd = ["timeout", str(p["bankSeconds"]), *cmd]
            self.say("& " + " ".join(cmd))
            if not self.dry:
                writers.append(subprocess.Popen(cmd, cwd=ROOT, stdout=open(self.path("bank", f"writer-{k}.txt"), "w"),
                                                stderr=subprocess.STDOUT))
        # Training reads whatever the bank holds and sees it grow; it starts once there is enough to shuffle.
        start = min(b["startAfter"], p["bankPatches"])
        while not self.dry and len(glob.glob(os.path.join(bank, "*.npz"))) < start:
            if all(w.poll() is not None for w in writers):
                break
            time.sleep(10)
        init = self.path("init", "last.pt")
        t = self.r["train"]
        self.sh([PY, os.path.join(HERE, "star_train.py"), "--bank", bank, "--init", init, "--out", self.path("train"),
                 "--minutes", str(p["minutes"]), "--batch", str(p["batch"]), "--lr", str(p["lr"]),
                 "--ray-weight", str(t["rayWeight"]), "--device", p["device"], "--threads", str(p["threads"]),
                 "--workers", str(p["workers"]), "--seed", str(self.r["seed"])], self.path("train", "log.txt"))
        for w in writers:
            w.wait()
        if not self.dry:
            n = len(glob.glob(os.path.join(bank, "*.npz")))
            open(self.path("train", "done"), "w").write(f"bank patches {n}\n")
            self.say(f"train: done; the bank holds {n} patches")
        assert self.dry or os.path.exists(ckpt)

    def export(self):
        out = self.path(self.name + ".onnx")
        if os.path.exists(out):
            return self.say(f"export: done before ({self.name}.onnx)")
        self.sh([PY, os.path.join(HERE, "star_export.py"), "--ckpt", self.path("train", "last.pt"), "--out", out],
                self.path("export.txt"))

    def thresholds(self):
        out = self.path("thresholds.json")
        if os.path.exists(out):
            return self.say("thresholds: done before (thresholds.json)")
        t = self.r["thresholds"]
        self.sh([PY, os.path.join(HERE, "star_eval.py"), "--data", self.data, "--ckpt", self.path("train", "last.pt"),
                 "--sources", t["source"], "--synth", ",".join(self.synth_dirs().values()),
                 "--part", "train", "--max-images", str(t["images"]), "--grid",
                 "--grid-probs", ",".join(map(str, t["probability"])),
                 "--grid-overlaps", ",".join(map(str, t["overlap"])), "--device", self.p["device"],
                 "--json", self.path("thresholds-grid.json")], self.path("thresholds.txt"))
        if self.dry:
            return
        grid = json.load(open(self.path("thresholds-grid.json")))
        best = None
        sources = t["source"].split(",")
        for key, by_source in grid.items():
            if not key.startswith("star prob "):
                continue
            _, _, pr, _, ov = key.split()
            # Every source weighs alike: the mean of their F1 (semseg_sem alone chose 0.8 for 2.1.0's CPU run, which
            # found 17 % of the agglomerated evaluation set's particles).
            f1 = round(sum(by_source[s]["f1_iou50"] for s in sources) / len(sources), 4)
            # Ties go to the higher probability (fewer candidate polygons, faster decoding).
            if best is None or (f1, float(pr)) > (best[0], best[1]):
                best = (f1, float(pr), float(ov))
        chosen = {"starProbability": best[1], "starOverlap": best[2], "trainF1": best[0],
                  "chosenOn": f"{t['source']}: training part (synth: the held-out part of the training sets), at most "
                              f"{t['images']} images each"}
        json.dump(chosen, open(out, "w"), indent=1)
        self.say(f"thresholds: probability {best[1]}, overlap {best[2]} (F1 {best[0]} on the training part)")

    def sidecar(self):
        out = self.path(self.name + ".json")
        if os.path.exists(out):
            return self.say(f"sidecar: done before ({self.name}.json)")
        if self.dry:
            return self.say(f"would write {self.name}.json")
        th = json.load(open(self.path("thresholds.json")))
        s = self.r["sidecar"]
        onnx = self.path(self.name + ".onnx")
        sc = {
            "name": self.r["model"],
            "version": self.r["version"],
            "sha256": file_sha256(onnx),
            "file": os.path.basename(onnx),
            "provenance": f"models/train/reproduce.py {os.path.relpath(self.recipe_path, ROOT)} --profile "
                          f"{self.profile}, {time.strftime('%Y-%m-%d')}",
            "input": s["input"],
            "tile": s["tile"],
            # The graph also has the stem's boundary map; polygons need none, so the sidecar leaves it out.
            "outputs": [
                {"name": "foreground", "kind": "foreground"},
                {"name": "distance", "kind": "distance", "description": "object probability"},
                {"name": "rays", "kind": "rays", **s["rays"]},
            ],
            "diameterRangePx": s["diameterRangePx"],
            "resampleTargetPx": s["resampleTargetPx"],
            "maxUpscale": s["maxUpscale"],
            "thresholds": {"foreground": 0.5, "starProbability": th["starProbability"],
                           "starOverlap": th["starOverlap"]},
        }
        with open(out, "w") as f:
            json.dump(sc, f, indent=2)
            f.write("\n")
        self.say(f"sidecar: {self.name}.json")

    def validate(self):
        out = self.path("validation.json")
        if os.path.exists(out):
            return self.say("validate: done before (validation.json)")
        v = self.r["validate"]
        work = self.path("cli-eval")
        self.sh([PY, os.path.join(HERE, "eval_cli.py"), "--data", self.data, "--work", work, "--methods", "model",
                 "--sources", v["sources"], "--extra", f"--model {self.path(self.name + '.json')}"],
                self.path("validate.txt"))
        if self.dry:
            return
        res = json.load(open(os.path.join(work, "results.json")))
        json.dump(res, open(out, "w"), indent=1)
        for src, by_method in res.items():
            m = by_method["model"]
            self.say(f"validate {src}: F1 {m.get('f1_iou50')} (P {m.get('precision')} R {m.get('recall')}), "
                     f"mean-ECD error median {m.get('mean_ecd_rel_err_median')}, missing {m.get('missing')}")


def write_hashes(recipe_path, data):
    r = json.load(open(recipe_path))
    for name in r["data"]:
        n, h = tree_sha256(os.path.join(data, name))
        r["data"][name] = {"files": n, "sha256": h}
    for prof in r["profiles"].values():
        if "data" in prof:
            pack = os.path.join(ROOT, prof["dataFolder"])
            if not os.path.isdir(pack):
                print(f"{pack} is not here (star_pack.py makes it): its hashes stay as they are", file=sys.stderr)
                continue
            for name in prof["data"]:
                n, h = tree_sha256(os.path.join(pack, name))
                prof["data"][name] = {"files": n, "sha256": h}
    for name, spec in r.get("synthetic", {}).get("sets", {}).items():
        d = os.path.join(SYNTH_DIR, name)
        if not os.path.isdir(d):
            print(f"{d} is not here (the synth stage makes it): its hash stays as it is", file=sys.stderr)
            continue
        spec["files"], spec["sha256"] = tree_sha256(d)
    for rel in r["splits"]:
        r["splits"][rel] = file_sha256(os.path.join(ROOT, rel))
    r["init"]["sha256"] = file_sha256(os.path.join(ROOT, r["init"]["file"]))
    with open(recipe_path, "w") as f:
        json.dump(r, f, indent=2)
        f.write("\n")
    print(json.dumps({k: r[k] for k in ("data", "splits", "init")}, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("recipe")
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--run", help="run folder (default models/train/runs/<model>-<version>-<profile>)")
    ap.add_argument("--from", dest="start", choices=STAGES, help="redo this stage and the ones after it")
    ap.add_argument("--to", dest="stop", choices=STAGES, help="stop after this stage")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    ap.add_argument("--hash", action="store_true", help="write the inputs' hashes into the recipe and stop")
    a = ap.parse_args()
    if a.hash:
        return write_hashes(a.recipe, a.data)
    r = json.load(open(a.recipe))
    run_dir = a.run or os.path.join(HERE, "runs", f"{r['model']}-{r['version']}-{a.profile}")
    run = Run(a.recipe, a.profile, a.data, run_dir, a.dry_run)
    if a.start:
        # Redo from there: the outputs that mark later stages done go (the bank stays: it is only data).
        marks = {"init": ["init/last.pt"], "train": ["train/done"], "export": [run.name + ".onnx"],
                 "thresholds": ["thresholds.json"], "sidecar": [run.name + ".json"], "validate": ["validation.json"]}
        for s in STAGES[STAGES.index(a.start):]:
            for m in marks.get(s, []):
                if os.path.exists(run.path(m)) and not a.dry_run:
                    os.remove(run.path(m))
    run.say(f"reproduce {a.recipe} --profile {a.profile} into {run.dir}")
    for s in STAGES[: STAGES.index(a.stop) + 1 if a.stop else None]:
        getattr(run, s)()
    run.say(f"stages done up to {a.stop or STAGES[-1]}")


if __name__ == "__main__":
    main()
