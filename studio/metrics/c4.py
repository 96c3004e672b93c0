"""C4 quality filter.

Source: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified
Text-to-Text Transformer" (C4), section 2.2; implementation reference datatrove 0.10.1
``pipeline/filters/c4_filters.py`` (``C4QualityFilter`` with its defaults: lines split with
``splitlines()``, at least 3 words per line and 5 sentences per document, which are the
paper's numbers swapped).

Per line (stripped): drop it if a whitespace word is over 1000 characters; remove
Wikipedia-style citations; drop it unless it ends in terminal punctuation (and not ``...``);
drop it with fewer than 3 words; drop the whole text on "lorem ipsum" or ``{`` (these two see
only lines that survived the earlier checks); drop lines mentioning "javascript" or a
cookie/terms-of-use phrase; count the sentences of the kept lines (spaCy's rule-based
sentencizer). The text is dropped with fewer than 5 sentences.

CJK mode: terminal punctuation also includes ``。！？`` and closing CJK quotes, and words
per line and sentences are counted over CJK units.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import repeat

from studio.metrics.filters import KEEP, FilterResult, drop
from studio.metrics.script import CJK_OR_RUN
from studio.metrics.words import EnglishWordSplitter, count_sentences, count_sentences_in_tokens

CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
END_PUNCTUATION = (".", "?", "!", '"', "'")
CJK_END_PUNCTUATION = (*END_PUNCTUATION, "。", "！", "？", "”", "」", "』", "．")
POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)

_COOKIE_PHRASES = POLICY_SUBSTRINGS[2:]
assert all("cookie" in p for p in _COOKIE_PHRASES)


@dataclass(frozen=True, slots=True)
class C4Gates:
    """datatrove's ``C4QualityFilter`` defaults."""

    min_num_sentences: int = 5
    min_words_per_line: int = 3
    max_word_length: int = 1000


def c4_filter(
    text: str,
    lines: Iterable[str],
    cjk: bool,
    splitter: EnglishWordSplitter,
    gates: C4Gates,
    sentence_counts: Iterable[int] | None = None,
) -> FilterResult:
    """Keep or drop the text, with datatrove's reasons (``lorem_ipsum``, ``curly_bracket``,
    ``too_few_sentences``). ``lines`` is ``text.splitlines()``, or only the lines C4 can act
    on (see :func:`studio.metrics.kernels.line_stats`); ``sentence_counts``, when given, the
    sentences of each line already counted (-1: count here). Only "at least
    ``min_num_sentences``?" matters, so a full count gives the same decision as the capped
    one counted here."""
    end_punct = CJK_END_PUNCTUATION if cjk else END_PUNCTUATION
    sentences = 0
    lorem: bool | None = None
    for raw, known in zip(lines, sentence_counts or repeat(-1), strict=False):
        if sentences >= gates.min_num_sentences:
            # only "lorem ipsum" or "{" can still change the decision
            if lorem is None:
                lorem = _may_hold_lorem_ipsum(text)
                if not lorem and "{" not in text:
                    return KEEP
            if not lorem and "{" not in raw:
                continue
        line = raw.strip()
        if len(line) > gates.max_word_length and any(
            len(w) > gates.max_word_length for w in line.split()
        ):
            continue
        counted = line  # words are counted before citations are removed, as datatrove does
        if "[" in line:
            line = CITATION.sub("", line)
        if not line.endswith(end_punct) or line.endswith("..."):
            continue
        if cjk:
            n_words = len(_units(counted, splitter))
        else:  # only "fewer than min_words_per_line?" matters: split no further than that
            n_words = len(counted.split(None, gates.min_words_per_line - 1))
        if n_words < gates.min_words_per_line:
            continue
        lowered = line.lower()
        if "lorem ipsum" in lowered:
            return drop("lorem_ipsum")
        if "javascript" in lowered:
            continue
        if "{" in line:
            return drop("curly_bracket")
        if _mentions_policy(lowered):
            continue
        if sentences >= gates.min_num_sentences:
            continue  # enough already: only the document-level checks can still change things
        if known >= 0:
            sentences += known
        elif cjk:
            sentences += count_sentences_in_tokens(_units(line, splitter))
        else:  # the decision needs no more than the sentences still missing
            sentences += count_sentences(line, splitter, gates.min_num_sentences - sentences)
    if sentences < gates.min_num_sentences:
        return drop("too_few_sentences")
    return KEEP


def _mentions_policy(lowered: str) -> bool:
    """``any(p in lowered for p in POLICY_SUBSTRINGS)``: every phrase but the first two holds
    "cookie", so most lines need three substring tests and no generator."""
    if "terms of use" in lowered or "privacy policy" in lowered:
        return True
    return "cookie" in lowered and any(p in lowered for p in _COOKIE_PHRASES)


def _may_hold_lorem_ipsum(text: str) -> bool:
    """Whether some line, cleaned of citations and lower-cased, could hold "lorem ipsum".

    A citation never spans a line, so removing citations from the whole text removes the same
    ones as line by line; lower-casing maps character by character. Every line, cleaned and
    lower-cased, is therefore part of the whole text cleaned and lower-cased.
    """
    if "[" in text:
        text = CITATION.sub("", text)
    return "lorem ipsum" in text.lower()


def _units(line: str, splitter: EnglishWordSplitter) -> list[str]:
    """CJK-mode units of a line: each CJK character, and the word tokens of the runs of
    other non-whitespace characters between them (a one-character run is a unit itself)."""
    split = splitter.split_chunk
    out: list[str] = []
    for piece in CJK_OR_RUN.findall(line):
        out.extend((piece,) if len(piece) == 1 else split(piece))
    return out
