"""Set metrics, sampling, grouped views, near-dups and comparisons (no reference packages)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import realprose

from studio.metrics import diversity as dv
from studio.metrics.compare import compare_sets, holm_adjust
from studio.metrics.minhash import MinHasher, near_dup_frac_from_labels, near_duplicate_clusters
from studio.metrics.summary import (
    SET_METRIC_NAMES,
    cross_group_similarity,
    grouped_summaries,
    sampled_rougel,
    set_summary,
)


def test_distinct_and_openings_by_hand() -> None:
    texts = ["Once upon a time there was", "Once upon a time there lived", "A cat sat"]
    assert dv.distinct_n(texts, 1) == pytest.approx(10 / 15)
    assert dv.opening_diversity(texts) == pytest.approx(2 / 3)
    assert dv.lcs_length("a b c d".split(), "b d e".split()) == 2
    assert dv.rougel_f1(["x"], ["x"]) == 1.0


def test_summary_has_every_design_name() -> None:
    texts = realprose.pydoc_topics()[:40]
    summary = set_summary(texts)
    assert set(SET_METRIC_NAMES) <= set(summary)
    assert summary["n_texts"] == 40
    assert 0 < summary["distinct_1"] < summary["distinct_2"] <= 1
    assert 1 <= summary["vendi_ngram"] <= 40
    assert summary["sampling"]["homogenization_rougel"]["exact"] is True


def test_repetitive_sets_score_less_diverse() -> None:
    varied = realprose.pydoc_topics()[:30]
    same = [varied[0][:600]] * 15 + [varied[1][:600]] * 15
    a, b = set_summary(varied), set_summary(same)
    assert b["near_dup_frac"] == 1.0 and a["near_dup_frac"] < 0.5
    assert b["vendi_ngram"] < 3 < a["vendi_ngram"]
    assert b["self_bleu"] > 0.99 > a["self_bleu"]
    assert b["homogenization_rougel"] > a["homogenization_rougel"]
    assert b["distinct_2"] < a["distinct_2"]


def test_pairwise_sample_is_seeded_and_its_ci_covers_the_exact_value() -> None:
    texts = [t[:700] for t in realprose.stdlib_docstrings(max_files=60)][:120]
    exact, info = sampled_rougel(texts, max_texts=1000, seed=0)
    assert info["exact"] is True
    est, est_info = sampled_rougel(texts, max_texts=50, seed=1, n_pairs=3000)
    again, _ = sampled_rougel(texts, max_texts=50, seed=1, n_pairs=3000)
    assert est == again
    lo, hi = est_info["ci95"]
    assert lo <= exact <= hi and est_info["n_pairs"] == 3000


def test_minhash_is_deterministic_and_finds_edited_copies() -> None:
    texts = [t for t in realprose.pydoc_topics() if len(t.split()) > 150][:20]
    edited = [t.replace(" the ", " a ", 3) for t in texts[:5]]
    sig = MinHasher().signatures(texts + edited)
    assert np.array_equal(sig, MinHasher().signatures(texts + edited))
    labels = near_duplicate_clusters(sig)
    for k in range(5):
        assert labels[20 + k] == labels[k]
    assert near_dup_frac_from_labels(labels) == pytest.approx(10 / 25)


def test_grouped_views_and_similarity_matrix() -> None:
    texts = realprose.pydoc_topics()[:12]
    copies = [t[:2000] for t in texts[:6]]
    all_texts = texts + copies
    groups = ["a"] * 12 + ["b"] * 6
    per_group = grouped_summaries(all_texts, groups)
    assert per_group["a"]["n_texts"] == 12 and per_group["b"]["n_texts"] == 6
    sig = MinHasher().signatures(all_texts)
    topic = [str(i % 6) for i in range(12)] + [str(i) for i in range(6)]
    labels, m = cross_group_similarity(sig, groups, same_key=topic)
    assert labels == ["a", "b"]
    assert m.shape == (2, 2) and m[0, 1] == m[1, 0]
    assert m[0, 1] > 0.3  # b's texts are cut-down copies of a's on the same topic


def test_comparison_finds_a_real_shift_and_corrects_for_many_metrics() -> None:
    rng = np.random.default_rng(0)
    a = {"x": rng.normal(0, 1, 80).tolist(), "y": rng.normal(0, 1, 80).tolist()}
    b = {"x": rng.normal(1, 1, 90).tolist(), "y": rng.normal(0, 1, 90).tolist()}
    res = {r.metric: r for r in compare_sets(a, b)}
    assert res["x"].significant and not res["y"].significant
    assert res["x"].effect_size > 0.3 and res["x"].ci95_low > 0
    assert res["x"].p_adjusted >= res["x"].p_value
    perm = {r.metric: r for r in compare_sets(a, b, test="permutation")}
    assert perm["x"].p_value < 0.01
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_packed_rougel_and_kernel_match_the_pairwise_definitions() -> None:
    texts = [t[:900] for t in realprose.pydoc_topics()[:25]] + ["", "a b a b", "b a"]
    tokens = [dv.rouge_tokens(t) for t in texts]
    i, j = np.triu_indices(len(texts), k=1)
    matrix = dv.rougel_matrix(tokens)
    assert np.array_equal(matrix[i, j], dv.pair_rougel(tokens, np.stack([i, j], axis=1)))
    # the kernel: cosine of n-gram count vectors, n = 1..4, checked pair by pair
    kernel = dv.ngram_kernel(texts)
    for a, b in [(0, 1), (3, 7), (25, 26), (26, 27), (5, 5)]:
        sims = []
        for n in (1, 2, 3, 4):
            ca = Counter(dv._ngrams(texts[a].split(), n))
            cb = Counter(dv._ngrams(texts[b].split(), n))
            dot = sum(v * cb[g] for g, v in ca.items())
            norm = np.sqrt(sum(v * v for v in ca.values()) * sum(v * v for v in cb.values()))
            sims.append(dot / norm if norm else 0.0)
        assert kernel[a, b] == pytest.approx(np.mean(sims), abs=1e-12)
