"""DESIGN 6 row 2: compression_ratio, ngram_diversity, self_repetition and distinct-n on a set.

Reference: the ``diversity`` package (compression_ratio, ngram_diversity_score,
self_repetition_score) and vendi-score's distinct-n recipe (scikit-learn ``CountVectorizer``
with a whitespace tokenizer, n = 1..4), on the same texts in the same process. Times are
medians over repeats; the ratio is reference time ÷ our time for the four together, and per
metric. Also shows linear growth, and our time on Chinese texts (each CJK character a unit,
see :mod:`studio.metrics.diversity`; the references have no such mode, so ours only).

    uv run python evals/bench/bench_diversity.py [--n 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse

from _data import median_time, prose_texts

from studio.metrics import diversity as dv


def reference(texts: list[str]) -> dict[str, object]:
    import diversity
    from sklearn.feature_extraction.text import CountVectorizer

    def distinct() -> list[float]:
        out = []
        for n in (1, 2, 3, 4):
            x = CountVectorizer(
                tokenizer=str.split, ngram_range=(n, n), lowercase=False, token_pattern=None
            ).fit_transform(texts)
            out.append(x.shape[1] / x.sum())
        return out

    return {
        "compression_ratio": lambda: diversity.compression_ratio(texts),
        "ngram_diversity": lambda: diversity.ngram_diversity_score(texts),
        "self_repetition": lambda: diversity.self_repetition_score(texts, verbose=False),
        "distinct_1..4": distinct,
    }


def ours(texts: list[str]) -> dict[str, object]:
    return {
        "compression_ratio": lambda: dv.compression_ratio(texts),
        "ngram_diversity": lambda: dv.ngram_diversity(texts),
        "self_repetition": lambda: dv.self_repetition(texts),
        # one pass for n = 1..4, as set_summary asks for them
        "distinct_1..4": lambda: dv.distinct_ns(texts, (1, 2, 3, 4)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = prose_texts(args.n)
    ref_fns, our_fns = reference(texts), ours(texts)
    total_ref = total_ours = 0.0
    print(f"{len(texts)} texts")
    for name in our_fns:
        r = median_time(ref_fns[name], args.repeats)  # type: ignore[arg-type]
        o = median_time(our_fns[name], args.repeats)  # type: ignore[arg-type]
        total_ref += r
        total_ours += o
        print(f"  {name:18s} reference {r:7.3f} s  ours {o:7.3f} s  ratio {r / o:6.1f}x")
    print(
        f"all four: reference {len(texts) / total_ref:,.0f} texts/s, ours "
        f"{len(texts) / total_ours:,.0f} texts/s, ratio {total_ref / total_ours:.1f}x "
        "(target >= 10x)"
    )
    print("linear growth (ours, all four):")
    for k in (1, 2, 4):
        sub = prose_texts(args.n * k // 4, seed=k)
        fns = ours(sub)
        t = median_time(lambda f=fns: [fn() for fn in f.values()], args.repeats)  # type: ignore[operator]
        print(f"  {len(sub):6d} texts: {t:7.3f} s  ({t / len(sub) * 1e6:6.1f} us/text)")
    zh = chinese_texts(args.n // 4)
    fns = ours(zh)
    t = median_time(lambda f=fns: [fn() for fn in f.values()], args.repeats)  # type: ignore[operator]
    print(
        f"Chinese (ours, all four): {len(zh)} texts: {t:7.3f} s  ({t / len(zh) * 1e6:6.1f} us/text)"
    )


def chinese_texts(n: int) -> list[str]:
    """``n`` Chinese texts of 1-3 KB: seeded draws of the tutorial's paragraphs."""
    import random

    import realprose

    paragraphs = [p for p in realprose.chinese_tutorial().split("\n\n") if len(p) > 40]
    rng = random.Random(0)
    return ["\n\n".join(rng.sample(paragraphs, rng.randint(4, 12))) for _ in range(n)]


if __name__ == "__main__":
    main()
