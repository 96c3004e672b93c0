"""The set summary (DESIGN 5.2) of any list of texts, plus grouped views.

``set_summary`` returns the DESIGN 5.2 names as keys. Pairwise metrics are exact up to
``max_pairwise_texts`` texts; above that they are estimated on a seeded sample and the
summary's ``"sampling"`` entry gives the sample size and a 95% confidence interval:

- ``homogenization_rougel``: mean over ``n_pairs`` ordered pairs drawn uniformly (with
  replacement) from all ordered pairs; CI = mean ± 1.96 · s / √n_pairs (normal approximation).
- ``vendi_ngram``: the Vendi score depends on the set size, so it is computed on
  ``max_pairwise_texts`` texts drawn without replacement (``repeats`` draws); the value is the
  mean over draws and the CI the range of the middle 95% of draws (percentile).
- ``self_bleu`` needs no sample: :func:`studio.metrics.diversity.self_bleu` is exact and linear.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from studio.metrics import diversity as dv
from studio.metrics.minhash import (
    MinHasher,
    near_dup_frac_from_labels,
    near_duplicate_clusters,
)

SET_METRIC_NAMES = (
    "distinct_1",
    "distinct_2",
    "distinct_3",
    "distinct_4",
    "ngram_diversity",
    "compression_ratio",
    "self_repetition",
    "homogenization_rougel",
    "self_bleu",
    "vendi_ngram",
    "near_dup_frac",
    "opening_diversity",
)


def sampled_rougel(
    texts: Sequence[str], max_texts: int, seed: int, n_pairs: int = 20_000
) -> tuple[float, dict[str, Any]]:
    """Mean ROUGE-L F1 over ordered pairs, exact or on a seeded sample of pairs."""
    n = len(texts)
    if n < 2:
        return 0.0, {"exact": True, "n_pairs": 0}
    tokens = [dv.rouge_tokens(t) for t in texts]
    if n <= max_texts:
        i, j = np.triu_indices(n, k=1)
        scores = dv.rougel_matrix(tokens)[i, j]
        # F1 is symmetric, so the ordered-pair mean equals the unordered one
        return float(scores.mean()), {"exact": True, "n_pairs": int(n * (n - 1))}
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=n_pairs)
    j = (i + rng.integers(1, n, size=n_pairs)) % n  # uniform over j != i
    scores = dv.pair_rougel(tokens, np.stack([i, j], axis=1))
    mean = float(scores.mean())
    half = 1.96 * float(scores.std(ddof=1)) / np.sqrt(n_pairs)
    return mean, {
        "exact": False,
        "n_pairs": n_pairs,
        "seed": seed,
        "ci95": [mean - half, mean + half],
    }


def sampled_vendi(
    texts: Sequence[str], max_texts: int, seed: int, repeats: int = 5
) -> tuple[float, dict[str, Any]]:
    """Vendi score, exact or averaged over seeded subsets of ``max_texts`` texts."""
    n = len(texts)
    if n <= max_texts:
        return dv.vendi_ngram(texts), {"exact": True, "sample_size": n}
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(repeats):
        pick = rng.choice(n, size=max_texts, replace=False)
        values.append(dv.vendi_ngram([texts[k] for k in pick]))
    arr = np.array(values)
    lo, hi = np.percentile(arr, [2.5, 97.5])
    return float(arr.mean()), {
        "exact": False,
        "sample_size": max_texts,
        "repeats": repeats,
        "seed": seed,
        "ci95": [float(lo), float(hi)],
    }


def set_summary(
    texts: Sequence[str],
    *,
    max_pairwise_texts: int = 300,
    seed: int = 0,
    hasher: MinHasher | None = None,
    signatures: np.ndarray | None = None,
) -> dict[str, Any]:
    """Every DESIGN 5.2 metric for ``texts``, with ``n_texts`` and the ``sampling`` details."""
    texts = list(texts)
    out: dict[str, Any] = {"n_texts": len(texts)}
    for n, value in dv.distinct_ns(texts, (1, 2, 3, 4)).items():
        out[f"distinct_{n}"] = value
    out["ngram_diversity"] = dv.ngram_diversity(texts)
    out["compression_ratio"] = dv.compression_ratio(texts)
    out["self_repetition"] = dv.self_repetition(texts)
    rougel, rougel_info = sampled_rougel(texts, max_pairwise_texts, seed)
    out["homogenization_rougel"] = rougel
    out["self_bleu"] = dv.self_bleu(texts)
    vendi, vendi_info = sampled_vendi(texts, max_pairwise_texts, seed)
    out["vendi_ngram"] = vendi
    if signatures is None:
        signatures = (hasher or MinHasher()).signatures(texts)
    out["near_dup_frac"] = near_dup_frac_from_labels(near_duplicate_clusters(signatures))
    out["opening_diversity"] = dv.opening_diversity(texts)
    out["sampling"] = {
        "homogenization_rougel": rougel_info,
        "vendi_ngram": vendi_info,
        "self_bleu": {"exact": True, "n_texts": len(texts)},
    }
    return out


def grouped_summaries(
    texts: Sequence[str], groups: Sequence[Hashable], **kwargs: Any
) -> dict[Hashable, dict[str, Any]]:
    """``set_summary`` per group (persona, style, topic subtree, model, ...)."""
    by_group: dict[Hashable, list[str]] = {}
    for text, g in zip(texts, groups, strict=True):
        by_group.setdefault(g, []).append(text)
    return {g: set_summary(members, **kwargs) for g, members in by_group.items()}


def cross_group_similarity(
    signatures: np.ndarray,
    groups: Sequence[Hashable],
    same_key: Sequence[Hashable] | None = None,
    max_per_group: int = 300,
    seed: int = 0,
) -> tuple[list[Hashable], np.ndarray]:
    """Mean estimated Jaccard (MinHash) between the texts of every two groups.

    With ``same_key`` (for example the topic path), only pairs with the same key count, so
    the matrix shows whether two personas write different texts *on the same topic*. The
    diagonal compares a group with itself (pairs of distinct texts). Cells with no pair are
    NaN. Groups larger than ``max_per_group`` are subsampled (seeded).
    """
    labels = list(dict.fromkeys(groups))
    rng = np.random.default_rng(seed)
    members: dict[Hashable, np.ndarray] = {}
    group_arr = list(groups)
    for g in labels:
        idx = np.array([k for k, x in enumerate(group_arr) if x == g])
        if len(idx) > max_per_group:
            idx = np.sort(rng.choice(idx, size=max_per_group, replace=False))
        members[g] = idx
    keys = np.array([hash(k) for k in same_key]) if same_key is not None else None
    m = np.full((len(labels), len(labels)), np.nan)
    for a, ga in enumerate(labels):
        for b, gb in enumerate(labels[a:], start=a):
            ia, ib = members[ga], members[gb]
            sim = (signatures[ia][:, None, :] == signatures[ib][None, :, :]).mean(axis=2)
            mask = np.ones_like(sim, dtype=bool)
            if a == b:
                mask &= ia[:, None] != ib[None, :]
            if keys is not None:
                mask &= keys[ia][:, None] == keys[ib][None, :]
            if mask.any():
                m[a, b] = m[b, a] = float(sim[mask].mean())
    return labels, m
