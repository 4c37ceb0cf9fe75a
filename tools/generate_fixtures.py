#!/usr/bin/python3
"""Generate ONNX test fixtures for Acp.

Usage:
    /usr/bin/python3 tools/generate_fixtures.py --out DIR [--only NAME ...] [--force] [--list] [--verbose]

Needs torch, torchvision, onnx and numpy (Debian: python3-torch, python3-torchvision,
python3-onnx). No network access is needed: every model is randomly initialised with a
fixed seed (weights=None).

Writes into DIR:

* ``<model>.folded.onnx`` and ``<model>.bn.onnx`` for resnet18, resnet50, mobilenet_v2,
  densenet121 and vgg11_bn (num_classes=10, input [batch,3,64,64], dynamic batch).
  ``folded`` is a plain eval-mode export (torch folds BatchNorm into a preceding Conv
  where it can); ``bn`` is exported with TrainingMode.PRESERVE on the eval-mode model,
  so every BatchNormalization node is kept, in inference form (1 output).
  Next to each: ``<model>.<form>.input.f32`` (x = torch.randn(1,3,64,64) after
  torch.manual_seed(1)) and ``<model>.<form>.expected.f32`` (the eval-mode PyTorch
  model's output for x), raw little-endian float32, C order.
* ``edge_<case>.onnx``: tiny hand-built graphs (opset 13, ir_version 8) covering
  awkward topologies. ``edge_unknown_op.noort.onnx`` uses a custom-domain op and
  cannot run in onnxruntime.
* ``tiny_mlp.onnx`` and ``tiny_cnn.onnx``: very small seeds for fuzz tests.
* ``manifest.json``: one JSON object keyed by the .onnx file name (see README.md).
* ``.stamp``: hash of this script's source and the library versions. When it matches
  and every file is present, the script prints "fixtures up to date" and exits 0
  without importing torch.

Every file is written atomically (temp name, then os.replace); a lock file
(DIR/.lock) serialises concurrent runs on the same DIR.
"""

import argparse
import collections
import fcntl
import hashlib
import importlib.metadata
import io
import json
import os
import sys
import time
import warnings
import zlib

MANIFEST = "manifest.json"
STAMP = ".stamp"
OPSET = 13
EDGE_IR_VERSION = 8
TV_INPUT_SHAPE = [1, 3, 64, 64]
TV_NUM_CLASSES = 10
TV_MODELS = ["resnet18", "resnet50", "mobilenet_v2", "densenet121", "vgg11_bn"]
# Ops whose initializer inputs count as parameters: op -> input indices.
# None = every input that is (or resolves through Identity to) a float initializer.
PARAM_INPUTS = {"Conv": (1, 2), "Gemm": (1, 2), "MatMul": None, "BatchNormalization": (1, 2),
                # A float initializer of more than one element added or multiplied in is a learned bias or scale
                # (nn.Linear exported as MatMul + Add); scalar constants are not parameters.
                "Add": "tensor", "Sub": "tensor", "Mul": "tensor", "Div": "tensor"}


# --------------------------------------------------------------------------- utils

def lib_version(pkg):
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def compute_stamp():
    h = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    for pkg in ("torch", "torchvision", "onnx", "numpy"):
        h.update(("\n%s=%s" % (pkg, lib_version(pkg))).encode())
    return h.hexdigest()


def write_atomic(path, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_text(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def op_histogram(model):
    c = collections.Counter(
        (n.op_type if n.domain in ("", "ai.onnx") else "%s::%s" % (n.domain, n.op_type))
        for n in model.graph.node)
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def float_initializers(model):
    from onnx import TensorProto
    return {t.name: t for t in model.graph.initializer
            if t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE,
                               TensorProto.BFLOAT16)}


def numel(t):
    n = 1
    for d in t.dims:
        n *= d
    return n


def onnx_param_count(model):
    """Per-use count of float initializer elements feeding Conv (W, B), Gemm (B, C),
    MatMul (A, B), BatchNormalization (scale, bias only) and non-scalar operands of
    Add/Sub/Mul/Div, looking through Identity
    nodes whose input is an initializer (torch's initializer de-duplication)."""
    inits = float_initializers(model)
    alias = {}
    for n in model.graph.node:
        if n.op_type == "Identity" and n.input and n.input[0] in inits:
            alias[n.output[0]] = n.input[0]
    total = 0
    for n in model.graph.node:
        if n.op_type not in PARAM_INPUTS:
            continue
        idx = PARAM_INPUTS[n.op_type]
        for i, name in enumerate(n.input):
            if isinstance(idx, tuple) and i not in idx:
                continue
            src = alias.get(name, name)
            if src in inits and (idx != "tensor" or numel(inits[src]) > 1):
                total += numel(inits[src])
    return total


def onnx_mac_count(model):
    """MACs of Conv/Gemm/MatMul from ONNX shape inference (symbolic/unknown dims = 1)."""
    import onnx
    from onnx import shape_inference
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in m.graph.input:
        for d in vi.type.tensor_type.shape.dim:
            if not d.HasField("dim_value"):
                d.dim_value = 1
    m = shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    shapes = {}
    for vi in list(m.graph.input) + list(m.graph.value_info) + list(m.graph.output):
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else 1 for d in dims]
    for t in m.graph.initializer:
        shapes[t.name] = list(t.dims)

    def prod(xs):
        p = 1
        for x in xs:
            p *= x
        return p

    macs = 0
    for n in m.graph.node:
        if n.op_type == "Conv":
            w = shapes[n.input[1]]
            macs += prod(shapes[n.output[0]]) * prod(w[1:])
        elif n.op_type == "Gemm":
            # K and N from B (usually a weight; A's shape may be unknown after a
            # data-dependent Reshape), M from A if known, else from the output.
            b = shapes.get(n.input[1], [])
            tb = next((at.i for at in n.attribute if at.name == "transB"), 0)
            k, nn = (b[1], b[0]) if tb else (b[0], b[1])
            a = shapes.get(n.input[0], [])
            ta = next((at.i for at in n.attribute if at.name == "transA"), 0)
            if len(a) == 2:
                mm = a[1] if ta else a[0]
            else:
                mm = shapes[n.output[0]][0]
            macs += mm * nn * k
        elif n.op_type == "MatMul":
            a = shapes.get(n.input[0], [])
            b = shapes.get(n.input[1], [])
            k = a[-1] if a else b[-2]
            out = shapes.get(n.output[0], [])
            if len(out) < max(len(a), len(b)):
                raise ValueError("MatMul %s: output shape unknown" % n.name)
            macs += prod(out) * k
    return macs


