#!/usr/bin/python3
"""Generate PyTorch oracle fixtures for the Acp training engine (Acp.Engine).

Usage:
    /usr/bin/python3 tools/generate_engine_fixtures.py --out DIR [--only NAME ...] [--force] [--list]

Needs torch, onnx and numpy (Debian: python3-torch, python3-onnx); always call
/usr/bin/python3. No network. The models are tools/resnet20.py's ``resnet20`` and
``resnet20_tiny`` (1x28x28 input, 10 classes).

Writes into DIR, for NAME in resnet20_tiny (batch N=8) and resnet20 (N=16):

* ``NAME.onnx``: torch.manual_seed(0), build, then every BatchNorm gets random
  weight U(0.5,1.5), bias N(0,1)*0.1, running_mean N(0,1)*0.1, running_var U(0.5,1.5)
  (so BN scale/statistics bugs cannot hide behind 1/0 values); exported from eval mode
  with TrainingMode.PRESERVE, do_constant_folding=False, opset 13: every
  BatchNormalization kept in inference form (1 output, momentum attribute 0.9).
  Input "input" [batch,1,28,28], output "logits" [batch,10], batch dynamic.
  Initializer names are the PyTorch state_dict names (checked).
* Gradient oracle (torch.manual_seed(1); x = randn(N,1,28,28); labels = randint(0,10,(N,))):
  model in TRAIN mode, logits = model(x), loss = F.cross_entropy(logits, labels) (mean),
  backward. ``NAME.grad.input.f32``, ``NAME.grad.labels.i64``, ``NAME.grad.logits.f32``,
  ``NAME.grad.loss.f32``, ``NAME.grad.<initializer>.f32`` for every parameter,
  ``NAME.step.<initializer>.f32`` for every BN running_mean/var after that one
  train-mode forward (PyTorch momentum 0.1 = ONNX momentum 0.9, unbiased variance).
* SGD oracle: torch.optim.SGD(lr 0.1, momentum 0.9, weight_decay 5e-4, dampening 0,
  nesterov False) on all parameters, from the initial weights with those gradients:
  ``NAME.sgd1.<initializer>.f32`` after one step and ``NAME.sgd2.<initializer>.f32``
  after a second step that reuses the same gradients (the first step cannot see the
  momentum: buf = grad + wd*w). Saved for conv1.weight, layer2.0.bn1.weight, fc.weight.
* Inference oracle: ``NAME.eval.logits.f32``: the eval-mode model (initial weights,
  i.e. exactly NAME.onnx) on the same x.
* ``NAME.grad.json``: index of all of the above ({initializer: {file, shape}}), loss
  value, conventions and checks. Written last: its presence means the set is complete.

All tensors are raw little-endian, C order; float tensors float32, labels int64. The
oracle is computed in float64 from the float32 weights/input and rounded to float32;
the float32 PyTorch run is compared against it and the differences are recorded
("fp32_vs_fp64", also per gradient tensor) as a guide for test tolerances, together with
how close the batch sits to ReLU kinks ("relu_kinks"). resnet20 at batch 16 has ~2.3M
ReLU inputs, a few of them within float32 noise of 0: one sign flip there moves upstream
gradients by ~1e-3 relative (L2). resnet20_tiny has none and is the tight oracle.

Checks (the script fails if one does not hold): onnx.checker (full_check), one graph
output, BatchNormalization count == BatchNorm2d modules and each with one output,
training_mode 0, momentum 0.9, epsilon 1e-5; for every parameter and BN buffer an
initializer of that exact name, shape and value, consumed by the expected op/input
slot; and the ONNX graph, interpreted op by op with torch.nn.functional, reproduces
the eval logits.

Caching: DIR/.engine_stamp holds a SHA-256 of this script, resnet20.py and
generate_fixtures.py (helpers are imported from it) plus the torch/onnx/numpy versions.
If it matches and every file of every NAME.grad.json is present, the script prints
"engine fixtures up to date" without importing torch. Files are written atomically;
DIR/.engine.lock (flock) serialises concurrent runs. Safe to share DIR with
generate_fixtures.py (no file names overlap).
"""

