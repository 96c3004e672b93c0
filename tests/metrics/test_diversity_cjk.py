"""Set metrics on Chinese text: each CJK character is a unit (DESIGN 5.1's rule, used in 5.2).

The fixture ``data/zh_set_paragraphs.txt`` holds twelve prose paragraphs copied from the
shared Chinese tutorial on synthetic data (``/work/shared/seed``), one per blank-line block.
Split on whitespace, as the references do, each paragraph would be a single token and
distinct-n would be 1.0 whatever the texts.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import realprose

from studio.metrics import diversity as dv

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def paragraphs() -> list[str]:
    text = (HERE / "data" / "zh_set_paragraphs.txt").read_text(encoding="utf-8")
    out = [p.strip() for p in text.split("\n\n") if p.strip()]
    assert len(out) == 12
    return out


@pytest.fixture(scope="module")
def sentences(paragraphs: list[str]) -> list[str]:
    """The paragraphs' clauses (ending in ， or 。), in order."""
    out = [s for p in paragraphs for s in re.findall(r"[^。，]+[。，]", p)]
    assert len(out) >= 48
    return out


def _near_copies(text: str, count: int, seed: int) -> list[str]:
    """``count`` copies of ``text``, each with three characters swapped for others of it."""
    rng = random.Random(seed)
    chars = sorted(set(text) - set("，。"))
    out = []
    for _ in range(count):
        s = list(text)
        for _ in range(3):
            s[rng.randrange(len(s))] = rng.choice(chars)
        out.append("".join(s))
    return out


def _all_metrics(texts: list[str]) -> dict[str, float]:
    out = {f"distinct_{n}": v for n, v in dv.distinct_ns(texts).items()}
    i, j = np.triu_indices(len(texts), k=1)
    out["homogenization_rougel"] = float(
        dv.rougel_matrix([dv.rouge_tokens(t) for t in texts])[i, j].mean()
    )
    out.update(
        ngram_diversity=dv.ngram_diversity(texts),
        self_repetition=dv.self_repetition(texts),
        self_bleu=dv.self_bleu(texts),
        vendi_ngram=dv.vendi_ngram(texts),
        opening_diversity=dv.opening_diversity(texts),
    )
    return out


def test_units_are_characters_in_chinese_and_words_elsewhere() -> None:
    assert dv.set_units("合成数据，是 GPT-3 的。") == [
        "合", "成", "数", "据", "，", "是", "GPT-3", "的", "。",
    ]  # fmt: skip
    assert dv.set_units("日本語のテキスト") == list("日本語のテキスト")
    # Hangul is written with spaces: words, as before
    for text in ("Ünïcode  wörds\u00a0and\u2003spaces\x1c here", "한국어 문장 입니다", "", " \n"):
        assert dv.set_units(text) == text.split()
    assert dv.rouge_tokens("Qwen2.5 模型，GPT-3") == ["qwen2", "5", "模", "型", "gpt", "3"]


def test_english_units_are_exactly_whitespace_tokens() -> None:
    texts = realprose.pydoc_topics()[:40]
    texts += realprose.perturbed(texts, count=40)
    for t in texts:
        assert dv.set_units(t) == t.split()
        assert dv._space_units(t) == t.split(" ")


def test_chinese_distinct_n_is_well_below_one(paragraphs: list[str]) -> None:
    d = dv.distinct_ns(paragraphs)
    # as whole whitespace tokens every paragraph is one distinct unigram: 1.0
    assert len({tuple(p.split()) for p in paragraphs}) == len(paragraphs)
    assert d[1] < 0.35  # about 0.25: Chinese prose reuses its characters
    assert d[1] < d[2] < d[3] < d[4] < 1.0
    assert d[4] > 0.85  # but varied prose rarely repeats four characters in a row
    assert dv.opening_diversity(paragraphs) == 1.0
    assert dv.ngram_diversity(paragraphs) < 3.0


def test_near_copies_fall_on_every_metric(paragraphs: list[str]) -> None:
    varied = _all_metrics(paragraphs)
    near = _all_metrics(_near_copies(paragraphs[5], len(paragraphs), seed=0))
    for n in (1, 2, 3, 4):
        assert near[f"distinct_{n}"] < 0.5 * varied[f"distinct_{n}"]
    assert near["ngram_diversity"] < 0.5 * varied["ngram_diversity"]
    assert near["self_repetition"] > varied["self_repetition"] + 2
    assert near["self_bleu"] > 0.8 > 0.4 > varied["self_bleu"]
    assert near["homogenization_rougel"] > 0.8 > 0.4 > varied["homogenization_rougel"]
    assert near["vendi_ngram"] < 3 < 8 < varied["vendi_ngram"]
    assert near["opening_diversity"] < varied["opening_diversity"]


