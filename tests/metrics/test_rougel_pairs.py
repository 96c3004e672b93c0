"""``pair_rougel`` (packed, grouped by the first text) gives ``rougel_f1``'s floats pair by pair."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from studio.metrics import diversity as dv
from studio.metrics.summary import sampled_rougel

DATA = Path(__file__).parent / "data"


def _one_by_one(tokens: list[list[str]], pairs: np.ndarray) -> np.ndarray:
    return np.array([dv.rougel_f1(tokens[i], tokens[j]) for i, j in pairs.tolist()])


def _chinese_texts(n: int) -> list[str]:
    text = (DATA / "zh_set_paragraphs.txt").read_text("utf-8")
    sentences = [s + "。" for s in text.replace("\n", "").split("。") if s]
    rng = random.Random(0)
    return ["".join(rng.sample(sentences, rng.randint(2, 8))) for _ in range(n)]


def test_packed_pairs_match_rougel_f1_on_chinese_with_repeats_and_reversed_pairs() -> None:
    tokens = [dv.rouge_tokens(t) for t in _chinese_texts(40)]
    rng = np.random.default_rng(0)
    i = rng.integers(0, 40, 1500)
    j = (i + rng.integers(1, 40, 1500)) % 40
    pairs = np.stack([i, j], axis=1)
    pairs = np.concatenate([pairs, pairs[:50, ::-1], pairs[:50]])
    assert np.array_equal(dv.pair_rougel(tokens, pairs), _one_by_one(tokens, pairs))


def test_packed_pairs_match_rougel_f1_on_small_alphabets() -> None:
    # few symbols: long LCS, a carry into the guard bits at nearly every step
    rng = random.Random(1)
    for _ in range(40):
        tokens = [[rng.choice("ab") for _ in range(rng.randint(0, 200))] for _ in range(10)]
        tokens += [["a"] * 150, ["a"] * 7, [], ["b"] * 300]
        pairs = np.array([[rng.randrange(14), rng.randrange(14)] for _ in range(150)])
        assert np.array_equal(dv.pair_rougel(tokens, pairs), _one_by_one(tokens, pairs))


def test_sampled_rougel_is_the_mean_of_rougel_f1_over_its_seeded_pairs() -> None:
    texts = _chinese_texts(60)
    value, info = sampled_rougel(texts, max_texts=30, seed=3, n_pairs=2000)
    rng = np.random.default_rng(3)
    i = rng.integers(0, 60, size=2000)
    j = (i + rng.integers(1, 60, size=2000)) % 60
    tokens = [dv.rouge_tokens(t) for t in texts]
    assert info["exact"] is False
    assert value == float(_one_by_one(tokens, np.stack([i, j], axis=1)).mean())
