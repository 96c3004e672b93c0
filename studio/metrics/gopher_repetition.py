"""Gopher repetition metrics and filter.

Source: Rae et al. 2021, "Scaling Language Models: Methods, Analysis & Insights from Training
Gopher", table A1; implementation reference datatrove 0.10.1
``pipeline/filters/gopher_repetition_filter.py`` (``GopherRepetitionFilter``).

Metrics (each ÷ ``len(text)`` where it is a character fraction):

- ``dup_para_frac`` / ``dup_para_char_frac``: paragraphs that repeat an earlier paragraph, and
  their characters;
- ``dup_line_frac`` / ``dup_line_char_frac``: the same over lines;
- ``top_{2,3,4}_gram_char_frac``: length of the most common word n-gram (words joined by a
  space) × its count (a count of 1 included);
- ``dup_{5..10}_gram_char_frac``: datatrove's left-to-right scan for repeated n-grams (keys
  joined with no separator; a repeat adds its length and jumps n words).

In CJK mode (:mod:`studio.metrics.script`) the words are CJK units and the top n-gram length
is the sum of its units' lengths, without separators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.metrics.filters import KEEP, FilterResult, drop
from studio.metrics.ngrams import (
    PowerTable,
    duplicated_ngram_chars_all,
    join_words,
    top_ngram_chars_all,
)

if TYPE_CHECKING:
    from studio.metrics.view import TextView

TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)


@dataclass(frozen=True, slots=True)
class GopherRepetitionGates:
    """Thresholds: a text is dropped when a value is strictly above its gate."""

    dup_para_frac: float = 0.30
    dup_para_char_frac: float = 0.20
    dup_line_frac: float = 0.30
    dup_line_char_frac: float = 0.20
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.20), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = (
        (5, 0.15),
        (6, 0.14),
        (7, 0.13),
        (8, 0.12),
        (9, 0.11),
        (10, 0.10),
    )


def find_duplicates(items: list[str]) -> tuple[int, int]:
    """Items equal to an earlier item, and their total length (datatrove's ``find_duplicates``).

    Every distinct item has exactly one first occurrence, so the repeats are everything but
    one copy of each distinct item.
    """
    distinct = set(items)
    return len(items) - len(distinct), sum(map(len, items)) - sum(map(len, distinct))


def empty_repetition_metrics() -> dict[str, float]:
    """The values of an empty text (all 0.0)."""
    out = dict.fromkeys(
        ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac"), 0.0
    )
    for n in TOP_NGRAMS:
        out[f"top_{n}_gram_char_frac"] = 0.0
    for n in DUP_NGRAMS:
        out[f"dup_{n}_gram_char_frac"] = 0.0
    return out


def line_repetition_metrics(text: str, paragraphs: list[str], lines: list[str]) -> dict[str, float]:
    """The paragraph and line values of a non-empty text."""
    para_dups, para_chars = find_duplicates(paragraphs)
    line_dups, line_chars = find_duplicates(lines)
    return line_repetition_values(
        len(text), len(paragraphs), para_dups, para_chars, len(lines), line_dups, line_chars
    )


def line_repetition_values(
    n_chars: int,
    n_paragraphs: int,
    para_dups: int,
    para_chars: int,
    n_lines: int,
    line_dups: int,
    line_chars: int,
) -> dict[str, float]:
    """The paragraph and line values from their counts (``find_duplicates`` of each split)."""
    return {
        "dup_para_frac": para_dups / n_paragraphs,
        "dup_para_char_frac": para_chars / n_chars,
        "dup_line_frac": line_dups / n_lines,
        "dup_line_char_frac": line_chars / n_chars,
    }


def repetition_metrics(
    view: TextView,
    powers: PowerTable,
    ngram_chars: tuple[list[int], list[int]] | None = None,
) -> dict[str, float]:
    """All Gopher repetition values for one text (0.0 for an empty text). ``ngram_chars``:
    the top (n = 2, 3, 4) and duplicated (n = 5 .. 10) n-gram characters when already
    computed (by :func:`studio.metrics.kernels.ngram_rules`)."""
    text = view.text
    n_chars = len(text)
    if not n_chars:
        return empty_repetition_metrics()
    out = line_repetition_metrics(text, view.paragraphs, view.lines)
    if ngram_chars is not None:
        for n, chars in zip(TOP_NGRAMS, ngram_chars[0], strict=True):
            out[f"top_{n}_gram_char_frac"] = chars / n_chars
        for n, chars in zip(DUP_NGRAMS, ngram_chars[1], strict=True):
            out[f"dup_{n}_gram_char_frac"] = chars / n_chars
        return out
    words, lengths = view.words, view.word_lengths
    spaced = join_words(words, "" if view.cjk else " ", lengths, powers)
    for n, chars in top_ngram_chars_all(spaced, TOP_NGRAMS).items():
        out[f"top_{n}_gram_char_frac"] = chars / n_chars
    glued = spaced if view.cjk else join_words(words, "", lengths, powers)
    for n, chars in duplicated_ngram_chars_all(glued, DUP_NGRAMS).items():
        out[f"dup_{n}_gram_char_frac"] = chars / n_chars
    return out


def gopher_repetition_filter(
    text: str, metrics: dict[str, float], gates: GopherRepetitionGates
) -> FilterResult:
    """datatrove's decision order and reason strings."""
    if not text:
        return drop("empty")
    if metrics["dup_para_frac"] > gates.dup_para_frac:
        return drop("dup_para_frac")
    if metrics["dup_para_char_frac"] > gates.dup_para_char_frac:
        return drop("dup_para_char_frac")
    if metrics["dup_line_frac"] > gates.dup_line_frac:
        return drop("dup_line_frac")
    if metrics["dup_line_char_frac"] > gates.dup_line_char_frac:
        return drop("dup_line_char_frac")
    for n, limit in gates.top_n_grams:
        if metrics[f"top_{n}_gram_char_frac"] > limit:
            return drop(f"top_{n}_gram")
    for n, limit in gates.dup_n_grams:
        if metrics[f"dup_{n}_gram_char_frac"] > limit:
            return drop(f"duplicated_{n}_n_grams")
    return KEEP