def expand_identity_initializers(model):
    """torch.onnx (eval mode) de-duplicates equal initializers and re-creates the copies
    with Identity nodes. Undo that: each such Identity becomes its own initializer with
    the Identity's output name, so every weight has exactly one consumer. Returns count."""
    from onnx import numpy_helper
    g = model.graph
    outputs = {o.name for o in g.output}
    expanded = 0
    changed = True
    while changed:
        changed = False
        inits = {t.name: t for t in g.initializer}
        keep = []
        for n in g.node:
            if (n.op_type == "Identity" and len(n.input) == 1 and n.input[0] in inits
                    and n.output[0] not in outputs):
                arr = numpy_helper.to_array(inits[n.input[0]])
                g.initializer.append(numpy_helper.from_array(arr, n.output[0]))
                expanded += 1
                changed = True
            else:
                keep.append(n)
        if changed:
            del g.node[:]
            g.node.extend(keep)
    # Drop initializers nobody reads any more.
    used = {i for n in g.node for i in n.input} | outputs
    unused = [t for t in g.initializer if t.name not in used]
    for t in unused:
        g.initializer.remove(t)
    return expanded


def file_digest(data):
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ torchvision part

def build_torchvision(name):
    import torch
    import torchvision
    notes = []
    ctor = getattr(torchvision.models, name)
    model = ctor(weights=None, num_classes=TV_NUM_CLASSES)
    if name == "vgg11_bn":
        # torchvision's VGG head is AdaptiveAvgPool(7x7) + Linear(25088, 4096) + ... (~120M
        # params); at 64x64 the features are 2x2 and 2x2 -> 7x7 adaptive pooling is not
        # exportable. Keep the 2x2 map (pool is an identity AveragePool k=1 in ONNX) so the
        # Flatten still maps each channel to 4 Gemm inputs, as in the real VGG.
        model.avgpool = torch.nn.AdaptiveAvgPool2d((2, 2))
        model.classifier = torch.nn.Sequential(
            torch.nn.Linear(512 * 2 * 2, 64), torch.nn.ReLU(True), torch.nn.Dropout(),
            torch.nn.Linear(64, TV_NUM_CLASSES))
        notes.append("vgg11_bn modified: avgpool=AdaptiveAvgPool2d((2,2)), classifier="
                     "Linear(2048,64)-ReLU-Dropout-Linear(64,10) (default torch init)")
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            bn.running_mean.copy_(torch.randn_like(bn.running_mean) * 0.1)
            bn.running_var.copy_(torch.rand_like(bn.running_var) + 0.5)
            bn.weight.copy_(torch.rand_like(bn.weight) + 0.5)
            bn.bias.copy_(torch.randn_like(bn.bias) * 0.1)
    model.eval()
    return model, notes