import argparse
import collections
import fcntl
import hashlib
import json
import os
import re
import sys
import time
import warnings

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (.gitignore has none)
TOOLS = os.path.dirname(os.path.abspath(__file__))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

from generate_fixtures import (  # noqa: E402  (stdlib-only at import time)
    expand_identity_initializers, file_digest, lib_version, op_histogram, read_text,
    write_atomic)

STAMP = ".engine_stamp"
LOCK = ".engine.lock"
OPSET = 13
INPUT_SHAPE = [1, 28, 28]
NUM_CLASSES = 10
BATCH = collections.OrderedDict([("resnet20_tiny", 8), ("resnet20", 16)])
SEED_MODEL = 0
SEED_DATA = 1
BN_MOMENTUM_PT = 0.1
BN_EPS = 1e-5
SGD = collections.OrderedDict([("lr", 0.1), ("momentum", 0.9), ("weight_decay", 5e-4),
                               ("dampening", 0.0), ("nesterov", False)])
SGD_PARAMS = ["conv1.weight", "layer2.0.bn1.weight", "fc.weight"]
# Per-file tags this script owns; stale files with these tags are removed on regeneration.
TAGS = ("grad", "step", "sgd1", "sgd2", "eval")


# --------------------------------------------------------------------------- utils

def compute_stamp():
    h = hashlib.sha256()
    for f in (os.path.abspath(__file__), os.path.join(TOOLS, "resnet20.py"),
              os.path.join(TOOLS, "generate_fixtures.py")):
        with open(f, "rb") as fh:
            h.update(fh.read())
    for pkg in ("torch", "onnx", "numpy"):
        h.update(("\n%s=%s" % (pkg, lib_version(pkg))).encode())
    return h.hexdigest()


def json_path(out_dir, name):
    return os.path.join(out_dir, name + ".grad.json")


def listed_files(index):
    """Every file a NAME.grad.json refers to (including the .onnx)."""
    files = [index["onnx"]]

    def walk(v):
        if isinstance(v, dict):
            if "file" in v and isinstance(v["file"], str):
                files.append(v["file"])
            for w in v.values():
                walk(w)
        elif isinstance(v, list):
            for w in v:
                walk(w)
    walk(index)
    return sorted(set(files))


def complete(out_dir, name):
    try:
        index = json.loads(read_text(json_path(out_dir, name)) or "")
        return all(os.path.exists(os.path.join(out_dir, f)) for f in listed_files(index))
    except (ValueError, KeyError, TypeError):
        return False


def tensor_bytes(t, dtype="<f4"):
    return t.detach().cpu().contiguous().numpy().astype(dtype).tobytes()


# ---------------------------------------------------------------------- model part

def build_model(name):
    import torch
    import resnet20 as R
    torch.manual_seed(SEED_MODEL)
    model = R.build(name, num_classes=NUM_CLASSES, in_channels=INPUT_SHAPE[0])
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                assert m.momentum == BN_MOMENTUM_PT and m.eps == BN_EPS
                m.weight.copy_(torch.rand_like(m.weight) + 0.5)
                m.bias.copy_(torch.randn_like(m.bias) * 0.1)
                m.running_mean.copy_(torch.randn_like(m.running_mean) * 0.1)
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
    return model.eval()


def export_onnx(model, x):
    import io
    import onnx
    import torch
    assert not model.training
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, x, f, opset_version=OPSET, input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    om = onnx.load_from_string(f.getvalue())
    # torch de-duplicates equal initializers (e.g. all-ones BN weight and running_var)
    # behind Identity nodes; undo it so every tensor is its own, correctly named initializer.
    n_expanded = expand_identity_initializers(om)
    return om, n_expanded


