#!/usr/bin/python3
"""Writes Fashion-MNIST as an image folder at ImageNet size, the data of Acp's 224-px pruning runs and tests.

    /usr/bin/python3 tools/make_fashion_image_folder.py --out DIR [--train-per-class N] [--test-per-class M]
                                                          [--size 224] [--format png|jpeg] [--offset K] [--force]

Needs only Debian's python3-pil and python3-numpy (and dataset-fashion-mnist); no network. Reads the IDX files of
/usr/share/datasets/fashion-mnist (``--source`` to change it) and writes the layout ``DatasetFolder`` recognises as an
image folder:

    DIR/train/<class>/<index>.png   the first N training images of each class, in file order (after skipping the
                                    first K of each class with --offset, so two folders can hold different images)
    DIR/test/<class>/<index>.png    the first M test-split (t10k) images of each class

Class folders are ``0_t-shirt`` ... ``9_ankle-boot``: their ordinal order, which ImageFolderDataset numbers the
classes by, is Fashion-MNIST's label order. Every image is upscaled from 28x28 to SIZE x SIZE with PIL's bilinear
filter and its grey value repeated in three channels (RGB), so a 224-px ImageNet-style network reads it unchanged.
<index> is the image's index in its IDX file. JPEGs are written at quality 90.

The folder is written into DIR.tmp and renamed to DIR when complete, so an interrupted run leaves no half folder at
DIR; an existing DIR is refused unless --force replaces it. About 1 ms per image (PNG) on one core.
"""

import argparse
import gzip
import os
import shutil
import struct
import sys

import numpy as np
from PIL import Image

CLASSES = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def find(source, prefix, kind, rank):
    for name in ("%s-%s-idx%d-ubyte" % (prefix, kind, rank), "%s-%s-idx%d-ubyte.gz" % (prefix, kind, rank)):
        path = os.path.join(source, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError("%s: no %s-%s-idx%d-ubyte[.gz]" % (source, prefix, kind, rank))


def write_split(source, prefix, split_dir, per_class, offset, size, fmt):
    images = read_idx(find(source, prefix, "images", 3))
    labels = read_idx(find(source, prefix, "labels", 1))
    written = 0
    for label, name in enumerate(CLASSES):
        folder = os.path.join(split_dir, "%d_%s" % (label, name))
        os.makedirs(folder, exist_ok=True)
        indices = np.flatnonzero(labels == label)[offset:offset + per_class]
        if len(indices) < per_class:
            raise ValueError("%s: class %s has only %d images after an offset of %d; %d asked"
                             % (prefix, name, len(indices), offset, per_class))
        for index in indices:
            image = Image.fromarray(images[index], mode="L").resize((size, size), Image.BILINEAR).convert("RGB")
            path = os.path.join(folder, "%05d.%s" % (index, "png" if fmt == "png" else "jpg"))
            if fmt == "png":
                image.save(path, format="PNG")
            else:
                image.save(path, format="JPEG", quality=90)
            written += 1
    return written


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write Fashion-MNIST as a SIZE-px RGB image folder (train/, test/).")
    ap.add_argument("--out", required=True, help="the folder to create")
    ap.add_argument("--source", default="/usr/share/datasets/fashion-mnist", help="folder of the IDX files")
    ap.add_argument("--train-per-class", type=int, default=100, help="training images per class (default 100)")
    ap.add_argument("--test-per-class", type=int, default=20, help="test images per class (default 20)")
    ap.add_argument("--offset", type=int, default=0, help="skip the first K training images of each class")
    ap.add_argument("--size", type=int, default=224, help="height and width in pixels (default 224)")
    ap.add_argument("--format", choices=["png", "jpeg"], default="png")
    ap.add_argument("--force", action="store_true", help="replace an existing --out")
    args = ap.parse_args(argv)
    for name in ("train_per_class", "test_per_class", "size"):
        if getattr(args, name) < 1:
            ap.error("--%s must be at least 1" % name.replace("_", "-"))
    if args.offset < 0:
        ap.error("--offset must be at least 0")

    out = os.path.abspath(args.out)
    if os.path.exists(out) and not args.force:
        print("make_fashion_image_folder: %s exists; pass --force to replace it" % out, file=sys.stderr)
        return 1
    temporary = out + ".tmp"
    shutil.rmtree(temporary, ignore_errors=True)
    try:
        train = write_split(args.source, "train", os.path.join(temporary, "train"), args.train_per_class, args.offset,
                            args.size, args.format)
        test = write_split(args.source, "t10k", os.path.join(temporary, "test"), args.test_per_class, 0,
                           args.size, args.format)
    except (OSError, ValueError) as e:
        shutil.rmtree(temporary, ignore_errors=True)
        print("make_fashion_image_folder: %s" % e, file=sys.stderr)
        return 1
    shutil.rmtree(out, ignore_errors=True)
    os.rename(temporary, out)
    print("%s: %d training and %d test images of %dx%dx3 (%s)" % (out, train, test, args.size, args.size, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
