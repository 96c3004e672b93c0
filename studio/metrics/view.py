"""The shared view of one text: every per-text metric reads this, none re-splits the text.

The reference filters each split the text their own way (datatrove 0.10.1):

- ``paragraphs``: ``re.split(r"\\n{2,}", text.strip())`` (Gopher repetition),
- ``lines``: ``re.split("\\n+", text)`` (Gopher repetition),
- ``physical_lines``: ``text.splitlines()`` (Gopher quality, C4),
- ``nonblank_lines``: ``text.split("\\n")`` without blank lines (FineWeb),
- ``words``: the English word tokens (spaCy-compatible, :mod:`studio.metrics.words`) or, for
  Chinese and Japanese, CJK units (:mod:`studio.metrics.script`).

CRLF text keeps its ``\\r`` on the lines of the first two splits, as in the reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.metrics.script import CJK_OR_RUN, detect_language

if TYPE_CHECKING:
    from studio.metrics.words import EnglishWordSplitter

PARAGRAPH_SPLIT = re.compile(r"\n{2,}")
LINE_SPLIT = re.compile("\n+")


@dataclass(frozen=True, slots=True)
class TextView:
    """One text split once into everything the metrics need."""

    text: str
    language: str  # "en" (the English rules, also used for other space-separated text), "zh", "ja"
    paragraphs: list[str]
    lines: list[str]
    physical_lines: list[str]
    nonblank_lines: list[str]
    words: list[str]
    word_lengths: list[int]

    @property
    def cjk(self) -> bool:
        """Whether the text is scored in CJK mode (units are characters)."""
        return self.language != "en"


def split_paragraphs(text: str) -> list[str]:
    """``re.split(r"\\n{2,}", text.strip())``; a plain split when no run is longer than two."""
    stripped = text.strip()
    if "\n\n\n" in stripped:
        return PARAGRAPH_SPLIT.split(stripped)
    return stripped.split("\n\n")


def split_lines(parts: list[str]) -> list[str]:
    """``re.split("\\n+", text)`` from ``parts = text.split("\\n")``: the empty pieces
    between newlines go, the first and last stay (as the regex keeps them)."""
    if len(parts) < 3:
        return parts
    return [parts[0], *[p for p in parts[1:-1] if p], parts[-1]]


def build_view(text: str, splitter: EnglishWordSplitter, language: str | None = None) -> TextView:
    """Split ``text`` once. ``language`` overrides detection ("en", "zh" or "ja")."""
    lang = language or detect_language(text)
    chunks = text.split()
    words = splitter.words_of_chunks(chunks) if lang == "en" else cjk_units_of(text, splitter)
    split_n = text.split("\n")
    return TextView(
        text=text,
        language=lang,
        paragraphs=PARAGRAPH_SPLIT.split(text.strip()),
        lines=LINE_SPLIT.split(text),
        physical_lines=text.splitlines(),
        nonblank_lines=[line for line in split_n if line.strip() != ""],
        words=words,
        word_lengths=[len(w) for w in words],
    )


def cjk_units_of(text: str, splitter: EnglishWordSplitter) -> list[str]:
    """CJK-mode units of ``text``: each CJK character, and the English word tokens of the runs
    of other non-whitespace characters between them (one regex pass over the text; a
    one-character run at or above U+3040, such as "，", is a unit as it is)."""
    split = splitter.split_chunk
    units: list[str] = []
    append, extend = units.append, units.extend
    for piece in CJK_OR_RUN.findall(text):
        if len(piece) == 1 and piece >= "\u3040":
            append(piece)
        else:
            extend(split(piece))
    return units
