"""DESIGN 6 row 1: every 5.1 metric and the four filters per text, against datatrove.

Reference: datatrove 0.10.1's GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter
and FineWebQualityFilter run on every text (spaCy blank "en" word splits). Both sides see the
same texts in the same process; each side's rate is a median over repeats. The reference is
timed on a subset (it is about 50x slower), its rate being texts per second.

Ours runs through the compiled kernels (:mod:`studio.metrics.kernels`, what any job of 1,000
texts or more uses); the numpy path that small jobs use is shown too. Also shows linear
growth: our time for N, 2N and 4N texts.

    uv run python evals/bench/bench_pertext.py [--n 4000] [--ref-n 300] [--repeats 3]
"""

from __future__ import annotations

import argparse

from _data import median_time, prose_texts

from studio.metrics.scorer import TextScorer


def datatrove_rate(texts: list[str], repeats: int) -> float:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = [
        GopherRepetitionFilter(),
        GopherQualityFilter(),
        C4QualityFilter(),
        FineWebQualityFilter(),
    ]
    filters[0].filter(Document(text="warm up the spaCy tokenizer.", id="w"))

    def run() -> None:
        for i, text in enumerate(texts):
            # a fresh text each repeat defeats datatrove's lru_cache on split_into_words
            text = f"{text}\n{i}-{run.calls}"  # type: ignore[attr-defined]
            for f in filters:
                f.filter(Document(text=text, id=str(i)))
        run.calls += 1  # type: ignore[attr-defined]

    run.calls = 0  # type: ignore[attr-defined]
    return len(texts) / median_time(run, repeats)


def studio_scorer(compiled: bool) -> TextScorer:
    """The scorer ``studio score`` builds (exact tiktoken cl100k token counts)."""
    from studio import tokens

    return TextScorer(
        token_counter=tokens.count_tokens,
        batch_token_counter=tokens.count_tokens_batch,
        segment_tokens=tokens.segment_rule(),
        compiled=compiled,
    )


def ours_rate(texts: list[str], repeats: int, compiled: bool = True) -> float:
    """Our rate for every 5.1 metric, n_tokens (exact tiktoken cl100k counts) included, as
    ``studio score`` builds its scorer; ``compiled``: through the numba kernels (what a
    large job uses) or the numpy path (what a small one uses, with no numba import)."""
    scorer = studio_scorer(compiled)
    # build the rules and load the kernels once, as a long-lived process has
    scorer.score_batch(texts[:300])

    def run() -> None:
        TextScorer.score_batch(scorer, texts)

    return len(texts) / median_time(run, repeats)


def zlib_us(texts: list[str], repeats: int) -> float:
    """Per-text cost of the one step no implementation of DESIGN 5.1 can skip or share:
    exact level-9 deflate of each text for compression_ratio."""
    import zlib

    return (
        median_time(lambda: [zlib.compress(t.encode(), 9) for t in texts], repeats)
        / len(texts)
        * 1e6
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--ref-n", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = prose_texts(args.n)
    avg = sum(map(len, texts)) / len(texts)
    print(f"{len(texts)} texts, mean {avg:.0f} chars")
    ref = datatrove_rate(texts[: args.ref_n], args.repeats)
    print(f"datatrove 4 filters: {ref:,.0f} texts/s (on {args.ref_n} texts)")
    ours = ours_rate(texts, args.repeats)
    print(f"studio.metrics (all 5.1 metrics, n_tokens included, + 4 filters): {ours:,.0f} texts/s")
    print(f"ratio: {ours / ref:.1f}x (target >= 50x)")
    small = ours_rate(texts, args.repeats, compiled=False)
    print(f"  numpy path (small jobs, no numba import): {small:,.0f} texts/s, {small / ref:.1f}x")
    budget = 1e6 / (50 * ref)
    print(f"target budget at 50x: {budget:,.0f} us/text; ours {1e6 / ours:,.0f} us/text")
    print(f"  of which zlib.compress(level 9), which nothing can skip: {zlib_us(texts, 3):.0f}")
    print("linear growth (ours, fresh scorer each size, warm rules):")
    for k in (1, 2, 4):
        sub = prose_texts(args.n * k // 4, seed=k)
        scorer = studio_scorer(True)
        scorer.score_batch(sub[:20])
        t = median_time(lambda s=scorer, x=sub: s.score_batch(x), args.repeats)
        print(f"  {len(sub):6d} texts: {t:7.3f} s  ({t / len(sub) * 1e6:6.1f} us/text)")


if __name__ == "__main__":
    main()
