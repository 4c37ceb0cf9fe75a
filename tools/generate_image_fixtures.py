#!/usr/bin/python3
"""Generates PNG and JPEG files and PIL's decoding of them, the oracle of Acp's image-folder tests.

    /usr/bin/python3 tools/generate_image_fixtures.py --out DIR

Needs only Debian's python3-pil and python3-numpy; no network. Runs in about a second; the tests call it into a
temporary folder. Writes DIR/manifest.json and:

  png/      PNGs of every colour type and bit depth, plain and Adam7-interlaced, written by hand below (so that every
            filter type 0-4 occurs, which PIL's encoder does not promise) plus some written by PIL itself;
  jpeg/     JPEGs written by PIL (libjpeg-turbo): 4:4:4, 4:2:2, 4:2:0, grey, progressive, optimised, CMYK, odd sizes;
  uniform/  same-size PNGs and JPEGs for whole-data-set tests;
  resize/   sources for the resize tests;
  corrupt/  broken files, each with a phrase the error must contain;
  expected/ raw uint8 pixel files.

For every decodable file the manifest gives PIL's pixels as the decoder should produce them ("native": 1 channel
for grey and grey+alpha, 3 for the rest, interleaved HWC) and converted to grey ("gray", PIL's convert("L") of the
RGB pixels) and to RGB ("rgb", grey repeated). Bit depths are brought to 8 bits as PIL does: 16-bit samples keep the
high byte; for 16-bit grey, which PIL keeps as 16-bit "I" values (its convert("L") would clip instead), the oracle is
PIL's 16-bit value >> 8. Every hand-written PNG is also checked here against the samples it was written from.

Resize cases ("resize") hold PIL's convert(mode).resize(scaled, BILINEAR).crop(centre) in CHW order, with the
scaled size and crop offset of torchvision's Resize(size) + CenterCrop(size), generalised to non-square targets by
scaling to the smallest size that covers the target.
"""

import argparse
import io
import json
import os
import struct
import warnings
import zlib

import numpy as np
from PIL import Image

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


