#!/usr/bin/python3
"""PyTorch performance peer for the Acp training engine.

Usage:
    /usr/bin/python3 bench/pytorch_peer.py [--threads 2] [--batch 128] [--train-batch N] [--steps 20]
                                           [--warmup 3] [--model resnet20] [--input-shape C,H,W]
                                           [--classes N] [--json]
    /usr/bin/python3 bench/pytorch_peer.py --serve [--threads 2] [--batch 128] [--train-batch N] ...

Builds the network the engine benchmark runs, with random input (real data does not matter for
speed), and measures it with torch.set_num_threads(threads). --model names the network:

* resnet20 (default), resnet20_tiny: tools/resnet20.py's model (1x28x28 input, 10 classes by
  default, random init).
* torchvision:NAME (e.g. torchvision:resnet18): torchvision's model as
  tools/generate_imagenet_fixtures.py exports it to NAME.224.onnx: torch.manual_seed(0),
  weights=None, BatchNormalization folded into the convolutions (torch.fx fuse, as the eval-mode
  export does), so architecture, shapes and weights equal the ONNX fixture's; trained as that
  folded network (convolutions with bias, no BatchNormalization), like the engine trains the file.

--input-shape (default the model's own, 1,28,28 for resnet20) and --classes (default 10, or 1000
for torchvision models) set the shapes; the driver passes the ones it read from the ONNX model.
--train-batch (default --batch) is the train step's batch, --batch the inference batch.

* train step: zero_grad + forward in train mode + F.cross_entropy + backward +
  SGD step (lr 0.1, momentum 0.9, weight_decay 5e-4); median wall time of --steps steps
  after --warmup untimed ones. train_images_per_s = train batch / median step time.
* inference: eval mode under torch.no_grad(), same batch size; median of --steps
  forwards after --warmup. inference_images_per_s = batch / median forward time.
* peak RSS of this process (resource.getrusage(RUSAGE_SELF).ru_maxrss), in MiB; it
  includes the torch runtime itself (rss_after_import_mb: the peak right after
  `import torch`, before any model exists).

With --json, prints exactly one JSON object on stdout:
    {"train_step_ms", "train_images_per_s", "inference_images_per_s", "peak_rss_mb",
     "torch_version", "threads", ...extra context keys}
Progress goes to stderr. Needs Debian's /usr/bin/python3 (python3-torch).

With --serve the peer takes commands on stdin, one per line, so that a driver can interleave
its own measurements with the peer's in the same time window (the host's speed drifts from
minute to minute): "train N" and "infer N" run N steps and answer one JSON line
{"times_ms": [...]} (every step timed, none dropped: the driver decides what is warm-up);
"stats" answers {"peak_rss_mb", "torch_version", "threads"}; "quit" or end of input stops.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree (.gitignore has none)
HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.path.dirname(HERE), "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def timed(fn, warmup, steps):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch CPU performance peer for Acp.Engine.")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--batch", type=int, default=128, help="batch size (default 128)")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per measurement (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    ap.add_argument("--train-batch", type=int, default=None, help="train step batch (default --batch)")
    ap.add_argument("--model", default="resnet20", help="resnet20 (default), resnet20_tiny or torchvision:NAME")
    ap.add_argument("--input-shape", default=None, help="C,H,W of one image (default: the model's own)")
    ap.add_argument("--classes", type=int, default=None, help="classes (default: 10 for resnet20, 1000 for torchvision)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    ap.add_argument("--serve", action="store_true", help="answer train/infer/stats commands on stdin")
    args = ap.parse_args(argv)
    if args.train_batch is None:
        args.train_batch = args.batch
    if args.threads < 1 or args.batch < 1 or args.train_batch < 1 or args.steps < 1 or args.warmup < 0:
        ap.error("--threads, --batch, --train-batch and --steps must be >= 1, --warmup >= 0")
    input_shape = None
    if args.input_shape is not None:
        try:
            input_shape = tuple(int(d) for d in args.input_shape.split(","))
        except ValueError:
            input_shape = ()
        if len(input_shape) != 3 or min(input_shape) < 1:
            ap.error("--input-shape takes three positive integers C,H,W")

    import torch
    import torch.nn.functional as F

    import_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)  # eager CPU training uses intra-op threads only
    except RuntimeError:
        pass
    try:
        model, input_shape, classes = build_model(args.model, input_shape, args.classes, args.seed)
    except ValueError as e:
        ap.error(str(e))
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(args.batch, *input_shape)
    x_train = x if args.train_batch == args.batch else torch.randn(args.train_batch, *input_shape)
    y = torch.randint(0, classes, (args.train_batch,))

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x_train), y)
        loss.backward()
        opt.step()
        return loss

    log("pytorch_peer: %s (%d params, input %s, %d classes), train batch %d, inference batch %d, %d thread(s), torch %s"
        % (args.model, params, "x".join(map(str, input_shape)), classes, args.train_batch, args.batch,
           torch.get_num_threads(), torch.__version__))

    def infer():
        with torch.no_grad():
            return model(x)

    if args.serve:
        return serve(model, train_step, infer, torch)

    model.train()
    train_times = timed(train_step, args.warmup, args.steps)
    train_s = statistics.median(train_times)
    log("train step: median %.2f ms, min %.2f ms" % (train_s * 1e3, min(train_times) * 1e3))

    model.eval()
    infer_times = timed(infer, args.warmup, args.steps)
    infer_s = statistics.median(infer_times)
    log("inference: median %.2f ms/batch, min %.2f ms" % (infer_s * 1e3, min(infer_times) * 1e3))

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    result = {
        "train_step_ms": round(train_s * 1e3, 3),
        "train_images_per_s": round(args.train_batch / train_s, 1),
        "inference_images_per_s": round(args.batch / infer_s, 1),
        "peak_rss_mb": round(peak_kib / 1024.0, 1),
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        # context
        "model": args.model,
        "params": params,
        "batch": args.batch,
        "train_batch": args.train_batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "train_step_ms_min": round(min(train_times) * 1e3, 3),
        "inference_batch_ms": round(infer_s * 1e3, 3),
        "inference_batch_ms_min": round(min(infer_times) * 1e3, 3),
        "rss_after_import_mb": round(import_rss_kib / 1024.0, 1),
        "optimizer": "SGD lr 0.1 momentum 0.9 weight_decay 5e-4",
        "input_shape": [args.batch] + list(input_shape),
        "classes": classes,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print("%-24s %s" % (k, v))
    return 0


def build_model(name, input_shape, classes, seed):
    """The named network, its image shape and class count (defaults filled in); ValueError for unknown names."""
    import torch
    torch.manual_seed(seed)
    if name.startswith("torchvision:"):
        import torchvision
        from torch.fx.experimental.optimization import fuse
        arch = name[len("torchvision:"):]
        if not hasattr(torchvision.models, arch):
            raise ValueError("torchvision has no model %r" % arch)
        classes = 1000 if classes is None else classes
        # The fixture generator's seed and construction, so the weights equal the ONNX file's; then the eval-mode
        # export's BatchNormalization folding (fuse works on an eval-mode model; the result trains like any module).
        torch.manual_seed(0)
        model = getattr(torchvision.models, arch)(weights=None, num_classes=classes).eval()
        model = fuse(model)
        return model, input_shape or (3, 224, 224), classes
    import resnet20 as R
    if name not in R.MODELS:
        raise ValueError("unknown model %r (resnet20, resnet20_tiny or torchvision:NAME)" % name)
    classes = R.NUM_CLASSES if classes is None else classes
    input_shape = input_shape or R.INPUT_SHAPE
    return R.build(name, num_classes=classes, in_channels=input_shape[0]), input_shape, classes


def serve(model, train_step, infer, torch):
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] in ("train", "infer") and len(words) == 2 and words[1].isdigit() and int(words[1]) > 0:
            if words[0] == "train":
                model.train()
                fn = train_step
            else:
                model.eval()
                fn = infer
            reply = {"times_ms": [round(t * 1e3, 3) for t in timed(fn, 0, int(words[1]))]}
        elif words[0] == "stats":
            peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
            reply = {"peak_rss_mb": round(peak_kib / 1024.0, 1), "torch_version": torch.__version__,
                     "threads": torch.get_num_threads()}
        else:
            reply = {"error": "unknown command: %s" % line.strip()}
        print(json.dumps(reply), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