def test_repeated_sentences_score_less_diverse_than_varied_prose(sentences: list[str]) -> None:
    rng = random.Random(1)
    # twelve texts of four clauses each: all different, or drawn from eight stock clauses
    varied = ["".join(sentences[4 * i : 4 * i + 4]) for i in range(12)]
    pool = sentences[:8]
    repeated = ["".join(rng.sample(pool, 4)) for _ in range(12)]
    v, r = _all_metrics(varied), _all_metrics(repeated)
    for n in (2, 3, 4):
        assert r[f"distinct_{n}"] < 0.5 * v[f"distinct_{n}"]
    assert r["self_bleu"] > v["self_bleu"] + 0.3
    assert r["self_repetition"] > v["self_repetition"]
    assert r["vendi_ngram"] < v["vendi_ngram"]
    assert r["homogenization_rougel"] > v["homogenization_rougel"]


def test_openings_are_five_characters(sentences: list[str]) -> None:
    texts = ["在此教程里，" + s for s in sentences[:6]] + sentences[6:12]
    # the six texts share their first five units 在 此 教 程 里
    assert dv.opening_diversity(texts) == pytest.approx(7 / 12)
    assert dv.opening_diversity(["一二三四五六", "一二三四五七"]) == 0.5


def test_mixed_sets_count_each_text_in_its_own_units(paragraphs: list[str]) -> None:
    english = realprose.pydoc_topics()[:6]
    mixed = english + paragraphs[:6]
    spaced = english + [" ".join(dv.set_units(p)) for p in paragraphs[:6]]
    # a Chinese text counts as its characters written with spaces between them
    assert dv.distinct_ns(mixed) == dv.distinct_ns(spaced)
    assert dv.self_bleu(mixed) == dv.self_bleu(spaced)
    assert dv.self_repetition(mixed) == dv.self_repetition(spaced)
    assert dv.opening_diversity(mixed) == dv.opening_diversity(spaced)
    np.testing.assert_array_equal(dv.ngram_kernel(mixed), dv.ngram_kernel(spaced))


@pytest.mark.reference
def test_chinese_set_metrics_are_the_references_on_character_tokens(
    paragraphs: list[str],
) -> None:
    """Our numbers on Chinese are the references' on the same text with a space between
    units (what a user would otherwise have to do by hand)."""
    import diversity
    from nltk.translate import bleu_score
    from sklearn.feature_extraction.text import CountVectorizer

    texts = paragraphs + _near_copies(paragraphs[0], 4, seed=3)
    spaced = [" ".join(dv.set_units(t)) for t in texts]
    assert dv.self_repetition(texts) == pytest.approx(
        diversity.self_repetition_score(spaced, verbose=False), rel=1e-12
    )
    spaced_pieces = [" ".join(dv._space_units(t)) for t in texts]
    assert dv.ngram_diversity(texts) == pytest.approx(
        diversity.ngram_diversity_score(spaced_pieces), abs=5e-4
    )
    toks = [t.split() for t in spaced]
    smooth = bleu_score.SmoothingFunction().method1
    ref_bleu = np.mean(
        [
            bleu_score.sentence_bleu(toks[:i] + toks[i + 1 :], toks[i], smoothing_function=smooth)
            for i in range(len(toks))
        ]
    )
    assert dv.self_bleu(texts) == pytest.approx(ref_bleu, rel=1e-9)
    for n in (1, 2, 3, 4):
        x = CountVectorizer(
            tokenizer=str.split, ngram_range=(n, n), lowercase=False, token_pattern=None
        ).fit_transform(spaced)
        assert dv.distinct_n(texts, n) == pytest.approx(x.shape[1] / x.sum(), rel=1e-12)


def test_chinese_kernel_is_the_pairwise_cosine_of_character_ngrams(paragraphs: list[str]) -> None:
    texts = paragraphs + _near_copies(paragraphs[2], 3, seed=5) + ["", "GPT 模型"]
    kernel = dv.ngram_kernel(texts)
    assert np.array_equal(kernel, kernel.T)
    for a, b in [(0, 1), (2, 12), (12, 13), (3, 3), (0, 15), (16, 11)]:
        sims = []
        for n in (1, 2, 3, 4):
            ca = Counter(dv._ngrams(dv.set_units(texts[a]), n))
            cb = Counter(dv._ngrams(dv.set_units(texts[b]), n))
            dot = sum(v * cb[g] for g, v in ca.items())
            norm = np.sqrt(sum(v * v for v in ca.values()) * sum(v * v for v in cb.values()))
            sims.append(dot / norm if norm else 0.0)
        assert kernel[a, b] == pytest.approx(np.mean(sims), abs=1e-12)
