"""Export a StarNet checkpoint (star_train.py) to ONNX: image [1,1,H,W] -> foreground, boundary, distance
[1,1,H,W] and rays [1,N_RAYS,H/2,W/2] (px at the input's scale). BatchNorm folds into the convolutions.

  python3 models/train/star_export.py --ckpt RUN/last.pt --out RUN/star.onnx
"""

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from net import ARCHS  # noqa: E402
from star import StarNet  # noqa: E402

NAMES = ["foreground", "boundary", "distance", "rays"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    m = StarNet(ARCHS["stem"]())
    m.load_state_dict(torch.load(a.ckpt, map_location="cpu")["model"])
    m.eval()
    dyn = {"image": {2: "H", 3: "W"}}
    for n in NAMES[:3]:
        dyn[n] = {2: "H", 3: "W"}
    dyn["rays"] = {2: "h", 3: "w"}
    torch.onnx.export(m, torch.randn(1, 1, 256, 320), a.out, input_names=["image"], output_names=NAMES,
                      dynamic_axes=dyn, opset_version=17, do_constant_folding=True)
    try:
        import onnxruntime as ort

        x = np.random.default_rng(0).random((1, 1, 192, 256), dtype=np.float32)
        got = ort.InferenceSession(a.out, providers=["CPUExecutionProvider"]).run(None, {"image": x})
        with torch.no_grad():
            want = [t.numpy() for t in m(torch.from_numpy(x))]
        print("max |torch - onnx| =", max(float(np.abs(g - w).max()) for g, w in zip(got, want)))
    except ImportError:
        print("onnxruntime (python) not installed: export not cross-checked here")
    print("wrote", a.out, os.path.getsize(a.out), "bytes")


if __name__ == "__main__":
    main()
