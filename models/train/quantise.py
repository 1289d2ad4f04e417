"""int8 QDQ export of the shipped model (issue 23 item 3), with static calibration on training images.

  /usr/bin/python3 models/train/quantise.py augment models/saemi-unet.onnx WORK/augmented.onnx
      the model with every activation that gets quantised (the input and each Conv+Relu output) added as a graph
      output; WORK/augmented.json lists them. models/train/calibrate-int8.ts runs it through the pipeline.
  npx tsx models/train/calibrate-int8.ts WORK/augmented.onnx WORK/stats.json   (training images only)
  /usr/bin/python3 models/train/quantise.py build models/saemi-unet.onnx WORK/stats.json OUT.onnx [--range max|p9999]

The QDQ graph (onnxruntime's QDQ format, which its CPU and WASM execution providers fuse into integer kernels):
  - weights: int8, symmetric, per output channel (DequantizeLinear axis 0 on an int8 initializer);
  - biases: int32 with scale = input scale * weight scale, zero point 0 (what QLinearConv expects);
  - activations: uint8, per tensor. After a ReLU the range is [0, max] with zero point 0, so the Relu before
    QuantizeLinear is redundant and onnxruntime removes it; DQ -> Conv -> Q then becomes one QLinearConv;
  - MaxPool and Resize keep their input's scale (DQ -> op -> Q with equal parameters: onnxruntime runs them on
    uint8), Concat gets the larger of its inputs' scales;
  - the head (8 -> 3, 1x1) stays float on a dequantised input: its logits go through a sigmoid to thresholds
    near 0.5, where 8 bits of logit would be a visible step, and it costs 24 of the model's 12 k MAC per pixel.
Inputs and outputs (names, shapes, float32) are the fp32 model's, so the sidecar contract holds unchanged.
"""

import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


# Convs at full resolution with 1-16 input channels: onnxruntime's integer convolution is slower there than its
# float one (measured: full.0, top.c1, top.c2 2-3x slower in int8 on the CPU EP), so they stay float; the head
# is always float (see above). "" quantises every Conv but the head.
KEEP_FLOAT = "/full/,/top/,/head/"


def consumers(graph):
    out = {}
    for n in graph.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def producer(graph):
    return {o: n for n in graph.node for o in n.output}


def activations(model):
    """Tensors that get a QuantizeLinear: the input and every Relu output that follows a Conv."""
    g = model.graph
    prod = producer(g)
    names = [g.input[0].name]
    for n in g.node:
        if n.op_type == "Relu" and prod.get(n.input[0]) is not None and prod[n.input[0]].op_type == "Conv":
            names.append(n.output[0])
    return names


def cmd_augment(a):
    m = onnx.load(a.model)
    names = activations(m)
    have = {o.name for o in m.graph.output}
    for t in names:
        if t not in have and t != m.graph.input[0].name:
            m.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    onnx.save(m, a.out)
    json.dump({"tensors": names}, open(os.path.splitext(a.out)[0] + ".json", "w"), indent=1)
    print(f"{len(names)} tensors -> {a.out}")


