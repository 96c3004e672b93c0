"""FineWeb quality metrics and filter.

Source: Penedo et al. 2024, "The FineWeb Datasets: Decanting the Web for the Finest Text Data
at Scale", section 3.3.3; implementation reference datatrove 0.10.1
``pipeline/filters/fineweb_quality_filter.py`` (``FineWebQualityFilter``).

Over the non-blank lines of ``text.split("\\n")``:

- ``line_punct_ratio``: lines ending with terminal punctuation (drop below 0.12);
- ``short_line_ratio``: lines of 30 characters or fewer (drop above 0.67);
- ``char_dup_ratio``: characters of lines repeating an earlier line ÷
  ``len(text.replace("\\n", ""))`` (drop above 0.01);
- ``list_ratio``: newlines ÷ word tokens (drop above 0.3).

CJK mode: a short line is 10 characters or fewer (a CJK character carries about as much as a
short English word plus its space, so 30 Latin characters ≈ 10 CJK ones), and ``list_ratio``
divides by CJK units.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING

from studio.metrics.filters import KEEP, FilterResult, drop
from studio.metrics.gopher_repetition import find_duplicates
from studio.metrics.punctuation import TERMINAL_PUNCTUATION

if TYPE_CHECKING:
    from studio.metrics.view import TextView


_LAST_CHAR = itemgetter(-1)


@dataclass(frozen=True, slots=True)
class FineWebGates:
    """datatrove's defaults (``short_line_length_cjk`` is ours)."""

    line_punct_thr: float = 0.12
    short_line_thr: float = 0.67
    short_line_length: int = 30
    short_line_length_cjk: int = 10
    char_duplicates_ratio: float = 0.01
    new_line_ratio: float = 0.3


def fineweb_metrics(view: TextView, gates: FineWebGates) -> dict[str, float]:
    """FineWeb's four ratios (0.0 when the text has no non-blank line or no word)."""
    return fineweb_values(view.text, view.nonblank_lines, len(view.words), view.cjk, gates)


def fineweb_values(
    text: str, lines: list[str], n_words: int, cjk: bool, gates: FineWebGates
) -> dict[str, float]:
    """FineWeb's four ratios from the text, its non-blank lines and its word-token count."""
    if not lines:
        return {
            "line_punct_ratio": 0.0,
            "short_line_ratio": 0.0,
            "char_dup_ratio": 0.0,
            "list_ratio": 0.0,
        }
    short = gates.short_line_length_cjk if cjk else gates.short_line_length
    # a non-blank line is never empty, and every terminal mark is one character; map/sum
    # keep the per-line loops in C
    ended = sum(map(TERMINAL_PUNCTUATION.__contains__, map(_LAST_CHAR, lines)))
    n_short = sum(map(short.__ge__, map(len, lines)))
    dup_chars = find_duplicates(lines)[1]
    return fineweb_from_counts(
        len(text), text.count("\n"), len(lines), ended, n_short, dup_chars, n_words
    )


def fineweb_from_counts(
    n_chars: int,
    n_newlines: int,
    n_lines: int,
    ended: int,
    n_short: int,
    dup_chars: int,
    n_words: int,
) -> dict[str, float]:
    """FineWeb's four ratios from counts over the ``n_lines`` (> 0) non-blank lines: those
    ending with terminal punctuation, the short ones, the characters of repeated ones."""
    return {
        "line_punct_ratio": ended / n_lines,
        "short_line_ratio": n_short / n_lines,
        "char_dup_ratio": dup_chars / (n_chars - n_newlines),
        "list_ratio": n_newlines / n_words if n_words else 0.0,
    }


def fineweb_filter(has_lines: bool, metrics: dict[str, float], gates: FineWebGates) -> FilterResult:
    """datatrove's decision order and reason strings (``has_lines``: any non-blank line)."""
    if not has_lines:
        return drop("empty")
    if metrics["line_punct_ratio"] < gates.line_punct_thr:
        return drop("line_punct_ratio")
    if metrics["short_line_ratio"] > gates.short_line_thr:
        return drop("short_line_ratio")
    if metrics["char_dup_ratio"] > gates.char_duplicates_ratio:
        return drop("char_dup_ratio")
    if metrics["list_ratio"] > gates.new_line_ratio:
        return drop("list_ratio")
    return KEEP