def run_oracle(model0, x, labels, dtype):
    """Train-mode forward/backward, running stats, two SGD steps, on a copy in `dtype`."""
    import copy
    import torch
    import torch.nn.functional as F
    model = copy.deepcopy(model0).to(dtype)
    x = x.to(dtype)
    out = {}
    model.eval()
    with torch.no_grad():
        out["eval_logits"] = model(x).clone()
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    model.zero_grad(set_to_none=True)
    loss.backward()
    out["logits"] = logits.detach().clone()
    out["loss"] = loss.detach().clone()
    out["grads"] = collections.OrderedDict(
        (n, p.grad.detach().clone()) for n, p in model.named_parameters())
    out["running"] = collections.OrderedDict(
        (n, b.detach().clone()) for n, b in model.named_buffers()
        if n.endswith(".running_mean") or n.endswith(".running_var"))
    opt = torch.optim.SGD(model.parameters(), **SGD)
    params = dict(model.named_parameters())
    opt.step()
    out["sgd1"] = collections.OrderedDict((n, params[n].detach().clone()) for n in SGD_PARAMS)
    opt.step()  # same .grad tensors again: exercises the momentum buffer
    out["sgd2"] = collections.OrderedDict((n, params[n].detach().clone()) for n in SGD_PARAMS)
    return out


def relu_inputs(model0, x, dtype):
    """Pre-activation tensors of every ReLU in a train-mode forward (stem, block-internal,
    block output), on a copy in `dtype`. Uses module hooks; the model calls F.relu."""
    import copy
    import torch
    import resnet20 as R
    model = copy.deepcopy(model0).to(dtype).train()
    pre = []
    hooks = [model.bn1.register_forward_hook(lambda m, i, o: pre.append(o.detach()))]
    for blk in model.modules():
        if not isinstance(blk, R.BasicBlock):
            continue
        state = {}
        hooks.append(blk.register_forward_pre_hook(
            lambda m, i, st=state: st.__setitem__("x", i[0].detach())))
        hooks.append(blk.bn1.register_forward_hook(lambda m, i, o: pre.append(o.detach())))
        hooks.append(blk.bn2.register_forward_hook(
            lambda m, i, o, st=state: st.__setitem__("y", o.detach())))
        if blk.downsample is not None:
            hooks.append(blk.downsample.register_forward_hook(
                lambda m, i, o, st=state: st.__setitem__("id", o.detach())))

        def done(m, i, o, st=state):
            pre.append(st["y"] + st.get("id", st["x"]))
            st.clear()
        hooks.append(blk.register_forward_hook(done))
    with torch.no_grad():
        model(x.to(dtype))
    for h in hooks:
        h.remove()
    return pre


def relu_kinks(model, x):
    """How close the oracle batch sits to ReLU kinks: an element whose pre-activation is
    within rounding noise of 0 can switch sides in a float32 engine and change upstream
    gradients by far more than the rounding error."""
    import torch
    p64 = relu_inputs(model, x, torch.float64)
    p32 = relu_inputs(model, x, torch.float32)
    assert len(p64) == len(p32)
    flat = torch.cat([p.abs().flatten() for p in p64])
    flips = sum(int(((a > 0) != (b > 0)).sum()) for a, b in zip(p64, p32))
    out = collections.OrderedDict()
    out["relus"] = len(p64)
    out["elements"] = int(flat.numel())
    out["min_abs_pre_activation"] = flat.min().item()
    for t in (1e-7, 1e-6, 1e-5):
        out["elements_abs_below_%g" % t] = int((flat < t).sum())
    out["fp32_vs_fp64_sign_flips"] = flips
    out["note"] = ("train-mode forward (batch statistics), float64. A ReLU input within "
                   "float32 noise (~1e-6) of 0 may land on the other side in the engine; each "
                   "such flip perturbs every gradient upstream of it (see fp32_vs_fp64).")
    return out


# ------------------------------------------------------------------- ONNX checks

