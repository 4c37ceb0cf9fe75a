#!/usr/bin/python3
"""Train the ResNet-20 of tools/resnet20.py on Fashion-MNIST and ship it as ONNX.

Usage:
    /usr/bin/python3 tools/train_fashion_resnet20.py --out models/ [--epochs 15] [--seed 0]

Needs Debian's python3-torch (1.13), python3-onnx and python3-numpy; always call
/usr/bin/python3. No network: the data are Debian's Fashion-MNIST IDX files
(/usr/share/datasets/fashion-mnist, package dataset-fashion-mnist; --data to use another
folder).

Runtime: about 30 minutes for the default 15 epochs with 2 threads on an idle 2-core box
(~2 minutes per epoch, plus under a minute for the final accuracy passes and the export).
On a shared box it is longer: the shipped run took 60 minutes, its first epochs 5-10 minutes
each while other jobs held the cores. Progress is logged every 100 steps.

Data split (the pruning search depends on it):
  train      = the first 55,000 images of the training split (the only images trained on)
  validation = the last 5,000 images of the training split (held out; used by the
               pruning search to score candidates)
  test       = the 10,000 test images (reported only, never used to choose anything)

Training: pixels scaled to [0,1], then normalised with mean 0.2860, std 0.3530.
Augmentation: random crop 28x28 from the image zero-padded by 2 pixels (padding in [0,1]
pixel space, i.e. black), and horizontal flip with probability 0.5. SGD (momentum 0.9,
Nesterov, weight decay 5e-4 on every parameter), batch 128 (the last, partial batch of
each epoch is dropped), learning rate 0.1 with a per-step cosine schedule to 0,
cross-entropy loss. torch.set_num_threads(2); Python, NumPy and torch seeded from --seed.

Writes into OUT:
  fashion_resnet20.onnx  opset 13, input "input" [batch,1,28,28] (batch dynamic), output
                         "logits" [batch,10]; every BatchNormalization kept (21 nodes, in
                         inference form); initializers named after the PyTorch state_dict;
                         metadata_props acp.mean, acp.std, acp.dataset, acp.validation.
  fashion_resnet20.json  provenance: script, versions, seed, hyper-parameters, per-epoch
                         history, train/validation/test accuracy measured by PyTorch
                         (eval mode, no augmentation), parameter count, export checks and
                         the SHA-256 of the .onnx.

Export: torch.onnx's TrainingMode.EVAL folds every BatchNorm into the preceding Conv in
torch 1.13 (its eval peephole pass runs whenever training is EVAL). The model is therefore
put in eval mode and exported with TrainingMode.PRESERVE, which exports the eval-mode
BatchNorm as an inference BatchNormalization node. The graph is then checked with
tools/generate_engine_fixtures.py's check_onnx (names, shapes, values and consumers of
every initializer, BN count and attributes) and evaluated op by op with
torch.nn.functional (interpret_onnx) against the PyTorch logits of real test images.
"""

import argparse
import collections
import gzip
import hashlib
import io
import json
import os
import platform
import random
import struct
import sys
import time
import warnings

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
TOOLS = os.path.dirname(os.path.abspath(__file__))
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

# The box is shared: with OpenMP's default (spinning) wait policy, two threads that wait for
# each other at every barrier while other processes hold the cores made a step ~15x slower
# (11 s instead of 0.7 s at load 25). Sleeping waiters cost nothing when the box is idle.
# Must be set before torch loads libgomp.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import resnet20 as R  # noqa: E402
from generate_fixtures import expand_identity_initializers, lib_version, write_atomic  # noqa: E402
from generate_engine_fixtures import check_onnx, interpret_onnx  # noqa: E402

MODEL_NAME = "fashion_resnet20"
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
DATA_FILES = collections.OrderedDict([
    ("train_images", "train-images-idx3-ubyte.gz"),
    ("train_labels", "train-labels-idx1-ubyte.gz"),
    ("test_images", "t10k-images-idx3-ubyte.gz"),
    ("test_labels", "t10k-labels-idx1-ubyte.gz"),
])
TRAIN_COUNT = 55000
VALIDATION_COUNT = 5000
MEAN = 0.2860
STD = 0.3530
PAD = 2
OPSET = 13
THREADS = 2
EVAL_BATCH = 500
TEST_SUBSET = 2000
METADATA = collections.OrderedDict([
    ("acp.mean", "0.2860"),
    ("acp.std", "0.3530"),
    ("acp.dataset", "fashion-mnist"),
    ("acp.validation", "last 5000 of train"),
])