# ---------------------------------------------------------------- hand-written PNG


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def pack_row(samples, depth):
    if depth == 8:
        return bytes(int(v) for v in samples)
    if depth == 16:
        return b"".join(struct.pack(">H", int(v)) for v in samples)
    out, acc, bits = bytearray(), 0, 0
    for v in samples:
        acc, bits = (acc << depth) | int(v), bits + depth
        if bits == 8:
            out.append(acc)
            acc, bits = 0, 0
    if bits:
        out.append(acc << (8 - bits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, raw, prev, bpp):
    out = bytearray([kind])
    for i, x in enumerate(raw):
        a = raw[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        predictor = (0, a, b, (a + b) // 2, paeth(a, b, c))[kind]
        out.append((x - predictor) & 0xFF)
    return bytes(out)


def image_data(samples, color_type, depth, interlace, first_filter):
    """Filtered scanlines; filter types cycle 0,1,2,3,4 from first_filter over all rows of all passes."""
    spp = SAMPLES[color_type]
    bpp = max(1, spp * depth // 8)
    data = bytearray()
    counter = first_filter
    for x0, y0, dx, dy in ADAM7 if interlace else [(0, 0, 1, 1)]:
        sub = samples[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prev = bytes(len(pack_row(sub[0].reshape(-1), depth)))
        for row in sub:
            raw = pack_row(row.reshape(-1), depth)
            data += filter_row(counter % 5, raw, prev, bpp)
            counter += 1
            prev = raw
    return bytes(data)


def png_file(samples, color_type, depth, interlace=False, palette=None, trns=None, first_filter=0, idat_size=64,
             data=None, ihdr=None):
    height, width = samples.shape[:2]
    header = ihdr or struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlace else 0)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    out += chunk(b"tEXt", b"Comment\x00ancillary chunk to skip")
    if palette is not None:
        out += chunk(b"PLTE", bytes(int(v) for v in palette.reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    compressed = data if data is not None else zlib.compress(image_data(samples, color_type, depth, interlace, first_filter), 9)
    for i in range(0, len(compressed), idat_size):
        out += chunk(b"IDAT", compressed[i:i + idat_size])
    return out + chunk(b"IEND", b"")


def test_pattern(height, width, spp, maximum, seed):
    """Gradients, noise and runs of nearly equal values: smooth areas and edges, so that every filter predicts
    something, and the near-ties where the Paeth predictor's tie-breaking order matters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for s in range(spp):
        base = (x * (s + 1) * 37 + y * (3 - s % 3) * 23) % (maximum + 1)
        noise = rng.integers(0, maximum + 1, size=(height, width))
        small = rng.integers(0, min(maximum, 4) + 1, size=(height, width))
        choice = rng.random((height, width))
        planes.append(np.where(choice < 0.3, noise, np.where(choice < 0.6, small, base)))
    return np.stack(planes, axis=-1).astype(np.uint32)


def expected_from_samples(samples, color_type, depth, palette):
    """What the samples mean at 8 bits: the self-check of the hand-written files against PIL."""
    if color_type == 3:
        return palette[samples[..., 0]].astype(np.uint8)
    if depth == 16:
        eight = samples >> 8
    elif depth < 8:
        eight = samples * (255 // ((1 << depth) - 1))
    else:
        eight = samples
    keep = 1 if color_type in (0, 4) else 3
    return eight[..., :keep].astype(np.uint8)


# ---------------------------------------------------------------- PIL oracle


def native(im):
    """PIL's pixels at 8 bits, 1 channel for grey images and 3 for colour ones (HWC)."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L"):
        return (np.array(im).astype(np.uint32) >> 8).astype(np.uint8)[..., None]
    if im.mode in ("1", "L", "LA", "La"):
        return np.array(im.convert("L"))[..., None]
    return np.array(im.convert("RGB"))


def conversions(pixels):
    if pixels.shape[2] == 1:
        return pixels[..., 0], np.repeat(pixels, 3, axis=2)
    return np.array(Image.fromarray(pixels, "RGB").convert("L")), pixels


class Writer:
    def __init__(self, out):
        self.out = out
        self.manifest = {"decode": [], "uniform": [], "corrupt": [], "resize": []}

    def write(self, relative, data):
        path = os.path.join(self.out, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return relative

    def raw(self, name, array):
        return self.write(f"expected/{name}.raw", np.ascontiguousarray(array, dtype=np.uint8).tobytes())

    def decodable(self, relative, data, section="decode", expected=None, tolerance=0):
        self.write(relative, data)
        pixels = native(Image.open(io.BytesIO(data)))
        if data.startswith(b"\x89PNG") and data[25] == 4 and pixels.shape[2] == 3:
            # PIL 9.4 opens 16-bit grey+alpha as RGBA with the grey repeated ("LA;16B->LA not yet available").
            if not (np.array_equal(pixels[..., 0], pixels[..., 1]) and np.array_equal(pixels[..., 0], pixels[..., 2])):
                raise SystemExit(f"{relative}: PIL's RGBA for 16-bit grey+alpha is not grey")
            pixels = pixels[..., :1]
        if expected is not None and not np.array_equal(pixels, expected):
            raise SystemExit(f"{relative}: PIL decodes other pixels than were written")
        gray, rgb = conversions(pixels)
        name = relative.replace("/", "_")
        self.manifest[section].append({
            "file": relative, "height": pixels.shape[0], "width": pixels.shape[1], "channels": pixels.shape[2],
            "native": self.raw(name + ".native", pixels), "gray": self.raw(name + ".gray", gray),
            "rgb": self.raw(name + ".rgb", rgb), "tolerance": tolerance})

    def corrupt(self, relative, data, phrase):
        self.write(relative, data)
        self.manifest["corrupt"].append({"file": relative, "phrase": phrase})


def hand_written_pngs(w):
    cases = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8),
             (4, 8), (4, 16), (6, 8), (6, 16)]
    names = {0: "gray", 2: "rgb", 3: "palette", 4: "grayalpha", 6: "rgba"}
    seed = 0
    for color_type, depth in cases:
        for interlace in (False, True):
            for height, width in ((11, 13), (3, 2), (1, 1)) if interlace else ((11, 13), (6, 1)):
                seed += 1
                palette = None
                if color_type == 3:
                    entries = min(1 << depth, 200)
                    palette = np.random.default_rng(seed).integers(0, 256, size=(entries, 3))
                    samples = test_pattern(height, width, 1, entries - 1, seed)
                else:
                    samples = test_pattern(height, width, SAMPLES[color_type], (1 << depth) - 1, seed)
                trns = {0: b"\x00\x01", 2: b"\x00\x01\x00\x02\x00\x03", 3: b"\x00\x80"}.get(color_type)
                data = png_file(samples, color_type, depth, interlace, palette, trns if seed % 2 else None, first_filter=seed % 5)
                name = f"png/{names[color_type]}{depth}{'_adam7' if interlace else ''}_{height}x{width}.png"
                w.decodable(name, data, expected=expected_from_samples(samples, color_type, depth, palette))


def pil_written_pngs(w):
    rgb = test_pattern(19, 23, 3, 255, 100).astype(np.uint8)
    rgba = test_pattern(19, 23, 4, 255, 101).astype(np.uint8)
    gray = test_pattern(19, 23, 1, 255, 102).astype(np.uint8)[..., 0]
    images = {
        "pil_rgb": Image.fromarray(rgb, "RGB"), "pil_rgba": Image.fromarray(rgba, "RGBA"),
        "pil_l": Image.fromarray(gray, "L"), "pil_la": Image.fromarray(rgba[..., :2], "LA"),
        "pil_1": Image.fromarray(gray).convert("1"),
        "pil_i16": Image.fromarray((test_pattern(19, 23, 1, 65535, 103)[..., 0]).astype(np.uint16), "I;16"),
        "pil_p": Image.fromarray(rgb, "RGB").quantize(colors=200),
        "pil_p4": Image.fromarray(rgb, "RGB").quantize(colors=12),
    }
    for name, im in images.items():
        buffer = io.BytesIO()
        im.save(buffer, "PNG", optimize=name.endswith("rgb"))
        w.decodable(f"png/{name}.png", buffer.getvalue())


def jpeg_bytes(im, **options):
    buffer = io.BytesIO()
    im.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def photo(height, width, seed):
    """A smooth picture with some texture; JPEG is made for such content."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rng = np.random.default_rng(seed)
    r = 128 + 100 * np.sin(x / 7.0 + seed) * np.cos(y / 11.0)
    g = 128 + 90 * np.cos((x + y) / 9.0)
    b = 255 * (x / max(1, width - 1)) * 0.6 + 40 * np.sin(y / 3.0) + 60
    rgb = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, size=(height, width, 3))
    return np.clip(rgb, 0, 255).astype(np.uint8)


def jpegs(w):
    base = Image.fromarray(photo(48, 64, 1), "RGB")
    odd = Image.fromarray(photo(23, 37, 2), "RGB")
    cases = {
        "rgb444": jpeg_bytes(base, quality=92, subsampling=0),
        "rgb422": jpeg_bytes(base, quality=85, subsampling=1),
        "rgb420": jpeg_bytes(base, quality=75, subsampling=2),
        "odd420": jpeg_bytes(odd, quality=80, subsampling=2),
        "odd422": jpeg_bytes(odd, quality=80, subsampling=1),
        "gray": jpeg_bytes(base.convert("L"), quality=90),
        "progressive": jpeg_bytes(base, quality=80, progressive=True),
        "optimized": jpeg_bytes(odd, quality=60, optimize=True),
        "cmyk": jpeg_bytes(base.convert("CMYK"), quality=90),
        "tiny": jpeg_bytes(Image.new("RGB", (1, 1), (200, 30, 90))),
    }
    for name, data in cases.items():
        w.decodable(f"jpeg/{name}.jpg", data)


def uniform(w):
    """Same-size (10 rows × 12 columns) images for whole-data-set tests."""
    for i in range(6):
        pixels = test_pattern(10, 12, 3, 255, 200 + i).astype(np.uint8)
        im = Image.fromarray(pixels, "RGB") if i % 3 else Image.fromarray(pixels[..., 0], "L")
        buffer = io.BytesIO()
        im.save(buffer, "PNG")
        w.decodable(f"uniform/u{i}.png", buffer.getvalue(), section="uniform")
    w.decodable("uniform/j0.jpg", jpeg_bytes(Image.fromarray(photo(10, 12, 7), "RGB"), quality=90), section="uniform")
    w.decodable("uniform/j1.jpg", jpeg_bytes(Image.fromarray(photo(10, 12, 8), "RGB").convert("L"), quality=90), section="uniform")
    w.write("uniform/other_size.png", png_file(test_pattern(9, 9, 3, 255, 300), 2, 8))
    # Each also resized and cropped to 7 × 9 (rows × columns), grey and RGB, for data sets opened with a target size.
    for entry in w.manifest["uniform"]:
        im = Image.open(os.path.join(w.out, entry["file"]))
        entry["resized"] = {}
        for channels in (1, 3):
            chw = pil_resize_crop(im, 7, 9, channels)
            entry["resized"][f"{channels}x7x9"] = w.raw(entry["file"].replace("/", "_") + f".resized{channels}x7x9", chw)


def scaled_and_crop(height, width, target_height, target_width):
    if target_height * width >= target_width * height:
        scaled_height, scaled_width = target_height, max(target_width, width * target_height // height)
    else:
        scaled_height, scaled_width = max(target_height, height * target_width // width), target_width
    top = int(round((scaled_height - target_height) / 2.0))
    left = int(round((scaled_width - target_width) / 2.0))
    return scaled_height, scaled_width, top, left


def pil_resize_crop(im, target_height, target_width, channels):
    """PIL's pixels for the image in CHW order, scaled (bilinear) to cover the target and centre-cropped."""
    converted = im.convert("L" if channels == 1 else "RGB")
    width, height = converted.size
    sh, sw, top, left = scaled_and_crop(height, width, target_height, target_width)
    scaled = converted if (sw, sh) == (width, height) else converted.resize((sw, sh), Image.BILINEAR)
    cropped = np.array(scaled.crop((left, top, left + target_width, top + target_height)))
    return cropped[None] if channels == 1 else cropped.transpose(2, 0, 1)


def resizes(w):
    sources = {
        "resize/landscape.png": Image.fromarray(photo(29, 37, 11), "RGB"),
        "resize/portrait_gray.png": Image.fromarray(photo(50, 20, 12)[..., 1], "L"),
        "resize/large.png": Image.fromarray(photo(120, 90, 13), "RGB"),
    }
    targets = [(16, 16), (29, 37), (29, 20), (64, 64), (20, 40), (40, 20), (7, 5), (1, 1), (100, 30), (33, 33)]
    for relative, im in sources.items():
        buffer = io.BytesIO()
        im.save(buffer, "PNG")
        w.write(relative, buffer.getvalue())
        for target_height, target_width in targets:
            for channels in (1, 3):
                width, height = im.size
                sh, sw, top, left = scaled_and_crop(height, width, target_height, target_width)
                chw = pil_resize_crop(im, target_height, target_width, channels)
                name = f"{os.path.basename(relative)[:-4]}_{target_height}x{target_width}x{channels}"
                w.manifest["resize"].append({
                    "file": relative, "height": target_height, "width": target_width, "channels": channels,
                    "scaledHeight": sh, "scaledWidth": sw, "top": top, "left": left,
                    "expected": w.raw("resize_" + name, chw)})


def corrupt(w):
    samples = test_pattern(20, 24, 3, 255, 400)
    good = png_file(samples, 2, 8, idat_size=1 << 20)
    idat = good.index(b"IDAT")
    w.corrupt("corrupt/truncated_half.png", good[: len(good) // 2], "truncated")
    w.corrupt("corrupt/no_iend.png", good[:-12], "ends before its IEND")
    w.corrupt("corrupt/signature_only.png", good[:8], "ends before its IEND")
    flipped = bytearray(good)
    flipped[idat + 20] ^= 0x10
    w.corrupt("corrupt/bad_crc.png", bytes(flipped), "CRC")
    raw = image_data(samples, 2, 8, False, 0)
    compressed = zlib.compress(raw, 9)
    w.corrupt("corrupt/bad_zlib_header.png", png_file(samples, 2, 8, data=b"\x00" + compressed[1:]), "not valid zlib data")
    w.corrupt("corrupt/bad_deflate_block.png", png_file(samples, 2, 8, data=b"\x78\x9c" + b"\xff" * 40), "not valid zlib data")
    bad_adler = compressed[:-4] + bytes(b ^ 0x55 for b in compressed[-4:])
    w.corrupt("corrupt/bad_adler.png", png_file(samples, 2, 8, data=bad_adler), "not valid zlib data")
    w.corrupt("corrupt/short_data.png", png_file(samples, 2, 8, data=zlib.compress(raw[: len(raw) - 30])), "ends early")
    bad_filter = bytearray(raw)
    bad_filter[(1 + 24 * 3) * 5] = 5
    w.corrupt("corrupt/bad_filter.png", png_file(samples, 2, 8, data=zlib.compress(bytes(bad_filter))), "filter type 5")
    w.corrupt("corrupt/huge.png", png_file(samples, 2, 8, ihdr=struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)), "larger than")
    w.corrupt("corrupt/too_many_pixels.png", png_file(samples, 0, 8, ihdr=struct.pack(">IIBBBBB", 16000, 16000, 8, 0, 0, 0, 0)), "larger than")
    w.corrupt("corrupt/zero_width.png", png_file(samples, 2, 8, ihdr=struct.pack(">IIBBBBB", 0, 20, 8, 2, 0, 0, 0)), "must be positive")
    w.corrupt("corrupt/bad_depth.png", png_file(samples, 2, 8, ihdr=struct.pack(">IIBBBBB", 24, 20, 4, 2, 0, 0, 0)), "bit depth 4")
    w.corrupt("corrupt/bad_color_type.png", png_file(samples, 2, 8, ihdr=struct.pack(">IIBBBBB", 24, 20, 8, 5, 0, 0, 0)), "colour type 5")
    w.corrupt("corrupt/bad_interlace.png", png_file(samples, 2, 8, ihdr=struct.pack(">IIBBBBB", 24, 20, 8, 2, 0, 0, 2)), "interlace method 2")
    no_idat = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 24, 20, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")
    w.corrupt("corrupt/no_idat.png", no_idat, "no IDAT")
    index_samples = test_pattern(20, 24, 1, 15, 401)
    w.corrupt("corrupt/palette_without_plte.png", png_file(index_samples, 3, 8), "without a PLTE")
    critical = good[: good.index(b"IEND") - 4] + chunk(b"ABCD", b"\x01\x02") + good[good.index(b"IEND") - 4:]
    w.corrupt("corrupt/unknown_critical.png", critical, "critical chunk ABCD")
    w.corrupt("corrupt/first_not_ihdr.png", b"\x89PNG\r\n\x1a\n" + chunk(b"tEXt", b"a\x00b") + good[8:], "first chunk is tEXt")
    w.corrupt("corrupt/text.png", b"this is not an image\n", "neither a PNG nor a JPEG")
    w.corrupt("corrupt/empty.png", b"", "empty")
    jpeg = jpeg_bytes(Image.fromarray(photo(48, 64, 3), "RGB"), quality=90)
    w.corrupt("corrupt/truncated.jpg", jpeg[: len(jpeg) * 2 // 3], "damaged or truncated")
    w.corrupt("corrupt/garbage.jpg", b"\xff\xd8\xff" + bytes(np.random.default_rng(5).integers(0, 256, 200, dtype=np.uint8)), "not a readable JPEG")
    w.corrupt("corrupt/png_named.jpg", good[:40], "truncated")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    # PIL suggests converting palette images with tRNS to RGBA; they are written that way on purpose.
    warnings.filterwarnings("ignore", message="Palette images with Transparency")
    os.makedirs(args.out, exist_ok=True)
    w = Writer(args.out)
    hand_written_pngs(w)
    pil_written_pngs(w)
    jpegs(w)
    uniform(w)
    resizes(w)
    corrupt(w)
    w.manifest["pil"] = Image.__version__
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(w.manifest, f, indent=1, default=int)
    print(f"image fixtures in {args.out}: {sum(len(v) for v in w.manifest.values() if isinstance(v, list))} cases")


if __name__ == "__main__":
    main()