def attr(node, name, default=None):
    import onnx
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def check_onnx(om, model):
    """Assert the structural contract; returns a summary dict for the JSON."""
    import onnx
    import torch
    from onnx import numpy_helper
    onnx.checker.check_model(om, full_check=True)
    g = om.graph
    assert len(g.output) == 1 and g.output[0].name == "logits", [o.name for o in g.output]
    assert len(g.input) == 1 and g.input[0].name == "input", [i.name for i in g.input]
    dims = g.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == INPUT_SHAPE
    odims = g.output[0].type.tensor_type.shape.dim
    assert odims[0].dim_param == "batch" and odims[1].dim_value == NUM_CLASSES

    bns = [n for n in g.node if n.op_type == "BatchNormalization"]
    n_bn_modules = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    assert bns and len(bns) == n_bn_modules, (len(bns), n_bn_modules)
    for n in bns:
        assert len(n.output) == 1, "BN %s has %d outputs" % (n.name, len(n.output))
        assert attr(n, "training_mode", 0) == 0, n.name
        assert abs(attr(n, "momentum", 0.9) - (1 - BN_MOMENTUM_PT)) < 1e-6, n.name
        assert abs(attr(n, "epsilon", 1e-5) - BN_EPS) < 1e-9, n.name

    inits = {t.name: t for t in g.initializer}
    consumers = collections.defaultdict(list)
    for n in g.node:
        for i, name in enumerate(n.input):
            consumers[name].append((n.op_type, i))
    sd = model.state_dict()
    checked = []
    for pname, t in sd.items():
        if pname.endswith("num_batches_tracked"):
            continue  # not part of the exported graph (momentum is fixed)
        assert pname in inits, "no initializer named %r" % pname
        arr = numpy_helper.to_array(inits[pname])
        assert list(arr.shape) == list(t.shape), (pname, arr.shape, tuple(t.shape))
        assert (arr == t.numpy()).all(), "initializer %r differs from the model" % pname
        mod, leaf = pname.rsplit(".", 1)
        module = model.get_submodule(mod)
        if isinstance(module, torch.nn.Conv2d):
            want = [("Conv", 1 if leaf == "weight" else 2)]
        elif isinstance(module, torch.nn.BatchNorm2d):
            want = [("BatchNormalization",
                     {"weight": 1, "bias": 2, "running_mean": 3, "running_var": 4}[leaf])]
        elif isinstance(module, torch.nn.Linear):
            want = [("Gemm", 1 if leaf == "weight" else 2)]
        else:
            raise AssertionError("unexpected module for %s" % pname)
        assert consumers[pname] == want, (pname, consumers[pname], want)
        checked.append(pname)
    n_params = sum(1 for _ in model.named_parameters())
    return collections.OrderedDict([
        ("parameters_matched", n_params),
        ("running_stats_matched", len(checked) - n_params),
        ("all_matched", True),
        ("method", "for every model.state_dict() entry except num_batches_tracked: an ONNX "
                   "initializer of exactly that name, shape and value, used once, by the "
                   "expected op and input slot (Conv W=1; BN scale=1,B=2,mean=3,var=4; "
                   "Gemm B=1,C=2)"),
        ("batchnorm_nodes", len(bns)),
        ("op_histogram", op_histogram(om)),
    ])


def interpret_onnx(om, x):
    """Evaluate the graph op by op with torch.nn.functional (float64), independent of the
    nn.Module, to check that the exported graph + initializers compute the eval logits."""
    import torch
    import torch.nn.functional as F
    from onnx import numpy_helper
    env = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()).double()
           for t in om.graph.initializer}
    env["input"] = x.double()
    for n in om.graph.node:
        i = [env[s] for s in n.input]
        op = n.op_type
        if op == "Conv":
            k = attr(n, "kernel_shape")
            pads = list(attr(n, "pads", [0] * 2 * len(k)))
            assert pads[:2] == pads[2:], pads
            assert attr(n, "auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None,
                         stride=attr(n, "strides", [1, 1]), padding=pads[:2],
                         dilation=attr(n, "dilations", [1, 1]), groups=attr(n, "group", 1))
        elif op == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], training=False,
                             eps=attr(n, "epsilon", 1e-5))
        elif op == "Relu":
            y = F.relu(i[0])
        elif op == "Add":
            y = i[0] + i[1]
        elif op == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif op == "Flatten":
            y = torch.flatten(i[0], attr(n, "axis", 1))
        elif op == "Gemm":
            a = i[0].t() if attr(n, "transA", 0) else i[0]
            b = i[1].t() if attr(n, "transB", 0) else i[1]
            y = attr(n, "alpha", 1.0) * (a @ b)
            if len(i) > 2:
                y = y + attr(n, "beta", 1.0) * i[2]
        elif op == "Identity":
            y = i[0]
        else:
            raise AssertionError("interpret_onnx: unsupported op %s" % op)
        env[n.output[0]] = y
    return env[om.graph.output[0].name]


