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

import numpy as np
import numpy.typing as npt

from studio.metrics.c4 import C4Gates, c4_filter
from studio.metrics.compiled import (
    KERNEL_MIN_BATCH,
    KERNEL_MIN_TEXTS,
    load_kernels,
    loaded_kernels,
)
from studio.metrics.fineweb import (
    FineWebGates,
    fineweb_filter,
    fineweb_from_counts,
    fineweb_metrics,
    fineweb_values,
)
from studio.metrics.gopher_quality import (
    GopherQualityGates,
    WordFacts,
    gopher_quality_filter,
    quality_from_counts,
    quality_metrics,
    quality_values,
)
from studio.metrics.gopher_repetition import (
    DUP_NGRAMS,
    TOP_NGRAMS,
    GopherRepetitionGates,
    empty_repetition_metrics,
    gopher_repetition_filter,
    line_repetition_metrics,
    line_repetition_values,
    repetition_metrics,
)
from studio.metrics.ngrams import (
    PowerTable,
    exact_duplicated_ngram_chars,
)
from studio.metrics.ngrams_batch import NgramBatch
from studio.metrics.script import detect_language
from studio.metrics.view import TextView, build_view, split_lines, split_paragraphs
from studio.metrics.vocab import ENGLISH_STOP_WORDS, Vocabulary
from studio.metrics.words import EnglishWordSplitter

if TYPE_CHECKING:
    from studio.metrics.filters import FilterResult
    from studio.metrics.vocab import TokenBatch

TokenCounter = Callable[[str], int]
BatchTokenCounter = Callable[[list[str]], list[int]]

FILTER_NAMES = ("gopher_repetition", "gopher_quality", "c4", "fineweb")

_BATCH = 256  # texts per batch pass: small arrays stay in cache (measured faster than 2048)
GZIP_OVER_ZLIB_BYTES = 12  # gzip header 10 + trailer 8, minus zlib header 2 + trailer 4


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
    """UTF-8 bytes ÷ gzip bytes (DESIGN 5.1): ``len(raw) / len(gzip.compress(raw))``, level 9.

    ``gzip.compress`` (default ``compresslevel=9``) wraps the same deflate stream as
    ``zlib.compress(raw, 9)`` in a 10-byte header and an 8-byte trailer, where zlib's wrapper
    is 2 + 4 bytes; so the gzip length is the zlib length + 12, exactly
    (``tests/metrics/test_compression_ratio.py`` checks that against ``gzip.compress``).
    ``zlib.compress`` skips gzip's Python-side header building. A low-compressibility text
    scores near 1, a repetitive one high. Empty text gives 0.0.
    """
    raw = text.encode("utf-8")
    if not raw:
        return 0.0
    return len(raw) / (len(zlib.compress(raw, 9)) + GZIP_OVER_ZLIB_BYTES)


def _c4_lines(
    texts: list[str],
    per_text: npt.NDArray[np.int64],
    ranges: npt.NDArray[np.int64],
    sentences: npt.NDArray[np.int64],
) -> list[tuple[list[str], list[int]]]:
    """The lines C4 can act on, per text, cut from the ranges ``line_stats`` found, with
    their sentence counts (-1: not counted)."""
    total = int(per_text.sum())
    bounds = ranges[: 2 * total].tolist()
    counts = sentences[:total].tolist()
    out: list[tuple[list[str], list[int]]] = []
    k = 0
    for text, n in zip(texts, per_text.tolist(), strict=True):
        lines = [text[bounds[j] : bounds[j + 1]] for j in range(2 * k, 2 * (k + n), 2)]
        out.append((lines, counts[k : k + n]))
        k += n
    return out