def pytorch_macs(model, x):
    import torch
    total = [0]

    def conv_hook(m, inp, out):
        kh_kw = 1
        for k in m.kernel_size:
            kh_kw *= k
        total[0] += out.numel() * (m.in_channels // m.groups) * kh_kw

    def linear_hook(m, inp, out):
        total[0] += m.in_features * m.out_features * (out.numel() // m.out_features)

    hooks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, torch.nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0]


def pytorch_fused(model):
    """Conv->BN fusion in PyTorch with torch.fx (same rule as torch.onnx's eval peephole:
    the BN must consume a Conv output that has no other user). Returns (fused, n_fused)."""
    import torch
    from torch.fx.experimental.optimization import fuse
    n_bn_before = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    fused = fuse(model, inplace=False)
    n_bn_after = sum(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    return fused, n_bn_before - n_bn_after, n_bn_after


def conv_bn_pairs(model):
    import torch
    import torch.fx
    gm = torch.fx.symbolic_trace(model)
    mods = dict(gm.named_modules())
    pairs = []
    for n in gm.graph.nodes:
        if n.op != "call_module" or not isinstance(mods[n.target], torch.nn.BatchNorm2d):
            continue
        src = n.args[0]
        if (isinstance(src, torch.fx.Node) and src.op == "call_module"
                and isinstance(mods[src.target], torch.nn.Conv2d) and len(src.users) == 1):
            pairs.append((mods[src.target], mods[n.target]))
    return pairs


def export_onnx(model, x, keep_bn):
    import torch
    import onnx
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, x, f, opset_version=OPSET, input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            training=(torch.onnx.TrainingMode.PRESERVE if keep_bn
                      else torch.onnx.TrainingMode.EVAL),
            do_constant_folding=not keep_bn)
    return onnx.load_from_string(f.getvalue())


def gen_torchvision(name, out_dir, warn):
    import numpy as np
    import onnx
    import torch
    import torchvision

    t0 = time.time()
    torch.manual_seed(0)
    model, notes = build_torchvision(name)
    torch.manual_seed(1)
    x = torch.randn(*TV_INPUT_SHAPE)
    with torch.no_grad():
        y = model(x)
    params_pt = sum(p.numel() for p in model.parameters())
    macs = pytorch_macs(model, x)

    fused, n_fused, n_bn_left = pytorch_fused(model)
    params_fused = sum(p.numel() for p in fused.parameters())
    with torch.no_grad():
        yf = fused(x)
    fuse_err = float((yf - y).abs().max())
    if fuse_err > 1e-3:
        warn("%s: fx-fused PyTorch model differs from original by %.3g" % (name, fuse_err))
    # The same number by formula, as a cross-check of the fx fusion: minus each fused BN's
    # weight+bias, plus out_channels for each fused conv that had no bias.
    pairs = conv_bn_pairs(model)
    params_formula = params_pt - sum(bn.weight.numel() + bn.bias.numel() for _, bn in pairs) \
        + sum(conv.out_channels for conv, _ in pairs if conv.bias is None)
    if params_formula != params_fused or len(pairs) != n_fused:
        warn("%s: formula params %d (%d pairs) != fx-fused params %d (%d fused)"
             % (name, params_formula, len(pairs), params_fused, n_fused))
    x_bytes = x.numpy().astype("<f4").tobytes()
    y_bytes = y.numpy().astype("<f4").tobytes()

    entries = {}
    lines = []
    for form, keep_bn in (("folded", False), ("bn", True)):
        te = time.time()
        om = export_onnx(model, x, keep_bn)
        n_expanded = expand_identity_initializers(om)
        onnx.checker.check_model(om, full_check=True)
        hist = op_histogram(om)
        bn_nodes = [n for n in om.graph.node if n.op_type == "BatchNormalization"]
        for n in bn_nodes:
            tm = next((a.i for a in n.attribute if a.name == "training_mode"), 0)
            if len(n.output) != 1 or tm != 0:
                warn("%s.%s: BatchNormalization %s is not in inference form"
                     % (name, form, n.name))
        expected_params = params_pt if keep_bn else params_fused
        expected_bn = (n_fused + n_bn_left) if keep_bn else n_bn_left
        if len(bn_nodes) != expected_bn:
            warn("%s.%s: %d BatchNormalization nodes in ONNX, expected %d"
                 % (name, form, len(bn_nodes), expected_bn))
        onnx_params = onnx_param_count(om)
        if onnx_params != expected_params:
            warn("%s.%s: ONNX initializer count %d != params_expected %d"
                 % (name, form, onnx_params, expected_params))
        onnx_macs = onnx_mac_count(om)
        if onnx_macs != macs:
            warn("%s.%s: ONNX shape-inferred MACs %d != PyTorch hook MACs %d"
                 % (name, form, onnx_macs, macs))
        data = om.SerializeToString()
        base = "%s.%s" % (name, form)
        fname = base + ".onnx"
        write_atomic(os.path.join(out_dir, base + ".input.f32"), x_bytes)
        write_atomic(os.path.join(out_dir, base + ".expected.f32"), y_bytes)
        write_atomic(os.path.join(out_dir, fname), data)
        entry = collections.OrderedDict()
        entry["kind"] = "torchvision"
        entry["model"] = name
        entry["form"] = form
        entry["bn_kept"] = keep_bn
        entry["batchnorm_nodes"] = len(bn_nodes)
        entry["params_pytorch"] = params_pt
        entry["params_expected"] = expected_params
        entry["params_method"] = (
            "sum of model.parameters() numel" if keep_bn else
            "torch.fx.experimental.optimization.fuse (fuse_conv_bn_eval on every Conv2d->"
            "BatchNorm2d pair whose conv output has a single user, the rule torch.onnx uses) "
            "then sum of parameters(); %d BN fused, %d BN left" % (n_fused, n_bn_left))
        entry["params_onnx_check"] = onnx_params
        entry["macs_expected"] = macs
        entry["macs_method"] = ("PyTorch forward hooks, batch 1: Conv2d out.numel()*(Cin/groups)"
                                "*kh*kw, Linear in*out*(leading dims); bias not counted")
        entry["macs_onnx_check"] = onnx_macs
        entry["float_initializer_elements"] = sum(numel(t) for t in float_initializers(om).values())
        entry["input_name"] = "input"
        entry["output_name"] = "logits"
        entry["input_shape"] = list(TV_INPUT_SHAPE)
        entry["output_shape"] = [1, TV_NUM_CLASSES]
        entry["dynamic_axes"] = {"input": {"0": "batch"}, "logits": {"0": "batch"}}
        entry["opset"] = OPSET
        entry["ir_version"] = om.ir_version
        entry["runs_in_ort"] = True
        entry["input_file"] = base + ".input.f32"
        entry["expected_file"] = base + ".expected.f32"
        entry["expected_note"] = ("output of the eval-mode PyTorch model (unfused) for "
                                  "x = torch.randn(1,3,64,64) after torch.manual_seed(1); "
                                  "raw little-endian float32")
        entry["fx_fusion_max_abs_diff"] = fuse_err
        entry["identity_initializers_expanded"] = n_expanded
        entry["op_histogram"] = hist
        entry["seed"] = "torch.manual_seed(0) before construction; BN running_mean=N(0,1)*0.1, " \
                        "running_var=U(0.5,1.5), weight=U(0.5,1.5), bias=N(0,1)*0.1"
        entry["export"] = ("torch.onnx.export opset 13, " +
                           ("training=PRESERVE, do_constant_folding=False (model in eval mode)"
                            if keep_bn else "training=EVAL, do_constant_folding=True"))
        entry["notes"] = notes
        entry["bytes"] = len(data)
        entry["sha256"] = file_digest(data)
        entry["torch_version"] = torch.__version__
        entry["torchvision_version"] = torchvision.__version__
        entry["onnx_version"] = onnx.__version__
        entries[fname] = entry
        lines.append("%s %.1fs" % (form, time.time() - te))
    print("%-22s params %d (folded %d)  MACs %d  BN %d fused/%d left  [%s]  %.1fs"
          % (name, params_pt, params_fused, macs, n_fused, n_bn_left, ", ".join(lines),
             time.time() - t0), flush=True)
    return entries


def tv_files(name):
    out = []
    for form in ("folded", "bn"):
        base = "%s.%s" % (name, form)
        out += [base + ".onnx", base + ".input.f32", base + ".expected.f32"]
    return out


# ------------------------------------------------------------------- hand-built part

class Graph:
    def __init__(self, name):
        import numpy as np
        self.name = name
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.nodes = []
        self.inits = []
        self.counter = collections.Counter()

    def fresh(self, prefix):
        self.counter[prefix] += 1
        return "%s_%d" % (prefix, self.counter[prefix])

    def init(self, name, array):
        from onnx import numpy_helper
        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def rand(self, name, shape, scale=0.1):
        import numpy as np
        return self.init(name, (self.rng.standard_normal(shape) * scale).astype(np.float32))

    def i64(self, name, values):
        import numpy as np
        return self.init(name, np.array(values, dtype=np.int64))

    def f32(self, name, values):
        import numpy as np
        return self.init(name, np.array(values, dtype=np.float32))

    def node(self, op, inputs, n_out=1, outputs=None, domain=None, **attrs):
        from onnx import helper
        name = self.fresh(op)
        if outputs is None:
            outputs = ["%s_out%d" % (name, i) if n_out > 1 else name + "_out"
                       for i in range(n_out)]
        kw = {"name": name}
        if domain:
            kw["domain"] = domain
        self.nodes.append(helper.make_node(op, list(inputs), list(outputs), **kw, **attrs))
        return outputs[0] if len(outputs) == 1 else outputs

    def conv(self, x, cin, cout, k=3, pad=None, stride=1, group=1, bias=True, out=None):
        pad = (k // 2) if pad is None else pad
        name = self.fresh("conv")
        w = self.rand(name + ".weight", (cout, cin // group, k, k))
        ins = [x, w]
        if bias:
            ins.append(self.rand(name + ".bias", (cout,)))
        return self.node("Conv", ins, outputs=[out] if out else None, kernel_shape=[k, k],
                         pads=[pad] * 4, strides=[stride, stride], group=group)

    def bn(self, x, c):
        import numpy as np
        name = self.fresh("bn")
        scale = self.init(name + ".weight", (self.rng.uniform(0.5, 1.5, c)).astype(np.float32))
        bias = self.rand(name + ".bias", (c,))
        mean = self.rand(name + ".running_mean", (c,))
        var = self.init(name + ".running_var", (self.rng.uniform(0.5, 1.5, c)).astype(np.float32))
        return self.node("BatchNormalization", [x, scale, bias, mean, var], epsilon=1e-5,
                         momentum=0.9)

    def model(self, in_shape, out_shape, extra_opsets=()):
        from onnx import helper, TensorProto
        g = helper.make_graph(
            self.nodes, self.name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
            initializer=self.inits)
        opsets = [helper.make_opsetid("", OPSET)] + [helper.make_opsetid(d, v)
                                                     for d, v in extra_opsets]
        m = helper.make_model(g, opset_imports=opsets, producer_name="acp-generate_fixtures",
                              producer_version="1")
        m.ir_version = EDGE_IR_VERSION
        return m


HW = 8 * 8  # spatial size of the default 8x8 edge-case input (pads keep it 8x8)


def edge_concat_same_twice():
    g = Graph("edge_concat_same_twice")
    y = g.conv("input", 3, 4)
    c = g.node("Concat", [y, y], axis=1)
    g.conv(c, 8, 2, out="output")
    return (g.model([1, 3, 8, 8], [1, 2, 8, 8]),
            (4 * 3 * 9 + 4) + (2 * 8 * 9 + 2),
            HW * 4 * 3 * 9 + HW * 2 * 8 * 9,
            "Conv(3->4) -> Concat([y, y], axis=1) -> Conv(8->2); one tensor feeds Concat twice")


def edge_one_channel_conv():
    g = Graph("edge_one_channel_conv")
    y = g.conv("input", 3, 1)
    r = g.node("Relu", [y])
    g.conv(r, 1, 4, out="output")
    return (g.model([1, 3, 8, 8], [1, 4, 8, 8]),
            (1 * 27 + 1) + (4 * 9 + 4),
            HW * 1 * 27 + HW * 4 * 1 * 9,
            "Conv(3->1) -> Relu -> Conv(1->4); a 1-channel layer that must not be pruned to 0")


def edge_split_after_concat():
    g = Graph("edge_split_after_concat")
    a = g.conv("input", 3, 4)
    b = g.conv("input", 3, 6)
    c = g.node("Concat", [a, b], axis=1)
    s = g.i64("split_sizes", [5, 5])
    p, q = g.node("Split", [c, s], n_out=2, axis=1)
    p2 = g.conv(p, 5, 3)
    q2 = g.conv(q, 5, 3)
    g.node("Add", [p2, q2], outputs=["output"])
    return (g.model([1, 3, 8, 8], [1, 3, 8, 8]),
            (4 * 27 + 4) + (6 * 27 + 6) + 2 * (3 * 5 * 9 + 3),
            HW * 4 * 27 + HW * 6 * 27 + 2 * HW * 3 * 5 * 9,
            "Conv(3->4), Conv(3->6) -> Concat (10) -> Split [5,5] (sizes as int64 input) -> "
            "Conv(5->3) x2 -> Add; split boundary straddles the concat boundary")


def edge_flatten_gemm():
    g = Graph("edge_flatten_gemm")
    y = g.conv("input", 3, 4)
    r = g.node("Relu", [y])
    f = g.node("Flatten", [r], axis=1)
    w = g.rand("fc.weight", (5, 4 * 6 * 6))
    b = g.rand("fc.bias", (5,))
    g.node("Gemm", [f, w, b], outputs=["output"], transB=1)
    return (g.model([1, 3, 6, 6], [1, 5]),
            (4 * 27 + 4) + (5 * 144 + 5),
            36 * 4 * 27 + 144 * 5,
            "Conv(3->4) on 1x3x6x6 -> Relu -> Flatten (144) -> Gemm(transB=1) -> 5; each conv "
            "channel owns 36 consecutive Gemm input columns")


def edge_reshape_explicit():
    g = Graph("edge_reshape_explicit")
    y = g.conv("input", 3, 4)
    shp = g.i64("reshape_shape", [1, 4 * 8 * 8])
    r = g.node("Reshape", [y, shp])
    w = g.rand("fc.weight", (256, 5))
    g.node("MatMul", [r, w], outputs=["output"])
    return (g.model([1, 3, 8, 8], [1, 5]),
            (4 * 27 + 4) + 256 * 5,
            HW * 4 * 27 + 256 * 5,
            "Conv(3->4) -> Reshape to [1,256] via an int64 initializer with explicit numbers "
            "(no -1/0) -> MatMul [256,5]; pruning must rewrite the shape constant")


def edge_clip_minmax():
    g = Graph("edge_clip_minmax")
    y = g.conv("input", 3, 4)
    lo = g.f32("clip_min", 0.0)
    hi = g.f32("clip_max", 6.0)
    c = g.node("Clip", [y, lo, hi])
    g.conv(c, 4, 2, out="output")
    return (g.model([1, 3, 8, 8], [1, 2, 8, 8]),
            (4 * 27 + 4) + (2 * 4 * 9 + 2),
            HW * 4 * 27 + HW * 2 * 4 * 9,
            "Conv(3->4) -> Clip(min=0, max=6 as scalar float initializers) -> Conv(4->2); the "
            "scalar initializers are not parameters and must not be sliced")


def edge_residual_add():
    g = Graph("edge_residual_add")
    s = g.conv("input", 3, 4)
    x = g.node("Relu", [s])
    a = g.conv(x, 4, 4, bias=False)
    a = g.bn(a, 4)
    a = g.node("Relu", [a])
    a = g.conv(a, 4, 4, bias=False)
    a = g.bn(a, 4)
    z = g.node("Add", [a, x])
    g.node("Relu", [z], outputs=["output"])
    return (g.model([1, 3, 8, 8], [1, 4, 8, 8]),
            (4 * 27 + 4) + 2 * (4 * 4 * 9) + 2 * (4 + 4),
            HW * 4 * 27 + 2 * HW * 4 * 4 * 9,
            "stem Conv(3->4)+Relu = x; block Conv(no bias)->BN->Relu->Conv(no bias)->BN; "
            "Add(block, x) -> Relu; stem and block output channels are coupled")


def edge_depthwise():
    g = Graph("edge_depthwise")
    y = g.conv("input", 3, 8)
    d = g.conv(y, 8, 8, group=8)
    g.conv(d, 8, 4, k=1, out="output")
    return (g.model([1, 3, 8, 8], [1, 4, 8, 8]),
            (8 * 27 + 8) + (8 * 1 * 9 + 8) + (4 * 8 + 4),
            HW * 8 * 27 + HW * 8 * 1 * 9 + HW * 4 * 8,
            "Conv(3->8) -> depthwise Conv(group=8, 8->8) -> pointwise Conv(8->4, k=1)")


def edge_shape_gather_reshape():
    # Mirrors what torch.onnx.export (opset 13, do_constant_folding=False, dynamic batch)
    # emits for `x.view(x.size(0), -1)` followed by nn.Linear.
    from onnx import helper, TensorProto
    import numpy as np
    g = Graph("edge_shape_gather_reshape")
    y = g.conv("input", 3, 4)
    r = g.node("Relu", [y])
    shp = g.node("Shape", [r])

    def const(name, arr):
        return g.node("Constant", [], outputs=[name],
                      value=helper.make_tensor(name, TensorProto.INT64, list(arr.shape),
                                               arr.flatten().tolist()))

    c0 = const("gather_index", np.array(0, dtype=np.int64))
    gathered = g.node("Gather", [shp, c0], axis=0)
    cm1 = const("minus_one", np.array(-1, dtype=np.int64))
    ax0 = const("unsqueeze_axes_0", np.array([0], dtype=np.int64))
    u0 = g.node("Unsqueeze", [gathered, ax0])
    ax1 = const("unsqueeze_axes_1", np.array([0], dtype=np.int64))
    u1 = g.node("Unsqueeze", [cm1, ax1])
    cat = g.node("Concat", [u0, u1], axis=0)
    flat = g.node("Reshape", [r, cat])
    w = g.rand("fc.weight", (5, 256))
    b = g.rand("fc.bias", (5,))
    g.node("Gemm", [flat, w, b], outputs=["output"], alpha=1.0, beta=1.0, transB=1)
    return (g.model(["batch", 3, 8, 8], ["batch", 5]),
            (4 * 27 + 4) + (5 * 256 + 5),
            HW * 4 * 27 + 256 * 5,
            "Conv(3->4) -> Relu -> Shape -> Gather(axis 0, idx 0) -> Unsqueeze, Concat with "
            "[-1] -> Reshape -> Gemm(transB=1); torch-style view(x.size(0), -1), dynamic batch")


def edge_grouped_conv():
    g = Graph("edge_grouped_conv")
    y = g.conv("input", 3, 4)
    r = g.node("Relu", [y])
    gc = g.conv(r, 4, 8, group=2)
    g.conv(gc, 8, 2, out="output")
    return (g.model([1, 3, 8, 8], [1, 2, 8, 8]),
            (4 * 27 + 4) + (8 * 2 * 9 + 8) + (2 * 8 * 9 + 2),
            HW * 4 * 27 + HW * 8 * 2 * 9 + HW * 2 * 8 * 9,
            "Conv(3->4) -> Relu -> Conv(4->8, group=2, W [8,2,3,3]) -> Conv(8->2)")


def edge_unknown_op():
    g = Graph("edge_unknown_op")
    y = g.conv("input", 3, 4)
    m = g.node("Mystery", [y], domain="com.acp.test")
    g.conv(m, 4, 2, out="output")
    return (g.model([1, 3, 8, 8], [1, 2, 8, 8], extra_opsets=[("com.acp.test", 1)]),
            (4 * 27 + 4) + (2 * 4 * 9 + 2),
            HW * 4 * 27 + HW * 2 * 4 * 9,
            "Conv(3->4) -> com.acp.test::Mystery (unknown, assumed shape-preserving) -> "
            "Conv(4->2); cannot run in onnxruntime")


def edge_maxpool_avgpool_pad():
    g = Graph("edge_maxpool_avgpool_pad")
    y = g.conv("input", 3, 4)
    mp = g.node("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    pads = g.i64("pad_pads", [0, 0, 1, 1, 0, 0, 1, 1])
    pv = g.f32("pad_value", 0.0)
    p = g.node("Pad", [mp, pads, pv], mode="constant")
    ap = g.node("AveragePool", [p], kernel_shape=[2, 2], strides=[2, 2])
    gap = g.node("GlobalAveragePool", [ap])
    f = g.node("Flatten", [gap], axis=1)
    w = g.rand("fc.weight", (5, 4))
    b = g.rand("fc.bias", (5,))
    g.node("Gemm", [f, w, b], outputs=["output"], transB=1)
    return (g.model([1, 3, 8, 8], [1, 5]),
            (4 * 27 + 4) + (5 * 4 + 5),
            HW * 4 * 27 + 4 * 5,
            "Conv(3->4) -> MaxPool(k3,s2,p1) 4x4 -> Pad(+1 each side, pads as int64 input) "
            "6x6 -> AveragePool(k2,s2) 3x3 -> GlobalAveragePool -> Flatten -> Gemm -> 5")


def edge_identity_shared_bias():
    # The pattern torch.onnx's initializer de-duplication produces (e.g. for VGG's zero conv
    # biases): the second conv's bias is an Identity of the first conv's bias initializer.
    import numpy as np
    g = Graph("edge_identity_shared_bias")
    b0 = g.f32("conv_1.bias", np.zeros(4, dtype=np.float32))
    w1 = g.rand("conv_1.weight", (4, 3, 3, 3))
    y = g.node("Conv", ["input", w1, b0], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    r = g.node("Relu", [y])
    b1 = g.node("Identity", [b0], outputs=["conv_2.bias"])
    w2 = g.rand("conv_2.weight", (4, 4, 3, 3))
    g.node("Conv", [r, w2, b1], outputs=["output"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    return (g.model([1, 3, 8, 8], [1, 4, 8, 8]),
            (4 * 27 + 4) + (4 * 36 + 4),
            HW * 4 * 27 + HW * 4 * 4 * 9,
            "Conv(3->4, bias B) -> Relu -> Conv(4->4, bias Identity(B)); torch-style shared "
            "initializer: slicing B for conv_1 must not change conv_2's bias. params_expected "
            "counts per use (B twice); stored float elements are 4 fewer")


def tiny_mlp():
    g = Graph("tiny_mlp")
    w1 = g.rand("fc1.weight", (16, 32))
    b1 = g.rand("fc1.bias", (32,))
    h = g.node("MatMul", ["input", w1])
    h = g.node("Add", [h, b1])
    h = g.node("Relu", [h])
    w2 = g.rand("fc2.weight", (32, 4))
    g.node("MatMul", [h, w2], outputs=["output"])
    return (g.model([1, 16], [1, 4]),
            16 * 32 + 32 + 32 * 4,
            16 * 32 + 32 * 4,
            "MatMul(16->32) -> Add(bias) -> Relu -> MatMul(32->4): an nn.Linear exported as MatMul + Add, "
            "so the Add's bias (32) is a parameter")


def tiny_cnn():
    g = Graph("tiny_cnn")
    y = g.conv("input", 3, 4)
    r = g.node("Relu", [y])
    p = g.node("MaxPool", [r], kernel_shape=[2, 2], strides=[2, 2])
    f = g.node("Flatten", [p], axis=1)
    w = g.rand("fc.weight", (3, 64))
    b = g.rand("fc.bias", (3,))
    g.node("Gemm", [f, w, b], outputs=["output"], transB=1)
    return (g.model([1, 3, 8, 8], [1, 3]),
            (4 * 27 + 4) + (3 * 64 + 3),
            HW * 4 * 27 + 64 * 3,
            "Conv(3->4) -> Relu -> MaxPool(k2,s2) -> Flatten (64) -> Gemm(transB=1) -> 3")


HAND_BUILT = collections.OrderedDict([
    ("edge_concat_same_twice", edge_concat_same_twice),
    ("edge_one_channel_conv", edge_one_channel_conv),
    ("edge_split_after_concat", edge_split_after_concat),
    ("edge_flatten_gemm", edge_flatten_gemm),
    ("edge_reshape_explicit", edge_reshape_explicit),
    ("edge_clip_minmax", edge_clip_minmax),
    ("edge_residual_add", edge_residual_add),
    ("edge_depthwise", edge_depthwise),
    ("edge_shape_gather_reshape", edge_shape_gather_reshape),
    ("edge_grouped_conv", edge_grouped_conv),
    ("edge_unknown_op", edge_unknown_op),
    ("edge_maxpool_avgpool_pad", edge_maxpool_avgpool_pad),
    ("edge_identity_shared_bias", edge_identity_shared_bias),
    ("tiny_mlp", tiny_mlp),
    ("tiny_cnn", tiny_cnn),
])
NO_ORT = {"edge_unknown_op"}


def hand_file(name):
    return name + (".noort.onnx" if name in NO_ORT else ".onnx")


def gen_hand_built(name, out_dir, warn):
    import onnx
    t0 = time.time()
    model, params_expected, macs_expected, desc = HAND_BUILT[name]()
    runs_in_ort = name not in NO_ORT
    if runs_in_ort:
        # full_check runs strict shape inference: declared output shape must agree.
        onnx.checker.check_model(model, full_check=True)
        macs_check = onnx_mac_count(model)
        if macs_check != macs_expected:
            raise RuntimeError("%s: hand MACs %d != shape-inferred MACs %d"
                               % (name, macs_expected, macs_check))
    else:
        onnx.checker.check_model(model)
        macs_check = None
    params_check = onnx_param_count(model)
    if params_check != params_expected:
        raise RuntimeError("%s: hand params %d != initializer count %d"
                           % (name, params_expected, params_check))
    data = model.SerializeToString()
    fname = hand_file(name)
    write_atomic(os.path.join(out_dir, fname), data)
    in_vi = model.graph.input[0].type.tensor_type.shape.dim
    out_vi = model.graph.output[0].type.tensor_type.shape.dim
    shape = lambda dims: [d.dim_value if d.HasField("dim_value") else d.dim_param for d in dims]
    entry = collections.OrderedDict()
    entry["kind"] = "tiny" if name.startswith("tiny_") else "edge"
    entry["model"] = name
    entry["description"] = desc
    entry["params_expected"] = params_expected
    entry["params_method"] = ("hand formula; float initializers feeding Conv W/B, Gemm, MatMul "
                              "and BatchNormalization scale/bias (per use, through Identity); "
                              "not Clip min/max, Reshape shapes, Split sizes, Pad pads")
    entry["macs_expected"] = macs_expected
    entry["macs_method"] = "hand formula, checked against ONNX shape inference" if runs_in_ort \
        else "hand formula (Mystery assumed shape-preserving)"
    entry["float_initializer_elements"] = sum(numel(t) for t in float_initializers(model).values())
    entry["batchnorm_nodes"] = sum(n.op_type == "BatchNormalization" for n in model.graph.node)
    entry["input_name"] = "input"
    entry["output_name"] = "output"
    entry["input_shape"] = shape(in_vi)
    entry["output_shape"] = shape(out_vi)
    entry["opset"] = OPSET
    entry["ir_version"] = model.ir_version
    entry["runs_in_ort"] = runs_in_ort
    entry["op_histogram"] = op_histogram(model)
    entry["seed"] = "numpy default_rng(crc32(%r)), weights N(0,1)*0.1" % name
    entry["bytes"] = len(data)
    entry["sha256"] = file_digest(data)
    entry["onnx_version"] = onnx.__version__
    print("%-26s params %d  MACs %d  %d bytes  %.2fs"
          % (fname, params_expected, macs_expected, len(data), time.time() - t0), flush=True)
    return {fname: entry}


# ------------------------------------------------------------------------ driver

def all_items():
    return list(TV_MODELS) + list(HAND_BUILT)


def item_files(name):
    return tv_files(name) if name in TV_MODELS else [hand_file(name)]


def item_onnx_files(name):
    return [f for f in item_files(name) if f.endswith(".onnx")]


def resolve_names(only):
    items = all_items()
    if not only:
        return items
    out = []
    for raw in only:
        for name in raw.split(","):
            name = name.strip()
            if not name:
                continue
            if name in ("all",):
                cands = items
            elif name in ("torchvision", "edge", "tiny"):
                cands = [i for i in items if
                         (i in TV_MODELS if name == "torchvision" else i.startswith(name + "_"))]
            elif name in items:
                cands = [name]
            elif "edge_" + name in items:
                cands = ["edge_" + name]
            else:
                raise SystemExit("unknown fixture %r; known: %s" % (name, ", ".join(items)))
            out += [c for c in cands if c not in out]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate ONNX fixtures for Acp tests.")
    ap.add_argument("--out", help="output directory (required unless --list)")
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="only these fixtures (model names, edge case names with or without "
                         "'edge_', or the groups torchvision/edge/tiny)")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    ap.add_argument("--list", action="store_true", help="list fixture names and exit")
    args = ap.parse_args(argv)

    if args.list:
        for n in all_items():
            print(n, " ".join(item_onnx_files(n)))
        return 0
    if not args.out:
        ap.error("--out is required")

    names = resolve_names(args.only)
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    stamp = compute_stamp()

    with open(os.path.join(out_dir, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest_path = os.path.join(out_dir, MANIFEST)
        stamp_ok = (read_text(os.path.join(out_dir, STAMP)) or "").strip() == stamp
        manifest = {}
        if stamp_ok:
            try:
                manifest = json.loads(read_text(manifest_path) or "{}")
            except ValueError:
                manifest = {}

        def complete(name):
            return (all(os.path.exists(os.path.join(out_dir, f)) for f in item_files(name))
                    and all(f in manifest for f in item_onnx_files(name)))

        todo = [n for n in names if args.force or not stamp_ok or not complete(n)]
        if not todo:
            print("fixtures up to date (%s)" % out_dir)
            return 0

        t0 = time.time()
        if not stamp_ok:
            write_atomic(manifest_path, json.dumps(manifest, indent=1))
            write_atomic(os.path.join(out_dir, STAMP), stamp + "\n")

        try:
            import numpy  # noqa: F401
            import onnx  # noqa: F401
            if any(n in TV_MODELS for n in todo):
                import torch
                import torchvision  # noqa: F401
                torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        except ImportError as e:
            print("generate_fixtures: missing dependency (%s); use /usr/bin/python3 with "
                  "python3-torch, python3-torchvision, python3-onnx" % e, file=sys.stderr)
            return 2

        warnings_seen = []

        def warn(msg):
            warnings_seen.append(msg)
            print("WARNING: " + msg, file=sys.stderr, flush=True)

        for name in todo:
            for f in item_onnx_files(name):
                manifest.pop(f, None)
            if name in TV_MODELS:
                entries = gen_torchvision(name, out_dir, warn)
            else:
                entries = gen_hand_built(name, out_dir, warn)
            manifest.update(entries)
            manifest = dict(sorted(manifest.items()))
            write_atomic(manifest_path, json.dumps(manifest, indent=1) + "\n")

        print("generated %d fixture set(s) in %.1fs into %s%s"
              % (len(todo), time.time() - t0, out_dir,
                 " with %d warning(s)" % len(warnings_seen) if warnings_seen else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
