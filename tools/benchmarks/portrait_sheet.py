#!/usr/bin/env python3
"""The whole pipeline on voices the default model never trained on: a sheet whose rows are the
64 px portrait (enlarged by repeating pixels), the enhanced portrait (the enhancer's size) and
the speaker's own procedural face at that size.

The held-out speakers are make default-model's (avpgan synth-data with its speakers and seed,
whose test.txt lists them); synth-data at --face-size 128 draws the same faces larger, so the
third column is the truth the portrait should resemble. Needs build/bin/avpgan, espeak-ng and
numpy; uses the library through bindings/python.

    python3 tools/benchmarks/portrait_sheet.py -o docs/images/portrait-sheet.png
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import avpgan  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", required=True, help="the sheet (PNG)")
    p.add_argument("--model", default=os.path.join(ROOT, "models", "default.safetensors"))
    p.add_argument("--enhancer", default=os.path.join(ROOT, "models", "default-enhancer.safetensors"))
    p.add_argument("--speakers", type=int, default=100, help="make default-model's speaker count")
    p.add_argument("--seed", type=int, default=1, help="make default-model's seed")
    p.add_argument("--rows", type=int, default=8, help="held-out speakers shown")
    p.add_argument("--cli", default=os.path.join(ROOT, "build", "bin", "avpgan"))
    a = p.parse_args()

    with avpgan.Model(a.model) as model, avpgan.Enhancer(a.enhancer) as enhancer, tempfile.TemporaryDirectory() as work:
        size = enhancer.info.size
        data = os.path.join(work, "data")
        subprocess.run([a.cli, "synth-data", "-o", data, "--speakers", str(a.speakers), "--seed", str(a.seed),
                        "--face-size", str(size)], check=True, stdout=subprocess.DEVNULL)
        held_out = open(os.path.join(data, "test.txt")).read().split()[:a.rows]
        rows = []
        for speaker in held_out:
            voices = sorted(os.listdir(os.path.join(data, "voices", speaker)))
            face = model.portrait(os.path.join(data, "voices", speaker, voices[0]))
            k = size // face.shape[0]
            enlarged = np.repeat(np.repeat(face, k, axis=0), k, axis=1)
            truth = read_png(os.path.join(data, "faces", speaker, "0.png"))
            rows.append(np.concatenate([enlarged, enhancer.enhance(face), truth], axis=1))
            print(f"{speaker}: portrait {face.shape[0]} px, enhanced {size} px", flush=True)
        sheet = np.concatenate(rows, axis=0)
        avpgan.save_png(a.output, sheet)
        print(f"wrote {a.output}: {len(rows)} held-out speakers x (portrait | enhanced | own face), {sheet.shape[1]}x{sheet.shape[0]}")


def read_png(path):
    """RGB8 pixels of an 8-bit RGB, non-interlaced PNG (synth-data's), with the stdlib's zlib."""
    import zlib
    data = open(path, "rb").read()
    pos, idat = 8, b""
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), 3 * w
    out, prev = np.zeros((h, stride), np.int32), np.zeros(stride, np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)], np.uint8).astype(np.int32)
        cur = np.zeros(stride, np.int32)
        for x in range(stride):
            a_ = cur[x - 3] if x >= 3 else 0
            b_, c_ = prev[x], (prev[x - 3] if x >= 3 else 0)
            pred = {0: 0, 1: a_, 2: b_, 3: (a_ + b_) // 2}.get(f)
            if pred is None:
                pp = a_ + b_ - c_
                pa, pb, pc = abs(pp - a_), abs(pp - b_), abs(pp - c_)
                pred = a_ if pa <= pb and pa <= pc else b_ if pb <= pc else c_
            cur[x] = (line[x] + pred) & 255
        out[y], prev = cur, cur
    return out.astype(np.uint8).reshape(h, w, 3)


if __name__ == "__main__":
    main()
