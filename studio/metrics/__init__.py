"""Repetition, noise and diversity metrics: pure functions over texts (DESIGN 5).

- :mod:`studio.metrics.scorer`: ``TextScorer`` gives every per-text metric (DESIGN 5.1) and
  the four filter decisions (Gopher repetition, Gopher quality, C4, FineWeb) for a text,
  reading one shared split of it (:mod:`studio.metrics.view`).
- :mod:`studio.metrics.summary`: ``set_summary`` for any set of texts (DESIGN 5.2), grouped
  views and the cross-group similarity matrix; :mod:`studio.metrics.minhash` for near-dups.
- :mod:`studio.metrics.compare`: significance tests, bootstrap CIs, effect sizes (scipy,
  imported lazily).

This package imports nothing of the studio outside itself; token counting is injected.
Names are exported lazily so that ``import studio.metrics`` costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "TextScorer": "studio.metrics.scorer",
    "TextScore": "studio.metrics.scorer",
    "Gates": "studio.metrics.scorer",
    "set_summary": "studio.metrics.summary",
    "grouped_summaries": "studio.metrics.summary",
    "cross_group_similarity": "studio.metrics.summary",
    "SET_METRIC_NAMES": "studio.metrics.summary",
    "compare_sets": "studio.metrics.compare",
    "MinHasher": "studio.metrics.minhash",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'studio.metrics' has no attribute {name!r}")
    return getattr(import_module(module), name)
