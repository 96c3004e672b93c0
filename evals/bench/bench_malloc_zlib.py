"""What glibc's malloc does to per-text ``zlib.compress`` calls (DESIGN 6, the trap).

zlib's deflate state at level 9 is about 270 KB, above glibc's default mmap threshold
(128 KB) and trim threshold, so every ``zlib.compress`` call on a small text may map and unmap
its buffers (or grow and trim the heap), paying page faults each time. We time the same
per-text compression loop in child processes under four settings:

1. glibc defaults;
2. ``MALLOC_TRIM_THRESHOLD_`` raised (and ``MALLOC_MMAP_THRESHOLD_``), as DESIGN 6 measured;
3. only ``MALLOC_TRIM_THRESHOLD_`` raised;
4. the thresholds set from inside the process with ``mallopt``
   (:func:`studio.metrics.malloc.keep_compression_buffers`, an opt-in that needs no env
   variables). The scorer uses it only where this benchmark shows a gain.

The same four settings are then applied to the whole scorer (3,000 texts at most), where
zlib's buffers are freed among numpy's large temporary arrays.

    uv run python evals/bench/bench_malloc_zlib.py [--n 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time, zlib, statistics
sys.path.insert(0, {bench!r})
from _data import prose_texts
texts = [t.encode() for t in prose_texts({n})]
if {use_mallopt}:
    sys.path.insert(0, {repo!r})
    from studio.metrics.malloc import keep_compression_buffers
    keep_compression_buffers()
if {score}:
    sys.path.insert(0, {repo!r})
    from studio.metrics.scorer import TextScorer
    scorer = TextScorer()
    strs = [t.decode() for t in texts]
    scorer.score_batch(strs)  # warm caches: the rows differ only in the allocator
def run():
    start = time.perf_counter()
    if {score}:
        scorer.score_batch(strs)
    else:
        for t in texts:
            zlib.compress(t, 9)
    return time.perf_counter() - start
print(json.dumps(statistics.median(run() for _ in range({repeats}))))
"""


def child(
    n: int, repeats: int, env_extra: dict[str, str], use_mallopt: bool, score: bool = False
) -> float:
    bench = str(Path(__file__).parent)
    repo = str(Path(__file__).resolve().parents[2])
    code = CHILD.format(
        bench=bench, repo=repo, n=n, repeats=repeats, use_mallopt=use_mallopt, score=score
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(env_extra)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    big = str(64 * 1024 * 1024)
    rows = [
        ("glibc defaults", {}, False),
        (
            "MALLOC_TRIM_THRESHOLD_ + MALLOC_MMAP_THRESHOLD_ = 64 MB",
            {"MALLOC_TRIM_THRESHOLD_": big, "MALLOC_MMAP_THRESHOLD_": big},
            False,
        ),
        ("MALLOC_TRIM_THRESHOLD_ only", {"MALLOC_TRIM_THRESHOLD_": big}, False),
        ("in-process mallopt (studio.metrics.malloc)", {}, True),
    ]
    for score in (False, True):
        what = "TextScorer.score_batch (zlib among numpy work)" if score else "zlib.compress alone"
        print(f"{what}, {args.n} texts, median of {args.repeats}, one child process per row:")
        base = None
        for name, env, mallopt in rows:
            t = child(args.n if not score else min(args.n, 3000), args.repeats, env, mallopt, score)
            base = base or t
            rate = (args.n if not score else min(args.n, 3000)) / t
            print(f"  {name:58s} {t:7.3f} s  {rate:9,.0f} texts/s  {base / t:4.2f}x vs defaults")


if __name__ == "__main__":
    main()
