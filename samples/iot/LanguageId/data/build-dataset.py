#!/usr/bin/env python3
"""Rebuilds words.tsv, the LanguageId sample's dataset, from Debian's word lists (reproducible: fixed seed).

    sudo apt-get install -y wamerican wngerman wfrench wspanish witalian wportuguese wdutch wpolish
    python3 samples/iot/LanguageId/data/build-dataset.py [--per-language 15000] [--languages en,de,fr,it,nl,pl] [--seed 1]

Rules: each list is read from /usr/share/dict, lower-cased (a user types in lower case, so capitalisation is no
clue), and limited to words of 3 to 20 letters (str.isalpha: no apostrophes, digits or hyphens). A word found in
two or more of the chosen languages' lists is ambiguous and dropped everywhere. From what remains, --per-language words are
drawn per language with random.Random(seed) from the sorted list, and the lines ("word<TAB>language") are written
in that drawn order, language after language (the trainer shuffles with its own --seed before splitting).
"""
import argparse
import os
import random
import sys

LISTS = [
    ("en", "american-english"),
    ("de", "ngerman"),
    ("fr", "french"),
    ("es", "spanish"),
    ("it", "italian"),
    ("pt", "portuguese"),
    ("nl", "dutch"),
    ("pl", "polish"),
]


def read(path):
    with open(path, encoding="utf-8", errors="strict") as f:
        words = set()
        for line in f:
            w = line.strip().lower()
            if 3 <= len(w) <= 20 and w.isalpha():
                words.add(w)
        return words


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-language", type=int, default=15000)
    ap.add_argument("--languages", default="en,de,fr,it,nl,pl",
                    help="comma-separated codes of LISTS (default: the shipped model's six)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dict", default="/usr/share/dict")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "words.tsv"))
    a = ap.parse_args()
    chosen = a.languages.split(",")
    unknown = [c for c in chosen if c not in dict(LISTS)]
    if unknown:
        sys.exit(f"--languages: unknown codes {unknown}; known: {[c for c, _ in LISTS]}")
    lists = [(c, n) for c, n in LISTS if c in chosen]
    sets = {}
    for code, name in lists:
        path = os.path.join(a.dict, name)
        if not os.path.exists(path):
            sys.exit(f"{path}: missing; install the word lists (see this script's docstring)")
        sets[code] = read(path)
    count = {}
    for words in sets.values():
        for w in words:
            count[w] = count.get(w, 0) + 1
    rng = random.Random(a.seed)
    with open(a.out, "w", encoding="utf-8", newline="\n") as out:
        for code, _ in lists:
            unique = sorted(w for w in sets[code] if count[w] == 1)
            drawn = rng.sample(unique, min(a.per_language, len(unique)))
            print(f"{code}: {len(sets[code])} words, {len(unique)} in no other list, {len(drawn)} drawn", file=sys.stderr)
            for w in drawn:
                out.write(f"{w}\t{code}\n")


if __name__ == "__main__":
    main()
