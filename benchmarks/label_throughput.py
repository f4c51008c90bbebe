"""Labelling throughput on one CPU core: segments/s per labeller and for the whole labelling.

Run from the repo root::

    python benchmarks/label_throughput.py [--texts PATH.csv | --synthetic] [--repeat 3]

Texts come from ``--texts`` (a CSV with a ``text`` column), else the CMU-MOSI transcripts in
../shared/data when present, else synthetic review sentences. The process is pinned to one core
(where the OS allows it) and each timing is the best of ``--repeat`` passes, after a warm-up pass
that loads the lexicons (its time is printed separately). The target is 2,000 segments/s.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

TARGET = 2_000
MOSI = Path(__file__).resolve().parents[2] / "shared" / "data" / "mosi" / "mosi_segments_gold.csv"


def synthetic_texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    openers = ["I think", "honestly", "AND I", "but the movie", "the acting", "OVERALL IT"]
    verbs = ["was", "is", "really was", "wasn't", "DIDNT seem", "felt"]
    words = ["great", "terrible", "okay", "boring", "fantastic", "not bad", "so much fun", "awful"]
    tails = ["", " to be honest", " and I LOVED IT", " but the ending was weak", " overall"]
    return [
        f"{rng.choice(openers)} {rng.choice(verbs)} {rng.choice(words)}{rng.choice(tails)}" for _ in range(n)
    ]


def best_rate(fn, n: int, repeat: int) -> float:
    best = min(_timed(fn) for _ in range(repeat))
    return n / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=Path, help="CSV with a text column")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument("--synthetic", action="store_true", help="use synthetic sentences, not a CSV")
    parser.add_argument("--n", type=int, default=5000, help="how many synthetic sentences")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    source = None if args.synthetic else args.texts or (MOSI if MOSI.exists() else None)
    texts = pd.read_csv(source)["text"].tolist() if source else synthetic_texts(args.n)
    print(f"{len(texts)} texts from {source or 'synthetic sentences'}, one core")

    from weaklabel.labels.labellers import LABELLERS, LabelConfig, label_texts
    from weaklabel.labels.text import normalise

    config = LabelConfig()
    start = time.perf_counter()
    label_texts(texts[:10], config=config)
    print(f"warm-up (imports, lexicon loading): {time.perf_counter() - start:.2f} s")
    normed = normalise([str(t) for t in texts], mode=config.normalise, negations=config.expand_negations)
    rows = [("normalise", lambda: normalise(texts, mode=config.normalise, negations=config.expand_negations))]
    rows += [(lf.name, lambda lf=lf: lf.score(normed)) for lf in LABELLERS]
    rows.append(
        ("label_texts (checks + normalise + both + combine)", lambda: label_texts(texts, config=config))
    )
    for name, fn in rows:
        rate = best_rate(fn, len(texts), args.repeat)
        print(f"{name:52s} {rate:10,.0f} segments/s  ({rate / TARGET:5.1f}x the {TARGET:,}/s target)")


if __name__ == "__main__":
    main()
