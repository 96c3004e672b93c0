"""DESIGN 6 row 3: MinHash signatures + LSH near-duplicate clusters, against datasketch.

Reference: datasketch ``MinHash(num_perm=112)`` over the same word-5-gram shingles (its SHA-1
per shingle, as documented) plus ``MinHashLSH(params=(14, 8))`` insert and query. Both sides
start from the raw texts; shingling for datasketch uses our normaliser so that only the
hashing and LSH differ. Median over repeats; the ratio is texts/s ours ÷ texts/s datasketch.

    uv run python evals/bench/bench_minhash.py [--n 20000] [--ref-n 4000] [--repeats 3]
"""

from __future__ import annotations

import argparse

from _data import median_time, prose_texts

from studio.metrics.minhash import _UNITS, MinHasher, near_duplicate_clusters, normalise


def datasketch_rate(texts: list[str], repeats: int) -> float:
    from datasketch import MinHash, MinHashLSH

    def run() -> None:
        lsh = MinHashLSH(num_perm=112, params=(14, 8))
        hashes = []
        for i, t in enumerate(texts):
            units = _UNITS.findall(normalise(t))
            shingles = {" ".join(units[k : k + 5]) for k in range(len(units) - 4)}
            m = MinHash(num_perm=112)
            m.update_batch([s.encode() for s in shingles])
            lsh.insert(str(i), m)
            hashes.append(m)
        for m in hashes:
            lsh.query(m)

    return len(texts) / median_time(run, repeats)


def ours_rate(texts: list[str], repeats: int) -> float:
    def run() -> None:
        near_duplicate_clusters(MinHasher().signatures(texts))

    return len(texts) / median_time(run, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--ref-n", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = prose_texts(args.n)
    ref = datasketch_rate(texts[: args.ref_n], args.repeats)
    print(f"datasketch (112 perms, 14x8 LSH): {ref:,.0f} texts/s (on {args.ref_n} texts)")
    ours = ours_rate(texts, args.repeats)
    print(f"studio.metrics.minhash: {ours:,.0f} texts/s (on {len(texts)} texts)")
    print(f"ratio: {ours / ref:.1f}x (target >= 5x)")
    print("linear growth (ours):")
    for k in (1, 2, 4):
        sub = texts[: args.n * k // 4]
        t = median_time(lambda x=sub: near_duplicate_clusters(MinHasher().signatures(x)), 1)
        print(f"  {len(sub):6d} texts: {t:7.3f} s  ({t / len(sub) * 1e6:6.1f} us/text)")


if __name__ == "__main__":
    main()
