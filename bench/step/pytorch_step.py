#!/usr/bin/env python3
"""PyTorch peer for the step benchmark: the same model (embedding 96x64 -> LSTM/GRU H -> dense 96 -> softmax),
batch 1, one thread, one token per call as a streaming app would. Prints ns per step (median of 7 runs).

usage: /usr/bin/python3 pytorch_step.py lstm|gru H [steps]
"""
import sys
import time

import torch

torch.set_num_threads(1)
cell, H = sys.argv[1], int(sys.argv[2])
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
emb = torch.nn.Embedding(96, 64)
rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(64, H, batch_first=True)
head = torch.nn.Linear(H, 96)
runs = []
with torch.inference_mode():
    for rep in range(8):
        state = None
        t0 = time.perf_counter_ns()
        for t in range(steps):
            x = emb(torch.tensor([[t * 7 % 96]]))
            y, state = rnn(x, state)
            p = torch.softmax(head(y[0, 0]), dim=-1)
        ns = (time.perf_counter_ns() - t0) / steps
        if rep > 0:
            runs.append(ns)
runs.sort()
print(f"{cell} H={H} ns_per_step={runs[3]:.0f}")
