#!/usr/bin/python3
"""Writes a synthetic caption corpus for `rnn train --task caption` (no real images are available here).

Each "image" is a scene of 1-3 objects of one colour and shape at one position. Its feature vector (F=16) is a
fixed random projection of the scene's one-hot attributes plus Gaussian noise, standing in for an image
encoder's output. The caption says what the scene holds, e.g. "two red circles on the left".
Line format: f1 f2 ... f16<TAB>caption words. Deterministic for a given --seed.

  make_toy_captions.py OUT.txt [--count 4000] [--seed 7]
"""
import argparse, random

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--count", type=int, default=4000)
p.add_argument("--seed", type=int, default=7)
p.add_argument("--noise", type=float, default=0.15)
a = p.parse_args()

rng = random.Random(a.seed)
colors = ["red", "green", "blue", "yellow", "black", "white"]
shapes = [("circle", "circles"), ("square", "squares"), ("triangle", "triangles"), ("star", "stars")]
counts = ["one", "two", "three"]
places = ["on the left", "on the right", "in the middle", "at the top", "at the bottom"]
attributes = len(colors) + len(shapes) + len(counts) + len(places)
F = 16
projection = [[rng.gauss(0, 1 / attributes ** 0.5) * 2 for _ in range(attributes)] for _ in range(F)]

with open(a.out, "w", encoding="utf-8") as f:
    for _ in range(a.count):
        c, s, n, w = rng.randrange(len(colors)), rng.randrange(len(shapes)), rng.randrange(len(counts)), rng.randrange(len(places))
        hot = [0.0] * attributes
        for i in (c, len(colors) + s, len(colors) + len(shapes) + n, len(colors) + len(shapes) + len(counts) + w):
            hot[i] = 1.0
        features = [sum(projection[r][i] * hot[i] for i in range(attributes)) + rng.gauss(0, a.noise) for r in range(F)]
        noun = shapes[s][0] if n == 0 else shapes[s][1]
        article = "a" if n == 0 and rng.random() < 0.5 else counts[n]
        caption = f"{article} {colors[c]} {noun} {places[w]}"
        if rng.random() < 0.3:
            caption = f"there {'is' if n == 0 else 'are'} {caption}"
        f.write(" ".join(f"{x:.4f}" for x in features) + "\t" + caption + "\n")
