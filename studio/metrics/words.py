"""Word tokens that match datatrove's English word splitter, at a fraction of its cost.

datatrove 0.10.1 (``utils/word_tokenizers.py``, ``SpaCyTokenizer``) runs ``spacy.blank("en")``
over the whole text and keeps the stripped, non-empty token texts. spaCy first cuts the text at
whitespace (every whitespace run but a single space becomes a whitespace token, which
datatrove's ``strip_strings`` drops), then splits each whitespace-free chunk with special cases,
prefixes, suffixes, infixes and a URL rule. The result for a chunk depends only on the chunk, so
we split ``text.split()`` and cache each distinct chunk's tokens: real text reuses its words,
and a cache hit costs one dict look-up.

The chunk algorithm is a port of ``Tokenizer._split_affixes`` and ``_attach_tokens`` from
spaCy's ``tokenizer.pyx``; the rules live in :mod:`studio.metrics._english_rules`. spaCy's
final "special-case matcher" pass (which re-merges special cases that affix splitting broke
apart, such as an emoticon glued to a bracket) is not reproduced; the agreement test measures
what that costs.

Sentence counting for the C4 filter reproduces spaCy's rule-based ``Sentencizer``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from studio.metrics._english_rules import SENTENCE_PUNCT_CHARS, EnglishRules, english_rules

_MAX_CACHE = 500_000


class EnglishWordSplitter:
    """Split English text into spaCy-compatible word tokens; one instance keeps a chunk cache."""

    def __init__(self, rules: EnglishRules | None = None) -> None:
        self._rules = rules or english_rules()
        self._cache: dict[str, tuple[str, ...]] = {}
        self._sentence_steps: dict[str, tuple[int, bool, int, bool]] = {}
        self._matcher = self._build_special_matcher()

    def _build_special_matcher(self) -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
        """Special cases that plain affix splitting breaks apart, keyed by their first piece.

        spaCy re-merges these after tokenizing (its ``_special_matcher``), within a chunk.
        """
        by_first: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
        for orth, parts in self._rules.specials.items():
            pattern = self._tokenize_chunk(orth, use_specials=False)
            if len(pattern) > 1 or pattern != parts:
                by_first.setdefault(pattern[0], []).append((pattern, parts))
        return by_first

    def split_chunk(self, chunk: str) -> tuple[str, ...]:
        """Tokens of one whitespace-free chunk (cached)."""
        cached = self._cache.get(chunk)
        if cached is None:
            cached = self._tokenize_chunk(chunk)
            if len(self._cache) >= _MAX_CACHE:
                self._cache.clear()
            self._cache[chunk] = cached
        return cached

    def sentence_step(self, chunk: str) -> tuple[int, bool, int, bool]:
        """How a chunk moves the sentencizer: (starts, state) from "no terminal seen", then
        from "terminal seen" (cached per chunk)."""
        step = self._sentence_steps.get(chunk)
        if step is None:
            tokens = self.split_chunk(chunk)
            step = (*_sentence_walk(tokens, False), *_sentence_walk(tokens, True))
            if len(self._sentence_steps) >= _MAX_CACHE:
                self._sentence_steps.clear()
            self._sentence_steps[chunk] = step
        return step

    def words(self, text: str) -> list[str]:
        """Word tokens of ``text``, as datatrove's ``split_into_words(text, "en")`` returns them."""
        return self.words_of_chunks(text.split())

    def words_of_chunks(self, chunks: list[str]) -> list[str]:
        """Word tokens given the text's whitespace chunks (``text.split()``)."""
        cache = self._cache
        missing = set(chunks).difference(cache)
        if missing:
            if len(cache) + len(missing) > _MAX_CACHE:
                cache.clear()
                missing = set(chunks)
            tokenize = self._tokenize_chunk
            for chunk in missing:
                cache[chunk] = tokenize(chunk)
        return [tok for chunk in chunks for tok in cache[chunk]]

    # -- spaCy's algorithm, one chunk at a time ---------------------------------------------
    def _tokenize_chunk(self, chunk: str, use_specials: bool = True) -> tuple[str, ...]:
        rules = self._rules
        specials = rules.specials if use_specials else {}
        special = specials.get(chunk)
        if special is not None:
            return special
        if chunk.isalpha() and use_specials:
            # letters only: no prefix, suffix (units need a digit, "'s" an apostrophe) or
            # infix rule can apply
            return (chunk,)
        prefixes: list[str] = []
        suffixes: list[str] = []
        string = self._split_affixes(chunk, prefixes, suffixes, specials)
        tokens = prefixes
        if string:
            special = specials.get(string)
            if special is not None:
                tokens.extend(special)
            elif rules.url_match(string):
                tokens.append(string)
            else:
                tokens.extend(_split_infixes(string, rules))
        tokens.extend(reversed(suffixes))
        if use_specials and len(tokens) > 1:
            return self._merge_special_spans(tokens)
        return tuple(tokens)

    def _merge_special_spans(self, tokens: list[str]) -> tuple[str, ...]:
        """spaCy's special-case matcher: longest matches first, no overlaps."""
        matcher = self._matcher
        matches: list[tuple[int, int, tuple[str, ...]]] = []
        for i, tok in enumerate(tokens):
            for pattern, parts in matcher.get(tok, ()):
                end = i + len(pattern)
                if tuple(tokens[i:end]) == pattern:
                    matches.append((i, end, parts))
        if not matches:
            return tuple(tokens)
        matches.sort(key=lambda m: (m[1] - m[0], -m[0]))
        seen: set[int] = set()
        chosen: list[tuple[int, int, tuple[str, ...]]] = []
        for start, end, parts in reversed(matches):
            if start not in seen and end - 1 not in seen:
                chosen.append((start, end, parts))
            seen.update(range(start, end))
        out: list[str] = []
        pos = 0
        for start, end, parts in sorted(chosen):
            out.extend(tokens[pos:start])
            out.extend(parts)
            pos = end
        out.extend(tokens[pos:])
        return tuple(out)

    def _split_affixes(
        self,
        string: str,
        prefixes: list[str],
        suffixes: list[str],
        specials: dict[str, tuple[str, ...]],
    ) -> str:
        prefix_search = self._rules.prefix_search
        suffix_search = self._rules.suffix_search
        last_size = -1
        while string and len(string) != last_size:
            if string in specials:
                break
            last_size = len(string)
            # cheap guards first: no prefix rule starts with a letter or digit except the
            # "US$"/"C$"/"A$" currencies, and no suffix rule ends with a letter unless it is
            # "'s" or a unit after a digit
            first = string[0]
            if first.isalnum() and not string.startswith(("US$", "C$", "A$")):
                m = None
            else:
                m = prefix_search(string)
            pre_len = m.end() - m.start() if m else 0
            prefix = minus_pre = ""
            if pre_len:
                prefix, minus_pre = string[:pre_len], string[pre_len:]
                if minus_pre and minus_pre in specials:
                    prefixes.append(prefix)
                    return minus_pre
            last = string[-1]
            if (
                last.isalpha()
                and not string.endswith(("'s", "'S", "’s", "’S"))
                and not any(ch.isdigit() for ch in string)
            ):
                m = None
            else:
                m = suffix_search(string[pre_len:])
            suf_len = m.end() - m.start() if m else 0
            suffix = minus_suf = ""
            if suf_len:
                suffix, minus_suf = string[-suf_len:], string[:-suf_len]
                if minus_suf and minus_suf in specials:
                    suffixes.append(suffix)
                    return minus_suf
            if pre_len and suf_len and pre_len + suf_len <= len(string):
                string = string[pre_len:-suf_len]
                prefixes.append(prefix)
                suffixes.append(suffix)
            elif pre_len:
                string = minus_pre
                prefixes.append(prefix)
            elif suf_len:
                string = minus_suf
                suffixes.append(suffix)
        return string