# ------------------------------------------------------------------------ generator

def gen_model(name, out_dir):
    import numpy as np
    import onnx
    import torch

    t0 = time.time()
    batch = BATCH[name]
    model = build_model(name)
    torch.manual_seed(SEED_DATA)
    x = torch.randn(batch, *INPUT_SHAPE)
    labels = torch.randint(0, NUM_CLASSES, (batch,), dtype=torch.int64)

    om, n_expanded = export_onnx(model, x)
    mapping = check_onnx(om, model)

    o64 = run_oracle(model, x, labels, torch.float64)
    o32 = run_oracle(model, x, labels, torch.float32)

    kinks = relu_kinks(model, x)
    onnx_eval = interpret_onnx(om, x)
    onnx_err = float((onnx_eval - o64["eval_logits"]).abs().max())
    assert onnx_err < 1e-9, "%s: interpreted ONNX differs from eval model by %g" % (name, onnx_err)
    # Same-process sanity: the fp32 module on the fp32 input is what torch would export.
    with torch.no_grad():
        ev32 = model(x)
    assert float((ev32.double() - o64["eval_logits"]).abs().max()) < 1e-3

    files = collections.OrderedDict()  # file name -> bytes

    def put(fname, t, dtype="<f4"):
        files[fname] = tensor_bytes(t, dtype)
        return collections.OrderedDict([("file", fname), ("shape", list(t.shape)),
                                        ("dtype", "int64" if dtype == "<i8" else "float32")])

    def diff(a, b):
        """a: float32 run, b: float64 reference."""
        d = (a.double() - b.double()).abs()
        scale = b.double().abs().max().item()
        norm = b.double().norm().item()
        return collections.OrderedDict([
            ("max_abs", d.max().item()),
            ("max_abs_over_max_ref", d.max().item() / scale if scale > 0 else 0.0),
            ("rel_l2", (a.double() - b.double()).norm().item() / norm if norm > 0 else 0.0)])

    def grad_entry(n, g):
        e = put("%s.grad.%s.f32" % (base, n), g)
        e["fp32_vs_fp64"] = diff(o32["grads"][n], g)
        return e

    base = name
    index = collections.OrderedDict()
    index["model"] = name
    index["onnx"] = base + ".onnx"
    index["description"] = (
        "tools/resnet20.py %s (blocks=%d, widths=%s), 1x28x28 input, %d classes"
        % (name, model.blocks, list(model.widths), NUM_CLASSES))
    index["batch"] = batch
    index["input"] = put(base + ".grad.input.f32", x)
    index["labels"] = put(base + ".grad.labels.i64", labels, "<i8")
    index["train_logits"] = put(base + ".grad.logits.f32", o64["logits"])
    index["loss"] = o64["loss"].item()
    index["loss_file"] = put(base + ".grad.loss.f32", o64["loss"].reshape(1))
    index["loss_definition"] = "F.cross_entropy(logits, labels), reduction mean, no label smoothing"
    index["eval_logits"] = put(base + ".eval.logits.f32", o64["eval_logits"])
    index["eval_note"] = ("eval-mode model with the initial weights and running stats (exactly "
                          "%s.onnx) on the same input" % base)
    index["gradients"] = collections.OrderedDict(
        (n, grad_entry(n, g)) for n, g in o64["grads"].items())
    index["running_stats_after_step"] = collections.OrderedDict(
        (n, put("%s.step.%s.f32" % (base, n), r)) for n, r in o64["running"].items())
    index["batchnorm"] = collections.OrderedDict([
        ("pytorch_momentum", BN_MOMENTUM_PT),
        ("onnx_momentum_attribute", 1 - BN_MOMENTUM_PT),
        ("epsilon", BN_EPS),
        ("note", "PyTorch: running = (1-0.1)*running + 0.1*batch; ONNX attribute momentum=0.9: "
                 "running = 0.9*running + 0.1*batch. Same update. Normalisation in train mode "
                 "uses the biased batch variance; running_var is updated with the unbiased "
                 "one (n*h*w/(n*h*w-1)). The step files hold the running stats after the one "
                 "train-mode forward; the initial ones are in the .onnx."),
    ])
    sgd = collections.OrderedDict(SGD)
    sgd["applies_to"] = "all parameters (weight decay on BN weight/bias and fc bias too)"
    sgd["update"] = ("PyTorch SGD: d = grad + weight_decay*w; buf = d on the first step, "
                     "buf = momentum*buf + (1-dampening)*d afterwards; w -= lr*buf")
    sgd["step1"] = collections.OrderedDict(
        (n, put("%s.sgd1.%s.f32" % (base, n), w)) for n, w in o64["sgd1"].items())
    sgd["step2_same_gradients"] = collections.OrderedDict(
        (n, put("%s.sgd2.%s.f32" % (base, n), w)) for n, w in o64["sgd2"].items())
    sgd["note"] = ("step1: one step from the initial weights (the .onnx) with the gradients "
                   "above. step2: a second step reusing the same gradient tensors (not "
                   "recomputed), so the momentum buffer matters.")
    index["sgd"] = sgd
    index["mapping_check"] = mapping
    index["identity_initializers_expanded"] = n_expanded

    fp = collections.OrderedDict()
    fp["loss"] = diff(o32["loss"], o64["loss"])
    fp["train_logits"] = diff(o32["logits"], o64["logits"])
    fp["eval_logits"] = diff(o32["eval_logits"], o64["eval_logits"])
    fp["gradients_worst"] = max((dict(diff(o32["grads"][n], o64["grads"][n]), name=n)
                                 for n in o64["grads"]), key=lambda d: d["rel_l2"])
    fp["running_stats_worst"] = max((dict(diff(o32["running"][n], o64["running"][n]), name=n)
                                     for n in o64["running"]), key=lambda d: d["max_abs"])
    fp["sgd2_worst"] = max((dict(diff(o32["sgd2"][n], o64["sgd2"][n]), name=n)
                            for n in o64["sgd2"]), key=lambda d: d["max_abs"])
    index["precision"] = collections.OrderedDict([
        ("oracle", "computed in float64 from the float32 weights and input, stored as float32"),
        ("fp32_vs_fp64", fp),
        ("onnx_interpreted_vs_eval_max_abs", onnx_err),
        ("relu_kinks", kinks),
        ("note", "fp32_vs_fp64 is PyTorch's own float32 error against this oracle (per "
                 "gradient tensor in gradients[*].fp32_vs_fp64): a float32 engine should land "
                 "within a small multiple of it. If relu_kinks.fp32_vs_fp64_sign_flips > 0 "
                 "(or elements sit below 1e-6), upstream gradients are sensitive to rounding; "
                 "compare with rel_l2 rather than max_abs there."),
    ])
    index["seeds"] = ("torch.manual_seed(%d) before construction (convs kaiming_normal fan_out, "
                      "Linear default), then BN weight=U(0.5,1.5), bias=N(0,1)*0.1, "
                      "running_mean=N(0,1)*0.1, running_var=U(0.5,1.5); torch.manual_seed(%d) "
                      "then x=randn(%d,1,28,28), labels=randint(0,10,(%d,))"
                      % (SEED_MODEL, SEED_DATA, batch, batch))
    index["params_pytorch"] = sum(p.numel() for p in model.parameters())
    index["export"] = ("torch.onnx.export opset %d from eval mode, training=PRESERVE, "
                       "do_constant_folding=False, input 'input' [batch,1,28,28], output "
                       "'logits' [batch,10]" % OPSET)
    index["versions"] = {"torch": torch.__version__, "onnx": onnx.__version__,
                         "numpy": np.__version__}

    data = om.SerializeToString()
    index["onnx_bytes"] = len(data)
    index["onnx_sha256"] = file_digest(data)
    files[base + ".onnx"] = data

    # Remove stale files of an older layout, then write data files, the index last.
    keep = set(files) | {base + ".grad.json"}
    pat = re.compile(r"^%s\.(%s)\." % (re.escape(base), "|".join(TAGS)))
    for f in os.listdir(out_dir):
        if pat.match(f) and f not in keep and ".tmp." not in f:
            os.remove(os.path.join(out_dir, f))
    for fname, blob in files.items():
        write_atomic(os.path.join(out_dir, fname), blob)
    assert listed_files(index) == sorted(files), "index and written files disagree"
    write_atomic(json_path(out_dir, name), json.dumps(index, indent=1) + "\n")
    print("%-14s params %d  BN %d  mapping ok (%d params, %d running stats)  loss %.6f  "
          "fp32 grad rel_l2 <= %.1e  relu flips %d  %d files  %.1fs"
          % (name, index["params_pytorch"], mapping["batchnorm_nodes"],
             mapping["parameters_matched"], mapping["running_stats_matched"], index["loss"],
             fp["gradients_worst"]["rel_l2"], kinks["fp32_vs_fp64_sign_flips"],
             len(files) + 1, time.time() - t0), flush=True)