def qparams_u8(lo, hi):
    """uint8 scale and zero point for [lo, hi] (widened to hold 0, so zero padding is exact)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, 1e-8)
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def cmd_build(a):
    m = onnx.load(a.model)
    g = m.graph
    stats = json.load(open(a.stats))["tensors"]
    inits = {i.name: i for i in g.initializer}
    prod = producer(g)
    cons = consumers(g)
    keep_float = [p for p in a.keep_float.split(",") if p] + ["/head/"]
    new_inits = []

    def add_init(arr, name):
        new_inits.append(numpy_helper.from_array(arr, name))
        return name

    # Which nodes run on integers: Conv unless kept float, the Relu after such a Conv, MaxPool/Resize of an
    # integer tensor, Concat of integer tensors. A tensor is integer ("q") when an integer node made it.
    qnode, qtensor = set(), set()
    for n in g.node:
        if n.op_type == "Conv":
            if not any(n.name.startswith(p) for p in keep_float):
                qnode.add(n.name)
        elif n.op_type == "Relu" and prod.get(n.input[0]) is not None and prod[n.input[0]].name in qnode:
            qnode.add(n.name)
            qtensor.add(n.output[0])
        elif n.op_type in ("MaxPool", "Resize") and n.input[0] in qtensor:
            qnode.add(n.name)
            qtensor.add(n.output[0])
        elif n.op_type == "Concat" and all(i in qtensor for i in n.input):
            qnode.add(n.name)
            qtensor.add(n.output[0])

    def rng(t):
        if t not in stats:  # MaxPool/Resize keep their input's range, Concat spans its inputs'
            p = prod[t]
            if p.op_type in ("MaxPool", "Resize"):
                return rng(p.input[0])
            if p.op_type == "Concat":
                r = [rng(i) for i in p.input]
                return min(x[0] for x in r), max(x[1] for x in r)
            raise KeyError(f"no calibrated range for {t}")
        st = stats[t]
        return st["min"], (st["max"] if a.range == "max" else st[a.range])

    # uint8 parameters of every tensor that gets a QuantizeLinear: the integer tensors, and float tensors an
    # integer Conv reads (the input; the output of a float Conv+Relu).
    qp = {}
    for n in g.node:
        o = n.output[0]
        if n.op_type == "Relu" and o in qtensor:
            qp[o] = qparams_u8(*rng(o))
        elif n.op_type in ("MaxPool", "Resize") and o in qtensor:
            qp[o] = qp[n.input[0]]
        elif n.op_type == "Concat" and o in qtensor:
            qp[o] = (np.float32(max(float(qp[i][0]) for i in n.input)), np.uint8(0))
        if n.op_type == "Conv" and n.name in qnode and n.input[0] not in qtensor:
            qp[n.input[0]] = qparams_u8(*rng(n.input[0]))

    nodes = []

    def add_qdq(t):
        scale, zp = qp[t]
        s = add_init(np.array(scale, np.float32), t + "_scale")
        z = add_init(np.array(zp, np.uint8), t + "_zp")
        nodes.append(helper.make_node("QuantizeLinear", [t, s, z], [t + "_q"], name=t + "_Q"))
        nodes.append(helper.make_node("DequantizeLinear", [t + "_q", s, z], [t + "_dq"], name=t + "_DQ"))

    def add_dq_const(values, scales, name):
        """An integer constant with one scale per output channel (zero point 0) and its DequantizeLinear;
        returns the dequantised tensor's name."""
        add_init(values, name)
        add_init(scales, name + "_scale")
        add_init(np.zeros(values.shape[0], values.dtype), name + "_zp")
        nodes.append(
            helper.make_node(
                "DequantizeLinear", [name, name + "_scale", name + "_zp"], [name + "_dq"], name=name + "_DQ", axis=0
            )
        )
        return name + "_dq"

    def rd(t, reader):
        """What `reader` reads for tensor t: Shape the uint8 tensor (same shape; leaves the DQ one reader),
        every reader of an integer tensor its dequantised copy (a Relu before Q must have Q as its only reader
        to be folded), an integer Conv the dequantised copy of a float tensor, anything else the float."""
        if t not in qp:
            return t
        if reader.op_type == "Shape":
            return t + "_q"
        if t in qtensor or reader.name in qnode:
            return t + "_dq"
        return t

    inp = g.input[0].name
    if inp in qp:
        add_qdq(inp)
    conv_count = 0
    for n in g.node:
        ins = list(n.input)
        if n.op_type == "Conv" and n.name in qnode:
            conv_count += 1
            xs = qp[ins[0]][0]
            w = numpy_helper.to_array(inits[ins[1]]).astype(np.float32)
            b = numpy_helper.to_array(inits[ins[2]]).astype(np.float32) if len(ins) > 2 else None
            amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
            ws = np.maximum(amax / 127.0, 1e-12).astype(np.float32)
            wq = np.clip(np.round(w / ws[:, None, None, None]), -127, 127).astype(np.int8)
            new_ins = [rd(ins[0], n), add_dq_const(wq, ws, ins[1] + "_i8")]
            if b is not None:
                bs = (np.float32(xs) * ws).astype(np.float32)
                bq = np.round(b / bs).astype(np.int32)
                new_ins.append(add_dq_const(bq, bs, ins[2] + "_i32"))
            nn = helper.make_node("Conv", new_ins, list(n.output), name=n.name)
        else:
            nn = helper.make_node(
                n.op_type, [rd(i, n) if i else i for i in ins], list(n.output), name=n.name, domain=n.domain
            )
        nn.attribute.extend(n.attribute)
        nodes.append(nn)
        for o in n.output:
            if o in qp:
                add_qdq(o)
    del g.node[:]
    g.node.extend(nodes)
    # Float weights the int8 ones replaced are no longer read.
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep + new_inits)
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    print(
        f"{conv_count} of {sum(n.op_type == 'Conv' for n in nodes)} Conv quantised, range {a.range}: {a.out} "
        f"({os.path.getsize(a.out) / 1e6:.2f} MB)"
    )


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("augment")
    p.add_argument("model")
    p.add_argument("out")
    p = sub.add_parser("build")
    p.add_argument("model")
    p.add_argument("stats")
    p.add_argument("out")
    p.add_argument("--range", default="max", help="max (MinMax) or a per-run percentile key of the stats (p9999)")
    p.add_argument(
        "--keep-float",
        default=KEEP_FLOAT,
        help="comma-separated node-name prefixes of Convs left in float (default: the full-resolution ones)",
    )
    a = ap.parse_args()
    {"augment": cmd_augment, "build": cmd_build}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
