#!/usr/bin/env python3
"""Exports the benchmark models (make_models.py's safetensors, same weights) as ONNX step graphs for the ONNX
Runtime peer (bench/StepPeers): one token in, the state carried between calls as graph inputs and outputs.

  lstm: token int64 [1, 1], h float [1, 1, H], c float [1, 1, H] -> probs [1, 96], h_out, c_out
  gru:  token int64 [1, 1], h float [1, 1, H]                     -> probs [1, 96], h_out

Embedding 96x64 -> torch.nn.LSTM/GRU (ONNX LSTM/GRU op, one time step) -> Linear 96 -> softmax, exported with
torch.onnx.export (opset 14). Needs python3-torch and python3-onnx (Debian). The graph is deterministic given the
weights, so the bench data is reproducible: make_models.py fixes the weights, this script only re-expresses them.
usage: export_onnx.py MODELS_DIR   (writes MODELS_DIR/{lstm,gru}{128,256,512}.onnx next to the safetensors)
"""
import json
import os
import struct
import sys

import torch

V, E = 96, 64


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {meta['dtype']}, expected F32")
        begin, end = meta["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(meta["shape"]).clone()
    return tensors


class Step(torch.nn.Module):
    def __init__(self, cell, weights):
        super().__init__()
        hidden = weights["rnn.weight_hh_l0"].shape[1]
        self.cell = cell
        self.embedding = torch.nn.Embedding(V, E)
        self.rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(E, hidden)  # seq-first: [T=1, B=1, E]
        self.head = torch.nn.Linear(hidden, V)
        self.load_state_dict(weights, strict=True)

    def forward(self, token, h, c=None):
        x = self.embedding(token)  # [1, 1, E]
        if self.cell == "lstm":
            y, (h2, c2) = self.rnn(x, (h, c))
            return torch.softmax(self.head(y[0]), dim=-1), h2, c2
        y, h2 = self.rnn(x, h)
        return torch.softmax(self.head(y[0]), dim=-1), h2


def main():
    models = sys.argv[1] if len(sys.argv) > 1 else "out/models"
    torch.manual_seed(0)
    for cell in ("lstm", "gru"):
        for hidden in (128, 256, 512):
            src = os.path.join(models, f"{cell}{hidden}.safetensors")
            dst = os.path.join(models, f"{cell}{hidden}.onnx")
            step = Step(cell, read_safetensors(src)).eval()
            token = torch.tensor([[7]], dtype=torch.int64)
            h = torch.zeros(1, 1, hidden)
            args = (token, h, torch.zeros(1, 1, hidden)) if cell == "lstm" else (token, h)
            inputs = ["token", "h", "c"] if cell == "lstm" else ["token", "h"]
            outputs = ["probs", "h_out", "c_out"] if cell == "lstm" else ["probs", "h_out"]
            tmp = dst + ".tmp"
            with torch.no_grad():
                torch.onnx.export(step, args, tmp, input_names=inputs, output_names=outputs, opset_version=14,
                                  do_constant_folding=True)
            os.replace(tmp, dst)
            # The first step's probabilities, for the C# side to check that ONNX Runtime runs the same model.
            with torch.no_grad():
                probs = step(*args)[0][0]
            print(f"wrote {dst} probs[0..3]={[round(float(p), 7) for p in probs[:3]]}")


if __name__ == "__main__":
    main()
