"""Grouped bootstrap ROC AUC: the vectorised ``weaklabel.metrics.bootstrap_auc`` against the obvious loop.

Run from the repo root::

    python benchmarks/bootstrap_auc.py [--n-boot 1000] [--repeat 3]

The obvious loop draws the groups of each replicate, gathers their rows and calls
``sklearn.metrics.roc_auc_score``. Both run on the same synthetic scores, at the sizes the pipeline
meets: a cross-corpus cell (100 files resampled one by one), a demo test split (300 clips from 30
videos) and a CMU-MOSEI-sized test split (4,600 segments from 680 videos). The process is pinned to
one core (where the OS allows it); each timing is the best of ``--repeat`` passes.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from weaklabel.metrics import bootstrap_auc

#: (label, rows, groups): groups == rows resamples single rows.
SIZES = (("cross-corpus cell", 100, 100), ("demo test split", 300, 30), ("MOSEI test split", 4600, 680))


def loop_bootstrap(y: np.ndarray, s: np.ndarray, groups: np.ndarray, *, n_boot: int, seed: int) -> np.ndarray:
    """The obvious cluster bootstrap: one ``roc_auc_score`` call per replicate."""
    rng = np.random.default_rng(seed)
    rows_of = [np.flatnonzero(groups == g) for g in np.unique(groups)]
    values = []
    for _ in range(n_boot):
        rows = np.concatenate([rows_of[g] for g in rng.integers(0, len(rows_of), len(rows_of))])
        if 0 < y[rows].sum() < len(rows):
            values.append(roc_auc_score(y[rows], s[rows]))
    return np.quantile(values, [0.025, 0.975])


def best_seconds(fn, *args, repeat: int, **kwargs) -> float:
    """The fastest of ``repeat`` calls of ``fn(*args, **kwargs)``, seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-boot", type=int, default=1000, help="replicates per interval")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the best counts")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = np.random.default_rng(0)
    for label, n, n_groups in SIZES:
        groups = np.sort(rng.integers(0, n_groups, n)) if n_groups < n else np.arange(n)
        y = rng.integers(0, 2, n)
        s = np.round(y + rng.normal(0, 1.5, n), 2)  # rounded: ties, as model scores have
        settings = {"n_boot": args.n_boot, "seed": 0, "repeat": args.repeat}
        vectorised = best_seconds(bootstrap_auc, y, s, groups=groups, **settings)
        loop = best_seconds(loop_bootstrap, y, s, groups, **settings)
        print(
            f"{label:18s} n={n:5d} groups={n_groups:4d}: vectorised {vectorised * 1000:7.1f} ms, "
            f"sklearn loop {loop * 1000:7.1f} ms ({loop / vectorised:.0f}x)"
        )


if __name__ == "__main__":
    main()
