"""Per-text scoring: every DESIGN 5.1 metric and the four filter decisions for one text.

A :class:`TextScorer` owns the caches that make scoring fast (word splits per chunk, facts
per token, hash powers) and the gates. It is a plain object: build one, score many texts.
Token counting is injected (``token_counter`` / ``batch_token_counter``) so this package
imports nothing outside itself; the CLI passes :mod:`studio.tokens`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from studio.metrics.c4 import C4Gates, c4_filter
from studio.metrics.fineweb import FineWebGates, fineweb_filter, fineweb_metrics
from studio.metrics.gopher_quality import (
    GopherQualityGates,
    WordFacts,
    gopher_quality_filter,
    quality_metrics,
)
from studio.metrics.gopher_repetition import (
    GopherRepetitionGates,
    gopher_repetition_filter,
    repetition_metrics,
)
from studio.metrics.ngrams import PowerTable
from studio.metrics.view import TextView, build_view
from studio.metrics.words import EnglishWordSplitter

if TYPE_CHECKING:
    from studio.metrics.filters import FilterResult

TokenCounter = Callable[[str], int]
BatchTokenCounter = Callable[[list[str]], list[int]]

FILTER_NAMES = ("gopher_repetition", "gopher_quality", "c4", "fineweb")


@dataclass(frozen=True, slots=True)
class Gates:
    """All per-text gates; defaults are datatrove's (DESIGN 5.1)."""

    gopher_repetition: GopherRepetitionGates = field(default_factory=GopherRepetitionGates)
    gopher_quality: GopherQualityGates = field(default_factory=GopherQualityGates)
    c4: C4Gates = field(default_factory=C4Gates)
    fineweb: FineWebGates = field(default_factory=FineWebGates)


@dataclass(frozen=True, slots=True)
class TextScore:
    """What ``studio score`` adds to a line: ``metrics`` and ``filters``."""

    metrics: dict[str, Any]
    filters: dict[str, FilterResult]

    def as_dict(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "filters": self.filters}


def compression_ratio(text: str) -> float:
    """UTF-8 bytes ÷ zlib-compressed bytes at level 9 (gzip's deflate, without its header).

    A low-compressibility text scores near 1, a repetitive one high. Empty text gives 0.0.
    """
    raw = text.encode("utf-8")
    if not raw:
        return 0.0
    return len(raw) / len(zlib.compress(raw, 9))


class TextScorer:
    """Scores texts one at a time or in batches, reusing its caches."""

    def __init__(
        self,
        gates: Gates | None = None,
        token_counter: TokenCounter | None = None,
        batch_token_counter: BatchTokenCounter | None = None,
    ) -> None:
        self.gates = gates or Gates()
        self.splitter = EnglishWordSplitter()
        self._facts = WordFacts()
        self._powers = PowerTable()
        self._count_tokens = token_counter
        self._count_tokens_batch = batch_token_counter

    def view(self, text: str, language: str | None = None) -> TextView:
        """The shared split of ``text`` (see :mod:`studio.metrics.view`)."""
        return build_view(text, self.splitter, language)

    def score(self, text: str, language: str | None = None) -> TextScore:
        """All metrics and filter decisions for one text."""
        n_tokens = self._count_tokens(text) if self._count_tokens is not None else None
        return self._score_view(self.view(text, language), n_tokens)

    def score_batch(self, texts: Sequence[str], language: str | None = None) -> list[TextScore]:
        """Scores for many texts; token counts go through the batch counter when given."""
        counts: Sequence[int | None]
        if self._count_tokens_batch is not None:
            counts = self._count_tokens_batch(list(texts))
        elif self._count_tokens is not None:
            counts = [self._count_tokens(t) for t in texts]
        else:
            counts = [None] * len(texts)
        return [
            self._score_view(self.view(t, language), c) for t, c in zip(texts, counts, strict=True)
        ]

    def _score_view(self, view: TextView, n_tokens: int | None) -> TextScore:
        g = self.gates
        rep = repetition_metrics(view, self._powers)
        qual = quality_metrics(view, self._facts)
        fw = fineweb_metrics(view, g.fineweb)
        metrics: dict[str, Any] = {"language": view.language}
        metrics.update(rep)
        metrics.update(qual)
        metrics.update(fw)
        metrics["n_chars"] = len(view.text)
        metrics["n_tokens"] = n_tokens
        metrics["compression_ratio"] = compression_ratio(view.text)
        filters: dict[str, FilterResult] = {
            "gopher_repetition": gopher_repetition_filter(view, rep, g.gopher_repetition),
            "gopher_quality": gopher_quality_filter(view, qual, g.gopher_quality),
            "c4": c4_filter(view, self.splitter, g.c4),
            "fineweb": fineweb_filter(view, fw, g.fineweb),
        }
        return TextScore(metrics, filters)
