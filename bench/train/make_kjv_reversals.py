#!/usr/bin/env python3
"""A seq2seq corpus with a wide length spread, for measuring seq2seq training speed (docs/training.md,
"Sequence to sequence"): from a text (default /work/shared/corpora/kjv.txt), 40,000 training and 2,000 held-out
lines; three quarters a single word -> the word reversed, a quarter 2-8 consecutive words -> the phrase reversed
character by character (1-66 characters on kjv.txt). Usage: make_kjv_reversals.py [text] [out-prefix]"""
import random
import re
import sys

text = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/corpora/kjv.txt"
prefix = sys.argv[2] if len(sys.argv) > 2 else "kjv-rev"
words = re.findall(r"[a-z]+", open(text, encoding="utf-8").read().lower())
rng = random.Random(1)


def line():
    if rng.random() < 0.75:
        w = rng.choice(words)
        return w, w[::-1]
    k = rng.randint(2, 8)
    i = rng.randrange(len(words) - k)
    p = " ".join(words[i:i + k])
    return p, p[::-1]


for name, n in ((prefix + ".train.tsv", 40000), (prefix + ".test.tsv", 2000)):
    with open(name, "w", encoding="utf-8") as f:
        for _ in range(n):
            a, b = line()
            f.write(a + "\t" + b + "\n")
