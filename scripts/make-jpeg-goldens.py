#!/usr/bin/env python3
"""Writes the JPEG decoding fixtures of test/fixtures/jpeg/: small JPEG files covering what the decoder
must reproduce (baseline/progressive, 4:2:0/4:2:2/4:4:4/4:4:0/4:1:1, greyscale, RGB, CMYK, YCCK,
restart intervals, odd sizes, missing Huffman tables), and for each the bytes Pillow decodes,
`Image.open(f).convert("RGB").tobytes()`, as <name>.rgb (up to 64 KiB) and as a SHA-256 in
manifest.json, with the mode Pillow opens the file in.

Needs Pillow (the version this was run with is recorded in the manifest) and, for the files Pillow
cannot write, cjpeg from libjpeg-turbo (Debian: libjpeg-turbo-progs).

    python3 scripts/make-jpeg-goldens.py test/fixtures/jpeg
"""
import hashlib
import io
import json
import math
import os
import subprocess
import sys

import PIL
from PIL import Image, features


def source(w, h):
    """Gradients, a sinusoid, hard edges (to drive the IDCT into its range limits) and noise."""
    img = Image.new("RGB", (w, h))
    px = img.load()
    seed = 12345
    for y in range(h):
        for x in range(w):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            noise = (seed >> 16) % 41 - 20
            edge = 255 if ((x // 5) + (y // 4)) % 2 else 0
            r = int(255 * x / max(w - 1, 1))
            g = int(127 + 127 * math.sin(x * 0.7 + y * 0.3))
            b = edge if x > w // 2 else int(255 * y / max(h - 1, 1))
            px[x, y] = (max(0, min(255, r + noise)), max(0, min(255, g - noise)), b)
    return img


def pillow_save(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def cjpeg(img, *args):
    ppm = io.BytesIO()
    img.save(ppm, "PPM")
    return subprocess.run(["cjpeg", *args], input=ppm.getvalue(), stdout=subprocess.PIPE, check=True).stdout


def segments(data):
    """(marker, start, end) of the marker segments before the first SOS."""
    out, p = [], 2
    while p < len(data):
        m = data[p + 1]
        n = (data[p + 2] << 8) | data[p + 3]
        out.append((m, p, p + 2 + n))
        if m == 0xDA:
            break
        p += 2 + n
    return out


def without_dht(data):
    return b"".join(data[s:e] if m != 0xC4 else b"" for m, s, e in [(0xD8, 0, 2)] + segments(data)) + data[segments(data)[-1][2]:]


def with_adobe_transform(data, transform):
    for m, s, e in segments(data):
        if m == 0xEE and data[s + 4:s + 9] == b"Adobe":
            b = bytearray(data)
            b[s + 4 + 11] = transform
            return bytes(b)
    raise SystemExit("no Adobe marker")


def decodes(data):
    """Pillow's RGB bytes, or None where Pillow refuses the file."""
    try:
        return Image.open(io.BytesIO(data)).convert("RGB").tobytes()
    except Exception:
        return None


def djpeg_plain_c(data):
    """libjpeg-turbo's output with its SIMD code switched off (the C code), as PPM bytes."""
    return subprocess.run(["djpeg"], input=data, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "JSIMD_FORCENONE": "1"}).stdout


def first(candidates, keep):
    for data in candidates:
        if keep(data):
            return data
    raise SystemExit("no candidate found")


def damaged_cases():
    """Files libjpeg decodes with warnings (Pillow returns them): its recovery paths and SIMD arithmetic."""
    full = pillow_save(source(53, 37), quality=85, subsampling=2)
    sos = segments(full)[-1][2]

    def simd_differs(d):
        img = decodes(d)
        plain = Image.open(io.BytesIO(djpeg_plain_c(d))).convert("RGB").tobytes()
        return img is not None and img != plain

    # cut short before EOI where the grey fill meets coefficients so extreme that libjpeg-turbo's x86-64
    # SIMD IDCT (16-bit lanes, saturating) gives other pixels than its C code
    yield "truncated-simd", first((full[:cut] + b"\xff\xd9" for cut in range(sos + 100, len(full) - 2, 7)), simd_differs)
    # a byte changed in the scan data into a code no Huffman table has ("bad Huffman code")
    def bad_code(d):
        err = subprocess.run(["djpeg"], input=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).stderr
        return b"bad Huffman code" in err and decodes(d) is not None
    def flips():
        for i in range(sos + 50, len(full) - 2, 13):
            for v in (0xFE, 0x7F, 0xF0):
                if full[i] != 0xFF and full[i - 1] != 0xFF:
                    yield full[:i] + bytes([v]) + full[i + 1:]
    yield "bad-huffman-code", first(flips(), bad_code)
    # restart markers out of order: jpeg_resync_to_restart's choices
    rst = cjpeg(source(53, 37), "-quality", "85", "-sample", "2x1", "-restart", "2B")
    marks = [i for i in range(segments(rst)[-1][2], len(rst) - 1) if rst[i] == 0xFF and 0xD0 <= rst[i + 1] <= 0xD7]
    b = bytearray(rst)
    b[marks[3] + 1] = 0xD0 + ((rst[marks[3] + 1] - 0xD0 + 3) & 7)  # too far ahead: discarded
    b[marks[7] + 1] = 0xD0 + ((rst[marks[7] + 1] - 0xD0 + 1) & 7)  # one ahead: kept for later
    yield "restart-resync", bytes(b)
    # a progressive scan script that never refines the low AC coefficients: libjpeg's block smoothing
    script = os.path.join(os.environ.get("TMPDIR", "/tmp"), "jpeg-goldens-scans.txt")
    with open(script, "w") as f:
        f.write("0 1 2: 0 0 0 1;\n0: 1 5 0 1;\n1: 1 63 0 0;\n2: 1 63 0 0;\n0: 6 63 0 1;\n0 1 2: 0 0 1 0;\n")
    yield "progressive-unrefined", cjpeg(source(77, 51), "-scans", script)
    os.remove(script)
    # progressive data cut short before EOI: smoothing, with the rows past the cut using the earlier scans
    prog = pillow_save(source(64, 48), quality=90, subsampling=2, progressive=True)
    starts = [i for i in range(len(prog) - 1) if prog[i] == 0xFF and prog[i + 1] == 0xDA]
    yield "progressive-truncated", prog[: starts[len(starts) // 2] + 150] + b"\xff\xd9"
    # a single-scan image whose trailing markers run past the end of the file: libjpeg has all rows
    yield "trailing-cut-segment", full[:-2] + b"\xff\xe7\x40\x00garbage"


def cases():
    yield "baseline-420", pillow_save(source(45, 35), quality=90, subsampling=2)
    yield "baseline-422", pillow_save(source(42, 31), quality=80, subsampling=1)
    yield "baseline-444", pillow_save(source(33, 17), quality=100, subsampling=0)
    yield "baseline-420-optimized", pillow_save(source(64, 48), quality=50, subsampling=2, optimize=True)
    yield "progressive-420", pillow_save(source(61, 45), quality=75, subsampling=2, progressive=True)
    yield "progressive-444", pillow_save(source(40, 40), quality=95, subsampling=0, progressive=True)
    yield "gray", pillow_save(source(31, 19).convert("L"), quality=85)
    yield "gray-progressive", pillow_save(source(50, 27).convert("L"), quality=70, progressive=True)
    cmyk = pillow_save(source(29, 21).convert("CMYK"), quality=90)
    yield "cmyk", cmyk
    # the same data read as YCCK (Adobe transform 2): libjpeg's YCCK→CMYK path
    yield "ycck", with_adobe_transform(cmyk, 2)
    yield "tiny-1x1", pillow_save(source(1, 1), quality=90)
    # chroma 2 samples wide: libjpeg's box upsampling instead of the triangle filter
    yield "narrow-420", pillow_save(source(4, 9), quality=90, subsampling=2)
    # the standard tables stand in for missing DHT markers (Motion-JPEG)
    yield "no-dht", without_dht(pillow_save(source(24, 16), quality=90, subsampling=2))
    src = source(53, 37)
    yield "restart-rows-420", cjpeg(src, "-quality", "85", "-sample", "2x2", "-restart", "1")
    yield "restart-blocks-422", cjpeg(src, "-quality", "85", "-sample", "2x1", "-restart", "3B")
    yield "progressive-restart", cjpeg(src, "-quality", "85", "-progressive", "-restart", "2B")
    yield "h1v2-440", cjpeg(src, "-quality", "85", "-sample", "1x2")
    yield "h4v1-411", cjpeg(src, "-quality", "85", "-sample", "4x1")
    yield "rgb", cjpeg(src, "-quality", "90", "-rgb")
    # scan data cut short and an EOI appended: libjpeg fills the rest with grey (a warning, no error)
    full = pillow_save(source(48, 40), quality=90, subsampling=2)
    # a complete file of ~1.5 bits per block: the "holds too little data" guard must let it through
    yield "uniform-1024", pillow_save(Image.new("RGB", (1024, 1024), (90, 160, 200)), quality=75)
    yield "truncated-eoi", full[: segments(full)[-1][2] + 300] + b"\xff\xd9"
    yield from damaged_cases()


def photo(w, h, seed):
    """Smooth shading, a few hard-edged shapes and mild noise: closer to a photo than `source`."""
    img = Image.new("RGB", (w, h))
    px = img.load()
    for y in range(h):
        for x in range(w):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            n = (seed >> 16) % 9 - 4
            r = 128 + 100 * math.sin(x / 37 + y / 53)
            g = 128 + 90 * math.cos(x / 29 - y / 41)
            b = 60 + 150 * y / h
            if (x - w / 3) ** 2 + (y - h / 2) ** 2 < (w / 6) ** 2:
                r, g, b = 230, 200, 40
            if w * 0.6 < x < w * 0.8 and h * 0.2 < y < h * 0.7:
                r, g, b = 20, 40, 90
            px[x, y] = tuple(max(0, min(255, int(v + n))) for v in (r, g, b))
    return img


def bench_cases():
    """Inputs of bench/jpeg-decode.ts: 256x256, as dataset images are stored (quality 75, 4:2:0)."""
    yield "photo-baseline", pillow_save(photo(256, 256, 1), quality=75)
    yield "photo-progressive", pillow_save(photo(256, 256, 2), quality=75, progressive=True)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/jpeg"
    os.makedirs(out, exist_ok=True)
    cjpeg_version = subprocess.run(["cjpeg", "-version"], stderr=subprocess.PIPE, check=True).stderr.decode().strip()
    manifest = {"pillow": PIL.__version__, "libjpeg_turbo": features.version("libjpeg_turbo"), "cjpeg": cjpeg_version, "cases": []}
    for name, data in cases():
        with open(os.path.join(out, name + ".jpg"), "wb") as f:
            f.write(data)
        img = Image.open(io.BytesIO(data))
        mode = img.mode
        rgb = img.convert("RGB")
        pixels = rgb.tobytes()
        # large outputs are kept as their digest only
        if len(pixels) <= 65536:
            with open(os.path.join(out, name + ".rgb"), "wb") as f:
                f.write(pixels)
        digest = hashlib.sha256(pixels).hexdigest()
        manifest["cases"].append({"name": name, "width": rgb.width, "height": rgb.height, "mode": mode, "sha256": digest})
    os.makedirs(os.path.join(out, "bench"), exist_ok=True)
    for name, data in bench_cases():
        with open(os.path.join(out, "bench", name + ".jpg"), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
