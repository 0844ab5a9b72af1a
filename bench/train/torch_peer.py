#!/usr/bin/python3
"""PyTorch peer for bench/train/run.sh: the same char-level model, data order and optimizer as `rnn train`.

Embedding(V, E) -> 1-layer LSTM/GRU(H) -> Linear(H, V); the corpus (first 90%) cut into B contiguous streams,
windows of T steps, state carried across windows (detached); Adam, global-norm clip. Validation: the first
200,000 characters of the last 10%, cut into 32 zero-state streams (as `rnn train --eval-streams 32`).

  torch_peer.py CORPUS --cell lstm --seconds 60            # throughput: prints one JSON line
  torch_peer.py CORPUS --cell lstm --seconds 450 --eval-every 60   # time to quality
"""
import argparse, json, math, time
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("corpus")
p.add_argument("--cell", default="lstm", choices=["lstm", "gru"])
p.add_argument("--hidden", type=int, default=256)
p.add_argument("--embedding", type=int, default=64)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--seq-len", type=int, default=64)
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--clip", type=float, default=5.0)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--seconds", type=float, default=60)
p.add_argument("--eval-every", type=float, default=0, help="seconds between validations (0: only at the end)")
p.add_argument("--val-limit", type=int, default=200000)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)
text = open(a.corpus, encoding="utf-8").read()
chars = sorted(set(text))
index = {c: i for i, c in enumerate(chars)}
data = torch.tensor([index[c] for c in text], dtype=torch.long)
split = len(text) - int(len(text) * 0.1)
train, val = data[:split], data[split:split + a.val_limit + 1]
V, B, T = len(chars), a.batch, a.seq_len


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(V, a.embedding)
        self.rnn = (nn.LSTM if a.cell == "lstm" else nn.GRU)(a.embedding, a.hidden, batch_first=False)
        self.head = nn.Linear(a.hidden, V)

    def forward(self, x, state):
        y, state = self.rnn(self.embedding(x), state)
        return self.head(y), state


def detach(state):
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=a.lr)
n = (len(train) - 1) // B
inputs = train[: n * B].view(B, n).t()           # (n, B): stream b is a contiguous slice
targets = train[1: n * B + 1].view(B, n).t()
windows = n // T


def evaluate():
    model.eval()
    s = 32
    L = (len(val) - 1) // s
    xs = val[: L * s].view(s, L).t()
    ys = val[1: L * s + 1].view(s, L).t()
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for i in range(0, L, T):
            logits, state = model(xs[i:i + T], state)
            total += nn.functional.cross_entropy(logits.reshape(-1, V), ys[i:i + T].reshape(-1), reduction="sum").item()
            count += ys[i:i + T].numel()
    model.train()
    return total / count


state, step, w = None, 0, 0
curve = []
start = time.perf_counter()
next_eval = a.eval_every if a.eval_every > 0 else float("inf")
eval_time = 0.0
while time.perf_counter() - start < a.seconds:
    x, y = inputs[w * T:(w + 1) * T], targets[w * T:(w + 1) * T]
    logits, state = model(x, detach(state))
    loss = nn.functional.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), a.clip)
    opt.step()
    step += 1
    w += 1
    if w >= windows:
        w, state = 0, None
    now = time.perf_counter() - start
    if now >= next_eval:
        e0 = time.perf_counter()
        curve.append({"seconds": round(now, 1), "val_loss": evaluate()})
        eval_time += time.perf_counter() - e0
        next_eval += a.eval_every
elapsed = time.perf_counter() - start
train_seconds = elapsed - eval_time
result = {"peer": "pytorch " + torch.__version__, "cell": a.cell, "steps": step, "elapsed_seconds": elapsed,
          "tokens_per_second": step * B * T / train_seconds, "train_loss": loss.item()}
if a.eval_every > 0:
    result["val_loss"] = evaluate()
    result["curve"] = curve
print(json.dumps(result))
