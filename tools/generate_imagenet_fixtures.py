#!/usr/bin/python3
"""Generate ImageNet-shaped torchvision exports for Acp's scale tests and benchmarks.

Usage:
    /usr/bin/python3 tools/generate_imagenet_fixtures.py --out DIR [--force]

Needs Debian's torch, torchvision, onnx (python3-torch, python3-torchvision, python3-onnx).
No network: weights are random (torch.manual_seed(0), weights=None); cost, structure and latency
do not depend on them.

Writes into DIR, for resnet18, resnet50 and mobilenet_v2 as torchvision builds them for ImageNet
(1000 classes):

* ``<model>.224.onnx``: a plain eval-mode export (opset 13, BatchNormalization folded into the
  convolutions, as `torch.onnx.export` gives a user), input ``input`` [batch,3,224,224], output
  ``logits`` [batch,1000], ``batch`` a dynamic axis.

and the model of the 224-px pruning runs with data (on tools/make_fashion_image_folder.py's folders):

* ``resnet18_10.224.bn.onnx``: torchvision's resnet18(num_classes=10), BatchNormalization kept
  (TrainingMode.PRESERVE on the eval-mode model, no constant folding), every BatchNorm given random
  statistics and affine parameters as tools/generate_fixtures.py does (so no two initializers are
  equal and the exporter shares none), output ``logits`` [batch,10].
* ``imagenet.json``: per file, the PyTorch-counted parameters (after folding), MACs (forward
  hooks, batch 1), input and output shapes.

The fixture folder of tools/generate_fixtures.py is not touched: these models are large (resnet50
is about 100 MB) and live in their own folder with their own stamp (``DIR/.stamp``: a hash of this
script and the library versions; when it matches and every file is there the script exits at once
without importing torch). Files are written atomically; ``DIR/.lock`` serialises concurrent runs.
scripts/setup.sh also copies the CNTK ResNet-18 of the NuGet package
Microsoft.ML.DnnImageFeaturizer.ResNet18 into the same folder.
"""

import argparse
import fcntl
import hashlib
import importlib.metadata
import io
import json
import os
import sys
import time
import warnings

# The fixture generator's atomic write and tolerant read: one implementation for both scripts.
from generate_fixtures import read_text, write_atomic

# (file stem, torchvision constructor, classes, BatchNormalization kept)
MODELS = [("resnet18", "resnet18", 1000, False), ("resnet50", "resnet50", 1000, False),
          ("mobilenet_v2", "mobilenet_v2", 1000, False), ("resnet18_10", "resnet18", 10, True)]
INPUT_SHAPE = [1, 3, 224, 224]
OPSET = 13
MANIFEST = "imagenet.json"
STAMP = ".stamp"


def file_name(spec):
    stem, _, _, keep_bn = spec
    return "%s.224%s.onnx" % (stem, ".bn" if keep_bn else "")


def compute_stamp():
    h = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    for pkg in ("torch", "torchvision", "onnx", "numpy"):
        try:
            version = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            version = "missing"
        h.update(("\n%s=%s" % (pkg, version)).encode())
    return h.hexdigest()


def pytorch_macs(model, x):
    import torch
    total = [0]

    def conv_hook(m, inp, out):
        k = 1
        for d in m.kernel_size:
            k *= d
        total[0] += out.numel() * (m.in_channels // m.groups) * k

    def linear_hook(m, inp, out):
        total[0] += m.in_features * m.out_features * (out.numel() // m.out_features)

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    hooks += [m.register_forward_hook(linear_hook) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total[0]


def generate(spec, out_dir):
    import onnx
    import torch
    import torchvision
    from torch.fx.experimental.optimization import fuse

    stem, constructor, classes, keep_bn = spec
    t0 = time.time()
    torch.manual_seed(0)
    model = getattr(torchvision.models, constructor)(weights=None, num_classes=classes)
    if keep_bn:
        with torch.no_grad():
            for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
                bn.running_mean.copy_(torch.randn_like(bn.running_mean) * 0.1)
                bn.running_var.copy_(torch.rand_like(bn.running_var) + 0.5)
                bn.weight.copy_(torch.rand_like(bn.weight) + 0.5)
                bn.bias.copy_(torch.randn_like(bn.bias) * 0.1)
    model.eval()
    x = torch.randn(*INPUT_SHAPE)
    macs = pytorch_macs(model, x)
    # The eval export folds every BatchNormalization that follows a Conv (all of them in these networks): count the
    # parameters of the same fused model. With BatchNormalization kept, the model's own parameters.
    params = sum(p.numel() for p in (model if keep_bn else fuse(model, inplace=False)).parameters())
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, x, f, opset_version=OPSET, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                          training=torch.onnx.TrainingMode.PRESERVE if keep_bn else torch.onnx.TrainingMode.EVAL,
                          do_constant_folding=not keep_bn)
    data = f.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    write_atomic(os.path.join(out_dir, file_name(spec)), data)
    print("%-14s params %d  MACs %d  %.1f MB  %.1fs" % (file_name(spec), params, macs, len(data) / 1e6, time.time() - t0),
          flush=True)
    return {"model": constructor, "params_expected": params, "macs_expected": macs, "batchnorm_kept": keep_bn,
            "input_shape": INPUT_SHAPE, "output_shape": [1, classes], "opset": OPSET,
            "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "torch_version": torch.__version__, "torchvision_version": torchvision.__version__}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate 224-px torchvision exports for Acp.")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = ap.parse_args(argv)
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)
    stamp = compute_stamp()
    with open(os.path.join(out_dir, ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest_path = os.path.join(out_dir, MANIFEST)
        manifest = {}
        if (read_text(os.path.join(out_dir, STAMP)) or "").strip() == stamp:
            try:
                manifest = json.loads(read_text(manifest_path) or "{}")
            except ValueError:
                manifest = {}
        todo = [m for m in MODELS if args.force or file_name(m) not in manifest
                or not os.path.exists(os.path.join(out_dir, file_name(m)))]
        if not todo:
            print("imagenet fixtures up to date (%s)" % out_dir)
            return 0
        try:
            import torch
            import torchvision  # noqa: F401
            import onnx  # noqa: F401
        except ImportError as e:
            print("generate_imagenet_fixtures: missing dependency (%s); use /usr/bin/python3 with "
                  "python3-torch, python3-torchvision, python3-onnx" % e, file=sys.stderr)
            return 2
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        write_atomic(os.path.join(out_dir, STAMP), stamp + "\n")
        for m in todo:
            manifest[file_name(m)] = generate(m, out_dir)
            write_atomic(manifest_path, json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
