"""Benchmark: labels from votes for a 239,695-row Hart16-schema table, on one core.

The table holds simulated votes (the real one is not downloadable on every machine); it has the exact
231 columns and the real row count, which is all the labelling code sees. The script times the whole
of ``label_catalog`` (well-sampled masks, confident answers, tags, captions) and prints rows per second.
Goal: the whole table in under 5 seconds on one core.

Usage::

    python benchmarks/labels.py [--rows 239695] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from galaxysd.gz2.labels import label_catalog  # noqa: E402
from galaxysd.gz2.simulate.population import draw_population  # noqa: E402
from galaxysd.gz2.simulate.volunteers import hart16_table  # noqa: E402


def simulated_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """A Hart16-schema table of ``rows`` galaxies with simulated votes (no images)."""
    pop = draw_population(rows, seed)
    rng = np.random.default_rng(seed)
    meta = pd.DataFrame({"dr7objid": 587722981741363000 + np.arange(rows, dtype=np.int64),
                         "ra": rng.uniform(110, 260, rows), "dec": rng.uniform(-5, 68, rows),
                         "sample": "original"})
    return hart16_table(pop, meta, seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=239695, help="rows of the table (GZ2: 239,695)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions; the best is reported")
    args = parser.parse_args()
    t0 = time.perf_counter()
    table = simulated_table(args.rows)
    print(f"built a {table.shape[0]:,} x {table.shape[1]} Hart16-schema table of simulated votes "
          f"in {time.perf_counter() - t0:.1f} s")
    best = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        labels = label_catalog(table)
        best = min(best, time.perf_counter() - t)
    print(f"labelled {len(labels):,} rows ({int((labels.n_tags > 0).sum()):,} with a confident tag) "
          f"in {best:.2f} s (best of {args.repeat}): {len(labels) / best:,.0f} rows/s on one core")


if __name__ == "__main__":
    main()
