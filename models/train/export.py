"""Export a checkpoint (or random weights, for benchmarking an architecture) to ONNX.

usage: python3 export.py --arch stem [--ckpt runs/x/best.pt] --out ../saemi-unet.onnx [--check]
BatchNorm is folded into the convolutions by the exporter in eval mode; sigmoid is inside the graph.
"""

import argparse
import sys

import numpy as np
import torch

from net import ARCHS, OUTPUT_NAMES


def export(model, out, n_out=3):
    model.eval()
    x = torch.randn(1, 1, 256, 320)
    names = list(OUTPUT_NAMES[:n_out])
    dyn = {"image": {2: "H", 3: "W"}}
    for n in names:
        dyn[n] = {2: "H", 3: "W"}
    torch.onnx.export(
        model,
        x,
        out,
        input_names=["image"],
        output_names=names,
        dynamic_axes=dyn,
        opset_version=17,
        do_constant_folding=True,
    )
    return names


def check(model, path, shapes=((1, 1, 256, 320), (1, 1, 512, 384))):
    """Max abs difference between torch and onnxruntime (python ORT if present, else onnx reference)."""
    model.eval()
    rng = np.random.default_rng(0)
    try:
        import onnxruntime as ort

        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        run = lambda a: sess.run(None, {"image": a})
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        ref = ReferenceEvaluator(path)
        run = lambda a: ref.run(None, {"image": a})
    worst = 0.0
    for s in shapes:
        a = rng.random(s, dtype=np.float32)
        with torch.no_grad():
            t = [o.numpy() for o in model(torch.from_numpy(a))]
        o = run(a)
        for ti, oi in zip(t, o):
            worst = max(worst, float(np.abs(ti - oi).max()))
    return worst


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="stem")
    ap.add_argument("--ckpt")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    m = ARCHS[a.arch]()
    if a.ckpt:
        sd = torch.load(a.ckpt, map_location="cpu")
        m.load_state_dict(sd["model"] if "model" in sd else sd)
    export(m, a.out)
    if a.check:
        print("max |torch - onnx| =", check(m, a.out), file=sys.stderr)