# ----------------------------------------------------------------------------- data

def read_idx(path, expected_magic):
    """An IDX file (gzip) as a uint8 array; images have shape [n, rows, cols]."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    if magic != expected_magic:
        raise ValueError("%s: IDX magic %#x, expected %#x" % (path, magic, expected_magic))
    ndim = magic & 0xFF
    dims = struct.unpack(">%dI" % ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError("%s: %d bytes of data for dims %s" % (path, data.size, dims))
    return data.reshape(dims)


def load_fashion_mnist(folder):
    """Images as float32 [n,1,28,28] in [0,1] (not yet normalised), labels as int64."""
    paths = {k: os.path.join(folder, v) for k, v in DATA_FILES.items()}
    missing = [p for p in paths.values() if not os.path.isfile(p)]
    if missing:
        raise SystemExit("Fashion-MNIST files missing: %s (Debian package dataset-fashion-mnist, "
                         "or pass --data)" % ", ".join(missing))
    digests = collections.OrderedDict(
        (os.path.basename(p), sha256_file(p)) for p in paths.values())

    def images(key):
        a = read_idx(paths[key], 0x00000803)
        return torch.from_numpy(a.astype(np.float32) / 255.0).unsqueeze(1)

    def labels(key):
        return torch.from_numpy(read_idx(paths[key], 0x00000801).astype(np.int64))

    x_train, y_train = images("train_images"), labels("train_labels")
    x_test, y_test = images("test_images"), labels("test_labels")
    if x_train.shape[0] != TRAIN_COUNT + VALIDATION_COUNT or x_test.shape[0] != 10000:
        raise SystemExit("unexpected Fashion-MNIST sizes: train %d, test %d"
                         % (x_train.shape[0], x_test.shape[0]))
    split = collections.OrderedDict([
        ("train", (x_train[:TRAIN_COUNT], y_train[:TRAIN_COUNT])),
        ("validation", (x_train[TRAIN_COUNT:], y_train[TRAIN_COUNT:])),
        ("test", (x_test, y_test)),
    ])
    return split, digests


def normalise(x):
    return (x - MEAN) / STD


def augment(x, generator):
    """Random 28x28 crop of the zero-padded batch plus random horizontal flip; x in [0,1]."""
    n, _, h, w = x.shape
    padded = F.pad(x, (PAD, PAD, PAD, PAD))
    dy = torch.randint(0, 2 * PAD + 1, (n,), generator=generator)
    dx = torch.randint(0, 2 * PAD + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h))[:, :, None]        # [n,h,1]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]        # [n,1,w]
    crop = padded[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(n, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], crop.flip(3), crop)


# ------------------------------------------------------------------------- training

def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def evaluate(model, x, y):
    """Top-1 accuracy (eval mode, no augmentation) and mean cross-entropy."""
    model.eval()
    correct, loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], EVAL_BATCH):
            logits = model(normalise(x[i:i + EVAL_BATCH]))
            correct += int((logits.argmax(1) == y[i:i + EVAL_BATCH]).sum())
            loss += float(F.cross_entropy(logits, y[i:i + EVAL_BATCH], reduction="sum"))
    return correct / x.shape[0], loss / x.shape[0]


def train(model, split, args, log):
    x, y = split["train"]
    steps_per_epoch = x.shape[0] // args.batch_size
    total_steps = steps_per_epoch * args.epochs
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: 0.5 * (1 + np.cos(np.pi * min(step, total_steps) / total_steps)))
    gen = torch.Generator().manual_seed(args.seed + 1)
    history = []
    for epoch in range(1, args.epochs + 1):
        t0 = time.time()
        model.train()
        order = torch.randperm(x.shape[0], generator=gen)
        seen, correct, loss_sum = 0, 0, 0.0
        for s in range(steps_per_epoch):
            idx = order[s * args.batch_size:(s + 1) * args.batch_size]
            xb = normalise(augment(x[idx], gen))
            yb = y[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            seen += yb.shape[0]
            correct += int((logits.argmax(1) == yb).sum())
            loss_sum += float(loss) * yb.shape[0]
            if (s + 1) % 100 == 0:
                log("  step %d/%d  loss %.4f" % (s + 1, steps_per_epoch, loss_sum / seen))
        train_time = time.time() - t0
        val_acc, val_loss = evaluate(model, *split["validation"])
        entry = collections.OrderedDict([
            ("epoch", epoch),
            ("train_loss_augmented", round(loss_sum / seen, 5)),
            ("train_accuracy_augmented", round(correct / seen, 5)),
            ("validation_accuracy", round(val_acc, 5)),
            ("validation_loss", round(val_loss, 5)),
            ("lr_end", opt.param_groups[0]["lr"]),
            ("seconds", round(time.time() - t0, 1)),
        ])
        history.append(entry)
        log("epoch %2d/%d  loss %.4f  train(aug) %.4f  val %.4f  %.0fs (train %.0fs)" % (
            epoch, args.epochs, entry["train_loss_augmented"], entry["train_accuracy_augmented"],
            val_acc, entry["seconds"], train_time))
    return history


# --------------------------------------------------------------------------- export

def export_onnx(model, x):
    import onnx
    assert not model.training
    f = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # PRESERVE on an eval-mode model: BN kept as inference BatchNormalization
        # (TrainingMode.EVAL would fold it into the Conv; see the module docstring).
        torch.onnx.export(
            model, x, f, opset_version=OPSET, input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True,
            export_params=True, keep_initializers_as_inputs=False)
    om = onnx.load_from_string(f.getvalue())
    # Equal initializers would be shared behind Identity nodes; give each its own.
    expanded = expand_identity_initializers(om)
    for key, value in METADATA.items():
        entry = om.metadata_props.add()
        entry.key, entry.value = key, value
    om.doc_string = ("ResNet-20 (tools/resnet20.py) trained on Fashion-MNIST by "
                     "tools/train_fashion_resnet20.py; input = (pixel/255 - 0.2860)/0.3530")
    onnx.checker.check_model(om, full_check=True)
    return om, expanded


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------- main

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output folder (e.g. models/)")
    p.add_argument("--data", default=DEFAULT_DATA, help="folder with the Fashion-MNIST .gz IDX files")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")

    started = time.time()

    def log(msg):
        print("[%6.0fs] %s" % (time.time() - started, msg), flush=True)

    torch.set_num_threads(THREADS)
    seed_everything(args.seed)
    split, digests = load_fashion_mnist(args.data)
    os.makedirs(args.out, exist_ok=True)
    log("data: train %d, validation %d, test %d" % tuple(v[0].shape[0] for v in split.values()))

    model = R.resnet20(num_classes=R.NUM_CLASSES, in_channels=R.INPUT_SHAPE[0])
    n_params = sum(p.numel() for p in model.parameters())
    log("resnet20: %d parameters" % n_params)
    history = train(model, split, args, log)
    train_seconds = time.time() - started

    accuracy = collections.OrderedDict()
    loss = collections.OrderedDict()
    for name, (x, y) in split.items():
        accuracy[name], loss[name] = evaluate(model, x, y)
        log("%s accuracy %.4f (loss %.4f)" % (name, accuracy[name], loss[name]))
    # The subset the C# tests score (tests/Acp.Engine.Tests/Networks/ShippedModelTests.cs).
    x, y = split["test"]
    key = "test_first_%d" % TEST_SUBSET
    accuracy[key], loss[key] = evaluate(model, x[:TEST_SUBSET], y[:TEST_SUBSET])
    log("%s accuracy %.4f" % (key, accuracy[key]))

    model.eval()
    x_test = normalise(split["test"][0][:64])
    with torch.no_grad():
        reference = model(x_test)
    om, expanded = export_onnx(model, x_test[:2])
    checks = check_onnx(om, model)
    interpreted = interpret_onnx(om, x_test).float()
    max_rel = float(((interpreted - reference).abs() / reference.abs().clamp_min(1e-3)).max())
    max_abs = float((interpreted - reference).abs().max())
    if max_abs > 1e-3 * max(1.0, float(reference.abs().max())):
        raise SystemExit("exported graph disagrees with PyTorch: max abs diff %g" % max_abs)
    log("export: %d BatchNormalization nodes, interpreter vs PyTorch max abs diff %.2g"
        % (checks["batchnorm_nodes"], max_abs))

    onnx_path = os.path.join(args.out, MODEL_NAME + ".onnx")
    data = om.SerializeToString()
    write_atomic(onnx_path, data)

    provenance = collections.OrderedDict([
        ("model", MODEL_NAME),
        ("script", "tools/train_fashion_resnet20.py"),
        ("command", "/usr/bin/python3 tools/train_fashion_resnet20.py --out %s%s" % (
            args.out, "".join(" --%s %s" % (k.replace("_", "-"), v) for k, v in (
                ("epochs", args.epochs), ("seed", args.seed), ("batch_size", args.batch_size),
                ("lr", args.lr)) if v != p.get_default(k)))),
        ("architecture", "tools/resnet20.py resnet20(): widths 16/32/64, 3 BasicBlocks per "
                         "stage, BatchNorm, 1x1 conv+BN projection shortcuts, input 1x28x28, "
                         "10 classes"),
        ("parameters", n_params),
        ("seed", args.seed),
        ("epochs", args.epochs),
        ("accuracy_pytorch", collections.OrderedDict(
            (k, round(v, 5)) for k, v in accuracy.items())),
        ("loss_pytorch", collections.OrderedDict((k, round(v, 5)) for k, v in loss.items())),
        ("accuracy_note", "top-1, eval mode (running BN statistics), no augmentation, "
                          "float32, normalised input"),
        ("data", collections.OrderedDict([
            ("dataset", "fashion-mnist"),
            ("source", args.data),
            ("files_sha256", digests),
            ("train", "training split images 0..54999 (55,000): the only images trained on"),
            ("validation", "last 5,000 images of the training split (55000..59999); "
                           "held out for the pruning search"),
            ("test", "the 10,000 test images; reported only"),
            ("test_first_2000", "the first 2,000 test images (what the C# tests score)"),
            ("preprocessing", "pixel / 255, then (x - 0.2860) / 0.3530"),
        ])),
        ("training", collections.OrderedDict([
            ("optimizer", "SGD momentum 0.9, nesterov, weight_decay 5e-4 (all parameters)"),
            ("lr", args.lr),
            ("schedule", "cosine from lr to 0, stepped per batch"),
            ("batch_size", args.batch_size),
            ("steps_per_epoch", TRAIN_COUNT // args.batch_size),
            ("loss", "cross-entropy"),
            ("augmentation", "zero-pad 2 px + random 28x28 crop, horizontal flip p=0.5"),
            ("threads", THREADS),
            ("seconds", round(train_seconds, 1)),
            ("history", history),
        ])),
        ("onnx", collections.OrderedDict([
            ("file", os.path.basename(onnx_path)),
            ("bytes", len(data)),
            ("sha256", hashlib.sha256(data).hexdigest()),
            ("opset", OPSET),
            ("ir_version", om.ir_version),
            ("input", "input [batch,1,28,28] float32"),
            ("output", "logits [batch,10] float32"),
            ("export", "torch.onnx.export from eval mode, TrainingMode.PRESERVE, "
                       "do_constant_folding=True: BatchNormalization kept (not folded)"),
            ("metadata_props", METADATA),
            ("identity_initializers_expanded", expanded),
            ("checks", checks),
            ("interpreter_vs_pytorch_max_abs", max_abs),
            ("interpreter_vs_pytorch_max_rel", max_rel),
        ])),
        ("versions", collections.OrderedDict([
            ("python", platform.python_version()),
            ("torch", torch.__version__),
            ("onnx", lib_version("onnx")),
            ("numpy", np.__version__),
        ])),
        ("total_seconds", round(time.time() - started, 1)),
    ])
    write_atomic(os.path.join(args.out, MODEL_NAME + ".json"),
                 json.dumps(provenance, indent=2) + "\n")
    log("wrote %s (%d bytes) and %s.json" % (onnx_path, len(data), MODEL_NAME))
    return 0


if __name__ == "__main__":
    sys.exit(main())
