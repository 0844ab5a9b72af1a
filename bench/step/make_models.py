#!/usr/bin/env python3
"""Writes the benchmark models (random weights, PyTorch state_dict names, no metadata) as safetensors.

Embedding 96x64 -> one LSTM or GRU layer of H in {128, 256, 512} -> dense 96. Pure Python (no torch/numpy),
so the benchmark needs nothing beyond python3.  usage: make_models.py OUT_DIR
"""
import array
import json
import os
import random
import struct
import sys

V, E = 96, 64


def tensor(rng, *shape):
    n = 1
    for d in shape:
        n *= d
    return list(shape), array.array("f", (rng.uniform(-0.1, 0.1) for _ in range(n)))


def write(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, (shape, data) in tensors.items():
        raw = data.tobytes()  # little-endian on every machine we run on
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "out/models"
    os.makedirs(out, exist_ok=True)
    for cell, gates in (("lstm", 4), ("gru", 3)):
        for h in (128, 256, 512):
            path = os.path.join(out, f"{cell}{h}.safetensors")
            if os.path.exists(path):
                continue
            rng = random.Random(h * 10 + gates)
            write(path, {
                "embedding.weight": tensor(rng, V, E),
                "rnn.weight_ih_l0": tensor(rng, gates * h, E),
                "rnn.weight_hh_l0": tensor(rng, gates * h, h),
                "rnn.bias_ih_l0": tensor(rng, gates * h),
                "rnn.bias_hh_l0": tensor(rng, gates * h),
                "head.weight": tensor(rng, V, h),
                "head.bias": tensor(rng, V),
            })
            print("wrote", path)


if __name__ == "__main__":
    main()
