#!/usr/bin/python3
"""Writes the DateNormalizer corpus: one `source<TAB>target` line per example, a date written in one of many
human styles → the same date in ISO 8601 (YYYY-MM-DD). Deterministic (fixed seeds), standard library only:

    python3 samples/iot/DateNormalizer/data/make_dates.py

dates.train.tsv (40,000 lines) and dates.test.tsv (2,000 lines, held out: no date of the test set occurs in the
training set). Dates run from 1950-01-01 to 2049-12-31, so a two-digit year is unambiguous ('50–'99 → 19xx,
'00–'49 → 20xx). Numeric styles are day-first with dots (3.3.1999) or ISO-like with slashes (1999/03/03), never the
ambiguous 03/04/1999."""

import datetime
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
FIRST = datetime.date(1950, 1, 1)
SPAN = (datetime.date(2049, 12, 31) - FIRST).days + 1


def ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def styles(d, rng):
    month = MONTHS[d.month - 1]
    mon = month[:3]
    yy = f"{d.year % 100:02d}"
    day = DAYS[d.weekday()]
    return [
        f"{ordinal(d.day)} of {month} {d.year}",
        f"the {ordinal(d.day)} of {month}, {d.year}",
        f"{month} {d.day}, {d.year}",
        f"{month} {d.day}, '{yy}",
        f"{month} {ordinal(d.day)}, {d.year}",
        f"{d.day} {month} {d.year}",
        f"{d.day} {mon} {d.year}",
        f"{mon} {d.day} {d.year}",
        f"{mon}. {d.day}, '{yy}",
        f"{d.day}-{mon}-{yy}",
        f"{d.day:02d} {mon.upper()} {d.year}",
        f"{day}, {month} {d.day}, {d.year}",
        f"{day[:3]} {d.day} {mon} {d.year}",
        f"{d.day}.{d.month}.{d.year}",
        f"{d.day:02d}.{d.month:02d}.{yy}",
        f"{d.year}/{d.month:02d}/{d.day:02d}",
        f"{month.lower()} {d.day} {d.year}",
        f"{ordinal(d.day)} {month.lower()} '{yy}",
    ]


def example(d, rng):
    source = rng.choice(styles(d, rng))
    return source, d.isoformat()


def main():
    rng = random.Random(20261130)
    offsets = list(range(SPAN))
    rng.shuffle(offsets)
    test_days = offsets[:2000]
    train_days = offsets[2000:]
    with open(os.path.join(HERE, "dates.test.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for o in test_days:
            s, t = example(FIRST + datetime.timedelta(days=o), rng)
            f.write(f"{s}\t{t}\n")
    with open(os.path.join(HERE, "dates.train.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for _ in range(40000):
            s, t = example(FIRST + datetime.timedelta(days=rng.choice(train_days)), rng)
            f.write(f"{s}\t{t}\n")


if __name__ == "__main__":
    main()