class TextScorer:
    """Scores texts one at a time or in batches, reusing its caches.

    English texts go through a batch path: each text is split into whitespace chunks once,
    chunks become token ids (:mod:`studio.metrics.vocab`), and the word-based metrics of the
    whole batch are computed on those arrays (:mod:`studio.metrics.ngrams_batch`). Chinese and
    Japanese texts go through the per-text view (:mod:`studio.metrics.view`).

    A large job switches to compiled kernels (:mod:`studio.metrics.kernels`, loaded as
    :mod:`studio.metrics.compiled` decides): chunk lookup, line splits, C4's lines and
    sentences, the n-gram rules (for CJK views too) and token counts by segment, each one pass
    per text. They give the very values the numpy path gives (``tests/metrics/test_kernels``).
    """

    def __init__(
        self,
        gates: Gates | None = None,
        token_counter: TokenCounter | None = None,
        batch_token_counter: BatchTokenCounter | None = None,
        compiled: bool | None = None,
        segment_tokens: str | None = None,
    ) -> None:
        """``compiled``: True to use the compiled kernels from the first batch, False never
        (the numpy path: no numba import), None to switch to them on a large job
        (:mod:`studio.metrics.compiled`).

        ``segment_tokens``: the token counter is a GPT-style BPE whose count of a text is the
        sum of its counts over the segments :func:`studio.metrics.kernels.token_segments`
        cuts: "spaces" (tiktoken's o200k, p50k, r50k) or "spaces+lines" (cl100k), as
        :func:`studio.tokens.segment_rule` says; the compiled path then counts each chunk
        once and only the other segments per text (same counts, tested)."""
        self.gates = gates or Gates()
        self.compiled = compiled
        self._kernels: Any = None
        self._texts_seen = 0
        self.splitter = EnglishWordSplitter()
        self.vocab = Vocabulary(self.splitter)
        self._facts = WordFacts()
        self._powers = PowerTable()
        self._count_tokens = token_counter
        self._count_tokens_batch = batch_token_counter
        if segment_tokens not in (None, "spaces", "spaces+lines"):
            raise ValueError(f"unknown segment rule {segment_tokens!r}")
        self._segment_tokens = segment_tokens if token_counter is not None else None
        self._segment_counts: dict[str, int] = {}
        self._space_counts = np.zeros(0, dtype=np.int32)  # tokens in n spaces, once needed

    def view(self, text: str, language: str | None = None) -> TextView:
        """The shared split of ``text`` (see :mod:`studio.metrics.view`)."""
        return build_view(text, self.splitter, language)

    def score(self, text: str, language: str | None = None) -> TextScore:
        """All metrics and filter decisions for one text."""
        return self._score_all([text], language)[0]

    def score_batch(self, texts: Sequence[str], language: str | None = None) -> list[TextScore]:
        """Scores for many texts; token counts go through the batch counter when given."""
        return self._score_all(list(texts), language)

    def _token_counts(self, texts: list[str]) -> list[int | None]:
        if self._count_tokens_batch is not None and len(texts) > 1:
            return list(self._count_tokens_batch(texts))
        if self._count_tokens is not None:
            return [self._count_tokens(t) for t in texts]
        if self._count_tokens_batch is not None:
            return list(self._count_tokens_batch(texts))
        return [None] * len(texts)

    def score_views(self, texts: Sequence[str], language: str | None = None) -> list[TextScore]:
        """Scores through the per-text view for every text (the batch path's oracle in tests)."""
        return [self._score_view(self.view(t, language), None) for t in texts]

    def _score_all(self, texts: list[str], language: str | None) -> list[TextScore]:
        langs = [language or detect_language(t) for t in texts]
        out: list[TextScore | None] = [None] * len(texts)
        english = [i for i, lang in enumerate(langs) if lang == "en"]
        others = [i for i, lang in enumerate(langs) if lang != "en"]
        for lo in range(0, len(others), _BATCH):
            idx = others[lo : lo + _BATCH]
            views = [self.view(texts[i], langs[i]) for i in idx]
            ngram_chars = self._view_ngram_rules(views)
            counts = self._token_counts([texts[i] for i in idx])
            for k, (i, view) in enumerate(zip(idx, views, strict=True)):
                chars = ngram_chars[k] if ngram_chars is not None else None
                out[i] = self._score_view(view, counts[k], chars)
        for lo in range(0, len(english), _BATCH):
            idx = english[lo : lo + _BATCH]
            scores = self._score_english([texts[i] for i in idx])
            for i, sc in zip(idx, scores, strict=True):
                out[i] = sc
        return [sc for sc in out if sc is not None]

    def _use_kernels(self, n_texts: int) -> Any:
        """The compiled kernels module when this batch should use it, else None."""
        self._texts_seen += n_texts
        if self._kernels is None and self.compiled is not False:
            large = n_texts >= KERNEL_MIN_BATCH and self._texts_seen >= KERNEL_MIN_TEXTS
            if self.compiled is None and loaded_kernels() is not None:
                self._kernels = loaded_kernels()  # already paid for in this process
            elif self.compiled or large:
                self._kernels = load_kernels()
                if self._kernels is None:  # numba missing: the numpy path is exact too
                    self.compiled = False
        return self._kernels

    def _ngram_rules(self, tb: TokenBatch) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        """Gopher's top (n = 2..4) and duplicated (n = 5..10) n-gram characters per text."""
        vocab = self.vocab
        kernels = self._kernels
        n_texts = tb.n_docs
        if kernels is not None and tb.glued_codes is not None:
            codes = tb.glued_codes
            tok_len = vocab.length.array[tb.ids]
            if len(codes) == int(tok_len.sum()):
                top_k = np.empty((len(TOP_NGRAMS), n_texts), dtype=np.int64)
                dup_k = np.empty((len(DUP_NGRAMS), n_texts), dtype=np.int64)
                kernels.ngram_rules(tb.ids, tb.starts, tok_len, codes, top_k, dup_k)
                return (
                    {n: top_k[k].tolist() for k, n in enumerate(TOP_NGRAMS)},
                    {n: dup_k[k].tolist() for k, n in enumerate(DUP_NGRAMS)},
                )
        nb = NgramBatch(
            tb,
            vocab.length.array,
            vocab.hash.array,
            vocab.power.array,
            vocab.inv_power.array,
            max_n=max(TOP_NGRAMS),
        )
        tokens = vocab.tokens
        ids = tb.ids
        starts = tb.starts.tolist()

        def words_of(d: int) -> list[str]:
            return [tokens[t] for t in ids[starts[d] : starts[d + 1]].tolist()]

        def same_string(a: int, b: int, n: int) -> bool:
            wa = [tokens[t] for t in ids[a : a + n].tolist()]
            wb = [tokens[t] for t in ids[b : b + n].tolist()]
            return "".join(wa) == "".join(wb)

        def dup_exact(d: int, n: int) -> int:
            return exact_duplicated_ngram_chars(words_of(d), n)

        top = nb.top_ngram_chars(TOP_NGRAMS)
        dup = nb.duplicated_ngram_chars(DUP_NGRAMS, same_string, dup_exact)
        return top, dup

    def _score_english(self, texts: list[str]) -> list[TextScore]:
        g = self.gates
        vocab = self.vocab
        kernels = self._use_kernels(len(texts))
        if kernels is not None:
            joined = "".join(texts)
            codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            text_starts = np.zeros(len(texts) + 1, dtype=np.int64)
            np.cumsum(list(map(len, texts)), out=text_starts[1:])
            tb = vocab.batch_compiled(joined, codes, text_starts, kernels)
        else:
            tb = vocab.batch(texts)
        if kernels is not None and self._segment_tokens:
            counts = self._segment_token_counts(joined, codes, text_starts, tb, kernels)
        else:
            counts = self._token_counts(texts)
        ids = tb.ids
        top, dup = self._ngram_rules(tb)

        # Gopher quality's word counts, per text
        n_docs = len(texts)
        if tb.word_counts is not None:
            wc = tb.word_counts
            n_non_symbol = wc[:, 0].tolist()
            non_symbol_chars = wc[:, 1].tolist()
            n_alpha = wc[:, 2].tolist()
            stop_mask = wc[:, 3]
        else:
            doc = tb.doc_of_positions()
            non_symbol = vocab.non_symbol.array[ids]
            ns_doc = doc[non_symbol]
            n_non_symbol = np.bincount(ns_doc, minlength=n_docs).tolist()
            ns_chars = np.bincount(
                ns_doc, weights=vocab.length.array[ids[non_symbol]], minlength=n_docs
            )
            non_symbol_chars = ns_chars.astype(np.int64).tolist()
            n_alpha = np.bincount(doc[vocab.alpha.array[ids]], minlength=n_docs).tolist()
            stop_bits = vocab.stop_bit.array[ids]
            has_stop = stop_bits > 0
            stop_mask = np.zeros(n_docs, dtype=np.int64)
            np.bitwise_or.at(stop_mask, doc[has_stop], stop_bits[has_stop])
        n_stops = np.zeros(n_docs, dtype=np.int64)
        for k in range(len(ENGLISH_STOP_WORDS)):
            n_stops += (stop_mask >> k) & 1
        n_stop_list = n_stops.tolist()
        n_tokens_of = np.diff(tb.starts).tolist()
        words = (n_non_symbol, non_symbol_chars, n_alpha, n_stop_list, n_tokens_of)
        if kernels is not None:
            chunks = None
            if (
                tb.chunk_pos is not None
                and tb.chunk_ids is not None
                and tb.chunk_starts is not None
            ):
                chunks = (tb.chunk_pos, tb.chunk_ids, tb.chunk_starts, vocab.chunk_steps.array)
            rows, c4_ranges, c4_counts = kernels.batch_line_stats(
                codes, text_starts, g.fineweb.short_line_length, chunks
            )
            c4_lines = _c4_lines(texts, rows[:, -1], c4_ranges, c4_counts)
            return self._english_rows_compiled(
                texts, counts, top, dup, words, rows.tolist(), c4_lines
            )

        results: list[TextScore] = []
        for d, text in enumerate(texts):
            n_chars = len(text)
            if n_chars:
                parts = text.split("\n")
                rep = line_repetition_metrics(text, split_paragraphs(text), split_lines(parts))
                for n in TOP_NGRAMS:
                    rep[f"top_{n}_gram_char_frac"] = top[n][d] / n_chars
                for n in DUP_NGRAMS:
                    rep[f"dup_{n}_gram_char_frac"] = dup[n][d] / n_chars
            else:
                parts = [text]
                rep = empty_repetition_metrics()
            physical = text.splitlines()
            n_tok = n_tokens_of[d]
            qual = quality_values(
                text,
                physical,
                n_tokens=n_tok,
                n_non_symbol=n_non_symbol[d],
                non_symbol_chars=non_symbol_chars[d],
                n_alpha=n_alpha[d],
                stop_words_distinct=n_stop_list[d],
            )
            nonblank = [line for line in parts if line and not line.isspace()]
            fw = fineweb_values(text, nonblank, n_tok, False, g.fineweb)
            results.append(
                self._english_score(text, rep, qual, fw, counts[d], bool(nonblank), physical)
            )
        return results

    def _english_score(
        self,
        text: str,
        rep: dict[str, float],
        qual: dict[str, float],
        fw: dict[str, float],
        n_tokens: int | None,
        has_lines: bool,
        c4_lines: list[str],
        c4_sentences: list[int] | None = None,
    ) -> TextScore:
        """One English text's metrics (in their documented order) and filter decisions."""
        g = self.gates
        metrics: dict[str, Any] = {"language": "en", **rep, **qual, **fw}
        metrics["n_chars"] = len(text)
        metrics["n_tokens"] = n_tokens
        metrics["compression_ratio"] = compression_ratio(text)
        filters: dict[str, FilterResult] = {
            "gopher_repetition": gopher_repetition_filter(text, rep, g.gopher_repetition),
            "gopher_quality": gopher_quality_filter(False, qual, g.gopher_quality),
            "c4": c4_filter(text, c4_lines, False, self.splitter, g.c4, c4_sentences),
            "fineweb": fineweb_filter(has_lines, fw, g.fineweb),
        }
        return TextScore(metrics, filters)

    def _segment_token_counts(
        self,
        joined: str,
        codes: npt.NDArray[np.uint32],
        text_starts: npt.NDArray[np.int64],
        tb: TokenBatch,
        kernels: Any,
    ) -> list[int | None]:
        """Token counts of a batch from :func:`studio.metrics.kernels.token_segments`: a
        chunk's count in each common setting is kept with the chunk once met; the other
        segments are counted (and cached by their text) here."""
        count = self._count_tokens
        assert count is not None and tb.chunk_ids is not None
        assert tb.chunk_pos is not None and tb.chunk_starts is not None
        vocab = self.vocab
        counts = vocab.token_counts
        n_docs = len(text_starts) - 1
        known = np.empty(n_docs, dtype=np.int64)
        per_doc = np.empty(n_docs, dtype=np.int64)
        if not len(self._space_counts):
            self._space_counts = np.array([count(" " * n) for n in range(64)], dtype=np.int32)
        cap = 3 * len(tb.chunk_pos) + 2 * n_docs  # at most three cuts per run, plus the ends
        ranges = np.empty(2 * cap, dtype=np.int64)
        fill = np.empty(cap, dtype=np.int64)
        kernels.token_segments(
            codes, text_starts, tb.chunk_pos, tb.chunk_len, tb.chunk_ids, tb.chunk_starts,
            counts, self._space_counts, known, ranges, fill, per_doc,
            self._segment_tokens == "spaces+lines",
        )  # fmt: skip
        cache = self._segment_counts
        if len(cache) > 1_000_000:
            cache.clear()
        n = int(per_doc.sum())
        bounds = ranges[: 2 * n].tolist()
        pieces = [joined[a:b] for a, b in zip(bounds[::2], bounds[1::2], strict=True)]
        values = list(map(cache.get, pieces))
        for j, value in enumerate(values):
            if value is None:
                values[j] = cache[pieces[j]] = count(pieces[j])
        slots = fill[:n]
        keep = slots >= 0  # one chunk in a common setting: its count goes with the chunk
        counts.reshape(-1)[slots[keep]] = np.asarray(values, dtype=np.int32)[keep]
        owner = np.repeat(np.arange(n_docs, dtype=np.int64), per_doc)
        extra = np.bincount(owner, weights=np.asarray(values, dtype=np.float64), minlength=n_docs)
        totals: list[int | None] = (known + extra.astype(np.int64)).tolist()
        return totals

    def _english_rows_compiled(
        self,
        texts: list[str],
        counts: list[int | None],
        top: dict[int, list[int]],
        dup: dict[int, list[int]],
        words: tuple[list[int], ...],
        rows: list[list[int]],
        c4_lines: list[tuple[list[str], list[int]]],
    ) -> list[TextScore]:
        """The per-text rows of an English batch, with every line split read off
        :func:`studio.metrics.kernels.line_stats` (``rows``; the same values as the loop over
        Python splits in :meth:`_score_english`, which the tests check)."""
        g = self.gates
        n_non_symbol, non_symbol_chars, n_alpha, n_stop_list, n_tokens_of = words
        lengths = list(map(len, texts))
        top_n = [(f"top_{n}_gram_char_frac", top[n]) for n in TOP_NGRAMS]
        dup_n = [(f"dup_{n}_gram_char_frac", dup[n]) for n in DUP_NGRAMS]
        results: list[TextScore] = []
        for d, text in enumerate(texts):
            n_chars = lengths[d]
            row = rows[d]
            if n_chars:
                rep = line_repetition_values(
                    n_chars, row[0], row[1], row[2], row[3], row[4], row[5]
                )
                for name, values in top_n:
                    rep[name] = values[d] / n_chars
                for name, values in dup_n:
                    rep[name] = values[d] / n_chars
            else:
                rep = empty_repetition_metrics()
            n_tok = n_tokens_of[d]
            qual = quality_from_counts(
                text,
                row[11],
                row[12],
                row[13],
                n_tokens=n_tok,
                n_non_symbol=n_non_symbol[d],
                non_symbol_chars=non_symbol_chars[d],
                n_alpha=n_alpha[d],
                stop_words_distinct=n_stop_list[d],
            )
            n_nonblank = row[6]
            if n_nonblank:
                fw = fineweb_from_counts(
                    n_chars, row[10], n_nonblank, row[7], row[8], row[9], n_tok
                )
            else:
                fw = fineweb_values(text, [], n_tok, False, g.fineweb)
            if row[14]:  # other line breaks: C4 reads every line of splitlines()
                lines, sentences = text.splitlines(), None
            else:
                lines, sentences = c4_lines[d]
            results.append(
                self._english_score(
                    text, rep, qual, fw, counts[d], n_nonblank > 0, lines, sentences
                )
            )
        return results

    def _view_ngram_rules(self, views: list[TextView]) -> list[tuple[list[int], list[int]]] | None:
        """The n-gram rules of CJK-mode views through the kernels (units glued, as
        :func:`studio.metrics.gopher_repetition.repetition_metrics` joins them), or None
        when this batch stays on the numpy path."""
        kernels = self._use_kernels(len(views))
        if kernels is None or not all(view.cjk for view in views):
            return None
        starts = np.zeros(len(views) + 1, dtype=np.int64)
        np.cumsum([len(view.words) for view in views], out=starts[1:])
        tok_len = np.fromiter(
            (n for view in views for n in view.word_lengths), dtype=np.int64, count=starts[-1]
        )
        glued = "".join("".join(view.words) for view in views)
        codes = np.frombuffer(glued.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if len(codes) != int(tok_len.sum()):
            return None
        top = np.empty((len(TOP_NGRAMS), len(views)), dtype=np.int64)
        dup = np.empty((len(DUP_NGRAMS), len(views)), dtype=np.int64)
        no_ids = np.zeros(int(starts[-1]), dtype=np.int64)  # the glued top rule reads none
        kernels.ngram_rules(no_ids, starts, tok_len, codes, top, dup, True)
        return list(zip(top.T.tolist(), dup.T.tolist(), strict=True))

    def _score_view(
        self,
        view: TextView,
        n_tokens: int | None,
        ngram_chars: tuple[list[int], list[int]] | None = None,
    ) -> TextScore:
        g = self.gates
        rep = repetition_metrics(view, self._powers, ngram_chars)
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
            "gopher_repetition": gopher_repetition_filter(view.text, rep, g.gopher_repetition),
            "gopher_quality": gopher_quality_filter(view.cjk, qual, g.gopher_quality),
            "c4": c4_filter(view.text, view.physical_lines, view.cjk, self.splitter, g.c4),
            "fineweb": fineweb_filter(bool(view.nonblank_lines), fw, g.fineweb),
        }
        return TextScore(metrics, filters)
