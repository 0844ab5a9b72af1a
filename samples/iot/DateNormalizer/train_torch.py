#!/usr/bin/python3
"""Trains the DateNormalizer's seq2seq model with PyTorch (Debian's python3-torch) and writes it in RnnEmbedded's
seq2seq weight-file layout (docs/model-format.md, "Sequence to sequence"):

    OPENBLAS_NUM_THREADS=1 nice /usr/bin/python3 samples/iot/DateNormalizer/train_torch.py [--minutes 15]

Character GRU encoder (embedding 32, H 128) → its final h starts a character GRU decoder (embedding 16, H 128) →
Linear head over the target characters (digits, '-', U+0002 start, U+0003 stop). Teacher forcing, Adam, seeded.
Reports greedy exact match and token accuracy on data/dates.test.tsv after each epoch and keeps the best model in
models/date-seq2seq.safetensors."""

import argparse
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
START, STOP = "\u0002", "\u0003"


def read(path):
    pairs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            s, t = line.rstrip("\n").split("\t")
            pairs.append((s, t))
    return pairs


class Half(nn.Module):
    def __init__(self, vocab, embed, hidden, head):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = nn.GRU(embed, hidden, batch_first=True)
        if head:
            self.head = nn.Linear(hidden, vocab)


class Seq2Seq(nn.Module):
    def __init__(self, vs, vt, hidden):
        super().__init__()
        self.encoder = Half(vs, 32, hidden, False)
        self.decoder = Half(vt, 16, hidden, True)

    def encode(self, src, lengths):
        packed = nn.utils.rnn.pack_padded_sequence(self.encoder.embedding(src), lengths, batch_first=True, enforce_sorted=False)
        _, h = self.encoder.rnn(packed)
        return h

    def forward(self, src, lengths, tgt_in):
        h = self.encode(src, lengths)
        out, _ = self.decoder.rnn(self.decoder.embedding(tgt_in), h)
        return self.decoder.head(out)


def read_safetensors(path):
    import numpy as np
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    state = {k: torch.from_numpy(np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                                               dtype="<f4").reshape(v["shape"]).copy()) for k, v in header.items()}
    return state, meta


def write_safetensors(path, state_dict, metadata):
    header, blobs, offset = {}, [], 0
    for name, tensor in state_dict.items():
        data = tensor.detach().contiguous().to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=15)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--init", help="continue from this weight file (written by this script; optimizer state restarts)")
    ap.add_argument("--eval-every", type=int, default=100, help="batches between held-out evaluations")
    ap.add_argument("--out", default=os.path.join(HERE, "models", "date-seq2seq.safetensors"))
    args = ap.parse_args()
    torch.manual_seed(1)
    torch.set_num_threads(1)
    train = read(os.path.join(HERE, "data", "dates.train.tsv"))
    test = read(os.path.join(HERE, "data", "dates.test.tsv"))
    src_vocab = sorted({c for s, _ in train for c in s})
    tgt_vocab = [START, STOP] + sorted({c for _, t in train for c in t})
    si = {c: i for i, c in enumerate(src_vocab)}
    ti = {c: i for i, c in enumerate(tgt_vocab)}

    def batchify(pairs):
        n = max(len(s) for s, _ in pairs)
        src = torch.zeros(len(pairs), n, dtype=torch.long)
        for b, (s, _) in enumerate(pairs):
            src[b, :len(s)] = torch.tensor([si[c] for c in s])
        lengths = torch.tensor([len(s) for s, _ in pairs])
        tgt = torch.tensor([[ti[START]] + [ti[c] for c in t] + [ti[STOP]] for _, t in pairs])
        return src, lengths, tgt

    model = Seq2Seq(len(src_vocab), len(tgt_vocab), args.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.CrossEntropyLoss()
    test_src, test_len, test_tgt = batchify([p for p in test if all(c in si for c in p[0])])
    metadata = {
        "rnn.format": "1", "rnn.task": "seq2seq", "rnn.head": "decoder.head",
        "rnn.source.vocab.kind": "chars", "rnn.source.vocab": json.dumps(src_vocab),
        "rnn.vocab.kind": "chars", "rnn.vocab": json.dumps(tgt_vocab),
        "rnn.train.tool": "samples/iot/DateNormalizer/train_torch.py (torch " + torch.__version__ + ")",
    }
    best, began, epoch = -1.0, time.time(), 0
    if args.init:
        state, init_meta = read_safetensors(args.init)
        model.load_state_dict(state)
        best = float(init_meta.get("rnn.train.test_exact_match", "-1"))
        metadata["rnn.train.continued_from"] = init_meta.get("rnn.train.epochs", "?")
        print(f"continuing from {args.init} (held-out exact match {best:.4f})", flush=True)
    while time.time() - began < args.minutes * 60:
        epoch += 1
        model.train()
        g = torch.Generator().manual_seed(epoch)
        order = torch.randperm(len(train), generator=g).tolist()
        total = 0.0
        for i in range(0, len(order), 128):
            src, lengths, tgt = batchify([train[j] for j in order[i:i + 128]])
            logits = model(src, lengths, tgt[:, :-1])
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            total += loss.item()
            batches = i // 128 + 1
            if batches % args.eval_every == 0 or i + 128 >= len(order):
                best = evaluate(model, test_src, test_len, test_tgt, ti, epoch, batches, total / batches, began, best,
                                metadata, args.out)
                model.train()
            if best >= 0.999 or time.time() - began >= args.minutes * 60:
                break
        if best >= 0.999:
            break
    print(f"best test exact match {best:.4f}")


def evaluate(model, test_src, test_len, test_tgt, ti, epoch, batches, loss, began, best, metadata, out_path):
    if True:
        model.eval()
        with torch.no_grad():
            h = model.encode(test_src, test_len)
            token = torch.full((len(test_src), 1), ti[START], dtype=torch.long)
            out = []
            for _ in range(test_tgt.shape[1] - 1):
                y, h = model.decoder.rnn(model.decoder.embedding(token), h)
                token = model.decoder.head(y).argmax(-1)
                out.append(token)
            pred = torch.cat(out, 1)
            gold = test_tgt[:, 1:]
            exact = (pred == gold).all(1).float().mean().item()
            tokacc = (pred == gold).float().mean().item()
        print(f"epoch {epoch} batch {batches} loss {loss:.4f} test exact {exact:.4f} token {tokacc:.4f} "
              f"({time.time() - began:.0f} s)", flush=True)
        if exact > best:
            best = exact
            metadata["rnn.train.test_exact_match"] = f"{exact:.4f}"
            metadata["rnn.train.test_token_accuracy"] = f"{tokacc:.4f}"
            metadata["rnn.train.epochs"] = f"{epoch - 1} + {batches} batches of 128"
            write_safetensors(out_path, model.state_dict(), metadata)
    return best


if __name__ == "__main__":
    main()
