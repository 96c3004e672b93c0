"""Benchmark data: real prose cut into texts of 2 to 5 KB (DESIGN 6), deterministic.

The prose comes from ``tests/metrics/realprose.py`` (Python's docs, stdlib docstrings, licence
texts). Texts are made by joining consecutive paragraphs until a seeded target size between
2,000 and 5,000 characters is reached, cycling over the corpus with a different paragraph
offset on each pass so that texts stay distinct.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "metrics"))
sys.path.insert(0, str(REPO))

import realprose  # noqa: E402


def prose_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` English texts of 2-5 KB."""
    paragraphs = [
        p.strip()
        for t in realprose.english_corpus()
        for p in t.split("\n\n")
        if len(p.strip()) > 40
    ]
    rng = random.Random(seed)
    out: list[str] = []
    i = 0
    shift = 0
    while len(out) < n:
        target = rng.randint(2000, 5000)
        parts: list[str] = []
        size = 0
        while size < target:
            p = paragraphs[(i + shift) % len(paragraphs)]
            parts.append(p)
            size += len(p) + 2
            i += 1
            if i % len(paragraphs) == 0:
                shift += 7
        out.append("\n\n".join(parts))
    return out


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs (the machines are shared and noisy)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