def _split_infixes(string: str, rules: EnglishRules) -> list[str]:
    out: list[str] = []
    start = 0
    for m in rules.infix_finditer(string):
        infix_start, infix_end = m.start(), m.end()
        if infix_start == 0:
            continue
        if infix_start != start:
            out.append(string[start:infix_start])
        if infix_start != infix_end:
            out.append(string[infix_start:infix_end])
        start = infix_end
    if start < len(string):
        out.append(string[start:])
    return out


def _is_punct(token: str) -> bool:
    """spaCy's ``is_punct`` lexical attribute: every character is in a ``P*`` category."""
    return all(unicodedata.category(ch).startswith("P") for ch in token)


def count_sentences(line: str, splitter: EnglishWordSplitter, limit: int | None = None) -> int:
    """Sentences in a stripped line, as spaCy's ``Sentencizer`` finds them on ``blank("en")``.

    A sentence starts at the first token that is neither punctuation nor a sentence-final
    character after a sentence-final character (``.``, ``!``, ``?`` and the other Unicode
    sentence terminators). Whitespace runs other than one plain space are tokens of their own
    for spaCy, and they too start a sentence after a terminator. With ``limit``, counting
    stops as soon as ``limit`` sentences are reached (C4 only asks "at least this many?").
    """
    sentences = 1
    seen = False
    if _IRREGULAR_SPACE.search(line) is None:
        # the common case, kept to one dict lookup per piece (steps are non-empty tuples)
        cached = splitter._sentence_steps.get
        step_of = splitter.sentence_step
        for piece in line.split(" "):
            step = cached(piece) or step_of(piece)
            if seen:
                inc, seen = step[2], step[3]
            else:
                inc, seen = step[0], step[1]
            if inc:
                sentences += inc
                if limit is not None and sentences >= limit:
                    break
        return sentences
    for is_space, piece in _spacy_pieces(line):
        if is_space:  # a whitespace token: not punctuation, so it starts a sentence
            if seen:
                sentences += 1
                seen = False
            continue
        step = splitter.sentence_step(piece)
        inc, seen = step[2:] if seen else step[:2]
        sentences += inc
        if inc and limit is not None and sentences >= limit:
            break
    return sentences


_IRREGULAR_SPACE = re.compile(r"[^\S ]| {2}")


def count_sentences_in_tokens(tokens: Iterable[str]) -> int:
    """spaCy's ``Sentencizer`` over a token sequence: how many sentences it starts."""
    return 1 + _sentence_walk(tokens, False)[0]


def _sentence_walk(tokens: Iterable[str], seen_terminal: bool) -> tuple[int, bool]:
    """New sentence starts within ``tokens`` and the state after them."""
    sentences = 0
    for tok in tokens:
        terminal = tok in SENTENCE_PUNCT_CHARS
        if seen_terminal and not terminal and not _is_punct(tok):
            sentences += 1
            seen_terminal = False
        elif terminal:
            seen_terminal = True
    return sentences, seen_terminal


def _spacy_pieces(line: str) -> list[tuple[bool, str]]:
    """Whitespace-free chunks, plus the whitespace runs that spaCy keeps as tokens."""
    pieces: list[tuple[bool, str]] = []
    i, n = 0, len(line)
    while i < n:
        j = i
        if line[i].isspace():
            while j < n and line[j].isspace():
                j += 1
            run = line[i:j]
            # spaCy folds one leading plain space into the previous token's trailing space.
            if pieces and run[0] == " ":
                run = run[1:]
            if run:
                pieces.append((True, run))
        else:
            while j < n and not line[j].isspace():
                j += 1
            pieces.append((False, line[i:j]))
        i = j
    return pieces