# ------------------------------------------------------------------------ driver

def resolve_names(only):
    if not only:
        return list(BATCH)
    out = []
    for raw in only:
        for n in raw.split(","):
            n = n.strip()
            if not n:
                continue
            if n == "all":
                out += [m for m in BATCH if m not in out]
            elif n in BATCH:
                if n not in out:
                    out.append(n)
            else:
                raise SystemExit("unknown model %r; known: %s" % (n, ", ".join(BATCH)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate PyTorch oracle fixtures for Acp.Engine.")
    ap.add_argument("--out", help="output directory (required unless --list)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="resnet20_tiny and/or resnet20")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    ap.add_argument("--list", action="store_true", help="list model names and exit")
    args = ap.parse_args(argv)

    if args.list:
        for n, b in BATCH.items():
            print(n, "%s.onnx %s.grad.json batch=%d" % (n, n, b))
        return 0
    if not args.out:
        ap.error("--out is required")

    names = resolve_names(args.only)
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    stamp = compute_stamp()

    with open(os.path.join(out_dir, LOCK), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp_ok = (read_text(os.path.join(out_dir, STAMP)) or "").strip() == stamp
        todo = [n for n in names if args.force or not stamp_ok or not complete(out_dir, n)]
        if not todo:
            print("engine fixtures up to date (%s)" % out_dir)
            return 0

        t0 = time.time()
        if not stamp_ok:
            # Invalidate every set made under another stamp before claiming the new one.
            for n in BATCH:
                try:
                    os.remove(json_path(out_dir, n))
                except FileNotFoundError:
                    pass
            write_atomic(os.path.join(out_dir, STAMP), stamp + "\n")
            todo = [n for n in names]

        try:
            import numpy  # noqa: F401
            import onnx  # noqa: F401
            import torch
        except ImportError as e:
            print("generate_engine_fixtures: missing dependency (%s); use /usr/bin/python3 with "
                  "python3-torch, python3-onnx" % e, file=sys.stderr)
            return 2
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

        for name in todo:
            # Drop the index first: an interrupted regeneration must not look complete.
            try:
                os.remove(json_path(out_dir, name))
            except FileNotFoundError:
                pass
            gen_model(name, out_dir)

        print("generated %d engine fixture set(s) in %.1fs into %s"
              % (len(todo), time.time() - t0, out_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
