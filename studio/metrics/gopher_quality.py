"""Gopher quality metrics and filter.

Source: Rae et al. 2021 (Gopher), section A.1.1; implementation reference datatrove 0.10.1
``pipeline/filters/gopher_quality_filter.py`` (``GopherQualityFilter``).

- ``n_words``: word tokens with at least one character outside datatrove's punctuation set;
- ``mean_word_length``: their mean length;
- ``hash_word_ratio``, ``ellipsis_word_ratio``: ``#`` count, and ``...`` plus ``…`` count,
  ÷ all word tokens;
- ``bullet_line_frac``, ``ellipsis_line_frac``: over ``splitlines()``, lines starting (after
  ``lstrip``) with ``•`` or ``-``; lines ending (after ``rstrip``) with ``...`` or ``…``;
- ``alpha_word_frac``: tokens with an alphabetic character ÷ all tokens;
- ``stop_words_distinct``: how many of {the, be, to, of, and, that, have, with} occur
  (case-sensitive, distinct words: datatrove's rule since January 2025).

CJK mode: the words are CJK units; the mean-word-length rule is not applied (a unit is one
character by construction, so the rule would reject every text), and the stop words are
common Chinese (or Japanese) function characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import methodcaller
from typing import TYPE_CHECKING

from studio.metrics.filters import KEEP, FilterResult, drop
from studio.metrics.punctuation import PUNCTUATION_SET

if TYPE_CHECKING:
    from studio.metrics.view import TextView

_IS_BULLET = methodcaller("startswith", ("•", "-"))
_ENDS_ELLIPSIS = methodcaller("endswith", ("...", "…"))

ENGLISH_STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
#: high-frequency Chinese function characters (particles, copula, pronouns, conjunctions)
CHINESE_STOP_WORDS = frozenset("的了是在和有我不这也就都他她们你与及或而")
#: high-frequency Japanese particles and auxiliaries (single kana units)
JAPANESE_STOP_WORDS = frozenset("のはをにがでともへやかた")


def stop_words_for(language: str) -> frozenset[str]:
    """The stop-word list used for ``stop_words_distinct`` in ``language``."""
    return {"zh": CHINESE_STOP_WORDS, "ja": JAPANESE_STOP_WORDS}.get(language, ENGLISH_STOP_WORDS)


@dataclass(frozen=True, slots=True)
class GopherQualityGates:
    """Thresholds (datatrove's defaults)."""

    min_doc_words: int = 50
    max_doc_words: int = 100_000
    min_avg_word_length: float = 3
    max_avg_word_length: float = 10
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_ratio: float = 0.9
    max_ellipsis_lines_ratio: float = 0.3
    min_alpha_words_ratio: float = 0.8
    min_stop_words: int = 2


class WordFacts:
    """Per-token facts, cached: (has a non-punctuation char, has an alphabetic char)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[bool, bool]] = {}

    def facts(self, words: list[str]) -> list[tuple[bool, bool]]:
        cache = self._cache
        missing = set(words).difference(cache)
        if missing:
            if len(cache) > 1_000_000:
                cache.clear()
                missing = set(words)
            for w in missing:
                cache[w] = (
                    any(ch not in PUNCTUATION_SET for ch in w),
                    any(ch.isalpha() for ch in w),
                )
        return [cache[w] for w in words]


def quality_metrics(view: TextView, facts: WordFacts) -> dict[str, float]:
    """All Gopher quality values for one text (ratios are 0.0 when their denominator is 0)."""
    words, lengths = view.words, view.word_lengths
    flags = facts.facts(words)
    n_non_symbol = 0
    non_symbol_chars = 0
    n_alpha = 0
    for (non_symbol, alpha), length in zip(flags, lengths, strict=True):
        if non_symbol:
            n_non_symbol += 1
            non_symbol_chars += length
        if alpha:
            n_alpha += 1
    stops = stop_words_for(view.language)
    return quality_values(
        view.text,
        view.physical_lines,
        n_tokens=len(words),
        n_non_symbol=n_non_symbol,
        non_symbol_chars=non_symbol_chars,
        n_alpha=n_alpha,
        stop_words_distinct=len(stops.intersection(words)),
    )


def quality_values(
    text: str,
    physical_lines: list[str],
    *,
    n_tokens: int,
    n_non_symbol: int,
    non_symbol_chars: int,
    n_alpha: int,
    stop_words_distinct: int,
) -> dict[str, float]:
    """The Gopher quality values from the text, its ``splitlines()`` and its word counts."""
    n_lines = len(physical_lines)
    bullets = ellipsis_lines = 0
    if n_lines:
        # map/sum keep the per-line loop in C
        if "-" in text or "•" in text:
            bullets = sum(map(_IS_BULLET, map(str.lstrip, physical_lines)))
        if "..." in text or "…" in text:
            ellipsis_lines = sum(map(_ENDS_ELLIPSIS, map(str.rstrip, physical_lines)))
    return quality_from_counts(
        text,
        n_lines,
        bullets,
        ellipsis_lines,
        n_tokens=n_tokens,
        n_non_symbol=n_non_symbol,
        non_symbol_chars=non_symbol_chars,
        n_alpha=n_alpha,
        stop_words_distinct=stop_words_distinct,
    )


def quality_from_counts(
    text: str,
    n_lines: int,
    bullets: int,
    ellipsis_lines: int,
    *,
    n_tokens: int,
    n_non_symbol: int,
    non_symbol_chars: int,
    n_alpha: int,
    stop_words_distinct: int,
) -> dict[str, float]:
    """The Gopher quality values from line counts (``splitlines()``: lines, lines whose
    ``lstrip()`` starts with a bullet, lines whose ``rstrip()`` ends with an ellipsis)."""
    return {
        "n_words": n_non_symbol,
        "mean_word_length": non_symbol_chars / n_non_symbol if n_non_symbol else 0.0,
        "hash_word_ratio": text.count("#") / n_tokens if n_tokens else 0.0,
        "ellipsis_word_ratio": (text.count("...") + text.count("…")) / n_tokens
        if n_tokens
        else 0.0,
        "bullet_line_frac": bullets / n_lines if n_lines else 0.0,
        "ellipsis_line_frac": ellipsis_lines / n_lines if n_lines else 0.0,
        "alpha_word_frac": n_alpha / n_tokens if n_tokens else 0.0,
        "stop_words_distinct": stop_words_distinct,
    }


def gopher_quality_filter(
    cjk: bool, metrics: dict[str, float], gates: GopherQualityGates
) -> FilterResult:
    """datatrove's decision order and reason strings (mean word length skipped in CJK mode)."""
    n_words = metrics["n_words"]
    if n_words < gates.min_doc_words:
        return drop("gopher_short_doc")
    if n_words > gates.max_doc_words:
        return drop("gopher_long_doc")
    if not cjk:
        if metrics["mean_word_length"] < gates.min_avg_word_length:
            return drop("gopher_below_avg_threshold")
        if metrics["mean_word_length"] > gates.max_avg_word_length:
            return drop("gopher_above_avg_threshold")
    if metrics["hash_word_ratio"] > gates.max_symbol_word_ratio:
        return drop("gopher_too_many_hashes")
    if metrics["ellipsis_word_ratio"] > gates.max_symbol_word_ratio:
        return drop("gopher_too_many_ellipsis")
    if metrics["bullet_line_frac"] > gates.max_bullet_lines_ratio:
        return drop("gopher_too_many_bullets")
    if metrics["ellipsis_line_frac"] > gates.max_ellipsis_lines_ratio:
        return drop("gopher_too_many_end_ellipsis")
    if metrics["alpha_word_frac"] < gates.min_alpha_words_ratio:
        return drop("gopher_below_alpha_threshold")
    if metrics["stop_words_distinct"] < gates.min_stop_words:
        return drop("gopher_enough_stop_words")
    return KEEP
