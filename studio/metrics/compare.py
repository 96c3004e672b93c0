"""Comparing two sets of per-text metric values (``studio compare``, the TUI).

For each metric: a two-sided Mann-Whitney U test (Mann & Whitney 1947) or, on request, a
permutation test of the difference in means; Cliff's delta as effect size (Cliff 1993;
δ = 2U / (n₁n₂) − 1, from −1 to 1, ties counted half); a seeded percentile bootstrap CI of
the difference in means (B − A); and the Holm-Bonferroni correction (Holm 1979) over all
metrics tested together.

scipy is imported inside the functions that need it: the TUI must start without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class MetricComparison:
    """One metric, set A against set B."""

    metric: str
    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    median_a: float
    median_b: float
    diff_mean: float  # mean_b - mean_a
    ci95_low: float
    ci95_high: float
    effect_size: float  # Cliff's delta, positive when B tends to be larger
    test: str
    p_value: float
    p_adjusted: float  # Holm-Bonferroni over the metrics compared together
    significant: bool  # p_adjusted < alpha

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_diff_ci(
    a: np.ndarray, b: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap CI of mean(b) - mean(a), resampling each set independently."""
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(a), size=(n_boot, len(a)))
    ib = rng.integers(0, len(b), size=(n_boot, len(b)))
    diffs = b[ib].mean(axis=1) - a[ia].mean(axis=1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(diffs, [tail, 100 - tail])
    return float(lo), float(hi)


def permutation_p_value(a: np.ndarray, b: np.ndarray, n_perm: int = 5000, seed: int = 0) -> float:
    """Two-sided permutation test of the difference in means (with the +1 correction)."""
    rng = np.random.default_rng(seed)
    pooled = np.concatenate([a, b])
    observed = abs(b.mean() - a.mean())
    perms = np.argsort(rng.random((n_perm, len(pooled))), axis=1)
    shuffled = pooled[perms]
    diffs = np.abs(shuffled[:, len(a) :].mean(axis=1) - shuffled[:, : len(a)].mean(axis=1))
    return float((np.sum(diffs >= observed - 1e-12) + 1) / (n_perm + 1))


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (monotone, capped at 1)."""
    m = len(p_values)
    order = np.argsort(p_values)
    adjusted = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[idx]))
        adjusted[idx] = running
    return adjusted.tolist()


def compare_metric(
    name: str,
    a: Sequence[float],
    b: Sequence[float],
    *,
    test: str = "mannwhitney",
    seed: int = 0,
) -> MetricComparison:
    """Compare one metric (unadjusted; :func:`compare_sets` adjusts over many)."""
    from scipy import stats

    xa = np.asarray([v for v in a if v is not None and np.isfinite(v)], dtype=float)
    xb = np.asarray([v for v in b if v is not None and np.isfinite(v)], dtype=float)
    if len(xa) == 0 or len(xb) == 0:
        nan = float("nan")
        return MetricComparison(
            name, len(xa), len(xb), nan, nan, nan, nan, nan, nan, nan, nan, test, nan, nan, False
        )
    u = stats.mannwhitneyu(xb, xa, alternative="two-sided")
    delta = 2 * float(u.statistic) / (len(xa) * len(xb)) - 1
    if test == "permutation":
        p = permutation_p_value(xa, xb, seed=seed)
    elif test == "mannwhitney":
        p = float(u.pvalue)
    else:
        raise ValueError(f"unknown test {test!r}: use 'mannwhitney' or 'permutation'")
    lo, hi = bootstrap_diff_ci(xa, xb, seed=seed)
    return MetricComparison(
        metric=name,
        n_a=len(xa),
        n_b=len(xb),
        mean_a=float(xa.mean()),
        mean_b=float(xb.mean()),
        median_a=float(np.median(xa)),
        median_b=float(np.median(xb)),
        diff_mean=float(xb.mean() - xa.mean()),
        ci95_low=lo,
        ci95_high=hi,
        effect_size=delta,
        test=test,
        p_value=p if np.isfinite(p) else 1.0,
        p_adjusted=p if np.isfinite(p) else 1.0,
        significant=False,
    )


def compare_sets(
    a: Mapping[str, Sequence[float]],
    b: Mapping[str, Sequence[float]],
    *,
    test: str = "mannwhitney",
    alpha: float = 0.05,
    seed: int = 0,
) -> list[MetricComparison]:
    """Compare every metric present in both sets, with Holm-Bonferroni over all of them."""
    names = [k for k in a if k in b]
    raw = [compare_metric(k, a[k], b[k], test=test, seed=seed) for k in names]
    tested = [r for r in raw if np.isfinite(r.p_value)]
    adjusted = holm_adjust([r.p_value for r in tested]) if tested else []
    adj_by_name = {r.metric: p for r, p in zip(tested, adjusted, strict=True)}
    out = []
    for r in raw:
        p_adj = adj_by_name.get(r.metric, float("nan"))
        fields = r.as_dict()
        fields.update(p_adjusted=p_adj, significant=bool(np.isfinite(p_adj) and p_adj < alpha))
        out.append(MetricComparison(**fields))
    return out
