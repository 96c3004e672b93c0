"""Set-level diversity metrics (DESIGN 5.2): how varied a *set* of texts is.

Each function takes the texts and returns plain numbers.

**Units (Chinese and Japanese).** The references split on whitespace, which makes a Chinese
sentence or paragraph one token: distinct-n is then about 1.0 and every n-gram metric is
meaningless. Here a text's *units* (:func:`set_units`) are its whitespace tokens, except that
each CJK character (ideograph or kana, :data:`studio.metrics.script.CJK_CHAR`) is a unit of
its own, and the non-CJK runs between CJK characters (Latin words, numbers, punctuation
such as ``，`` or ``。``) are units too. So ``"合成数据，是 GPT-3 的。"`` has the units
``合 成 数 据 ， 是 GPT-3 的 。``. A text without any CJK character has exactly its
whitespace tokens, so on such text every metric below is the reference's number, unchanged.
Per metric, "tokens" below means these units; the CJK path runs only for texts that contain
a CJK character (a byte search rules it out first, :func:`studio.metrics.script.may_hold_cjk`).

Sources, per metric:

- ``distinct_n``: Li et al. 2016 ("A Diversity-Promoting Objective Function for Neural
  Conversation Models"); unique ÷ total n-grams over units, as vendi-score's
  ``text_utils.single_ngram_diversity`` computes it with a whitespace tokenizer. On Chinese
  a unigram is a character, a 4-gram four consecutive characters.
- ``ngram_diversity``: Σ over n=1..4 of distinct-n over ``" ".join(texts).split(" ")``
  (Padmakumar & He 2023; the ``diversity`` package's ``ngram_diversity_score``, unrounded);
  a space-separated piece holding CJK is cut into its characters and the runs between them.
- ``compression_ratio``: the ``diversity`` package's ``compression_ratio`` (gzip), rounded to
  3 decimals. That function gzips ``" ".join(texts)`` and then writes the result through a
  ``GzipFile`` named ``compressed.gz``, i.e. it compresses twice and counts a second gzip
  header; we reproduce those bytes so that the numbers are the same. Byte-based, so it needs
  no units and is the same for every script.
- ``self_repetition``: Salkar et al. 2022; the ``diversity`` package's
  ``self_repetition_score``: mean over texts of log(1 + Σ over its distinct 4-grams of the
  number of other texts containing it); 4-grams of units (four characters in Chinese).
- ``homogenization_rougel``: Padmakumar & He 2023; mean ROUGE-L F1 over ordered pairs, with
  rouge-score's default tokenizer (lowercase ASCII alphanumerics), as the ``diversity``
  package's ``homogenization_score``. LCS is computed bit-parallel (Hyyrö 2004). That
  tokenizer drops every non-ASCII character, so a Chinese text would have no tokens at all:
  in a text holding CJK, each CJK character is also a token, in text order.
- ``self_bleu``: Zhu et al. 2018 (Texygen): each text scored by BLEU-4 against all the others
  as references (units, uniform weights, NLTK's smoothing method1). Computed
  exactly in linear time: for every n-gram we keep its two largest per-text counts, which
  gives the clipping count "over the other texts" without visiting pairs.
- ``vendi_ngram``: Friedman & Dieng 2023 (the Vendi Score); kernel = mean over n=1..4 of the
  cosine between n-gram count vectors (units); ``exp`` of the entropy of the
  eigenvalues of K/N.
- ``opening_diversity``: ours; distinct openings ÷ texts, an opening being the first five
  units (five words in English, five characters in Chinese).

Pairwise metrics (``homogenization_rougel``, ``vendi_ngram``) cost O(N²); above
``max_pairwise`` texts they are estimated on a seeded sample (:mod:`studio.metrics.sampling`).
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from studio.metrics.compiled import load_kernels, loaded_kernels
from studio.metrics.script import _CJK_CLASS, CJK_CHAR, may_hold_cjk

_ROUGE_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# one CJK character, or a run of characters that are neither white space nor CJK; ``\s`` is
# exactly ``str.isspace`` (checked over every code point), so without CJK this is ``split()``
_SET_UNITS = re.compile(f"[{_CJK_CLASS}]|[^\\s{_CJK_CLASS}]+")
# a space-free piece cut into CJK characters and the runs between them (``ngram_diversity``)
_PIECE_UNITS = re.compile(f"[{_CJK_CLASS}]|[^{_CJK_CLASS}]+")
_ROUGE_CJK_TOKENS = re.compile(f"[a-z0-9]+|[{_CJK_CLASS}]")


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a CJK character (a byte search first, then the regex)."""
    return may_hold_cjk(text) and CJK_CHAR.search(text) is not None


def set_units(text: str) -> list[str]:
    """The units the set metrics count: ``text.split()``, except that each CJK character is
    a unit of its own (and so are the non-CJK runs between CJK characters).

    ``set_units("模型 is 好的。")`` is ``["模", "型", "is", "好", "的", "。"]``; a text
    without CJK gives ``text.split()`` exactly.
    """
    if has_cjk(text):
        return _SET_UNITS.findall(text)
    return text.split()


def _space_units(text: str) -> list[str]:
    """``text.split(" ")`` (the ``diversity`` package's tokens), each piece holding CJK cut
    into CJK characters and the runs between them."""
    pieces = text.split(" ")
    if not has_cjk(text):
        return pieces
    out: list[str] = []
    for piece in pieces:
        if CJK_CHAR.search(piece):
            out.extend(_PIECE_UNITS.findall(piece))
        else:
            out.append(piece)
    return out


# --- n-gram counting (vectorised: tokens become integer ids, n-grams become ranks) ---------
def _token_ids(tokens: list[str]) -> tuple[npt.NDArray[np.int64], int]:
    """Integer ids of ``tokens`` (first-seen order) and the vocabulary size."""
    index = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    ids = np.fromiter(map(index.__getitem__, tokens), dtype=np.int64, count=len(tokens))
    return ids, len(index)


def _dense_ranks(key: npt.NDArray[np.int64], key_max: int) -> tuple[npt.NDArray[np.int64], int]:
    """Rank of each key among the distinct keys (equal keys, equal ranks), and how many.

    Keys are sorted with their index packed into the low bits when both fit in 63 bits (a
    plain sort is about twice as fast as an argsort); the comparison stays exact.
    """
    m = len(key)
    if m == 0:
        return np.zeros(0, dtype=np.int64), 0
    ibits = max(1, (m - 1).bit_length())
    if ibits + max(1, key_max.bit_length()) <= 63:
        packed = (key << ibits) | np.arange(m, dtype=np.int64)
        packed.sort()
        order = packed & ((1 << ibits) - 1)
        sk = packed >> ibits
    else:
        order = np.argsort(key, kind="stable")
        sk = key[order]
    new = np.empty(m, dtype=bool)
    new[0] = True
    np.not_equal(sk[1:], sk[:-1], out=new[1:])
    sorted_ranks = np.cumsum(new) - 1
    ranks = np.empty(m, dtype=np.int64)
    ranks[order] = sorted_ranks
    return ranks, int(sorted_ranks[-1]) + 1


class _Grams:
    """Exact n-gram statistics of token sequences, one pass per n on shrinking position sets.

    An n-gram whose (n-1)-gram prefix occurs once occurs once itself, so for each n only the
    positions whose prefix repeats are ranked; the others each count as one distinct n-gram.
    ``bounds`` (sequence starts, plus the end) keep n-grams inside a sequence; without it
    the tokens are one sequence.
    """

    def __init__(self, ids: npt.NDArray[np.int64], vocab_size: int, bounds: npt.NDArray[np.int64]):
        self.ids = ids
        self.vocab_size = max(1, vocab_size)
        n = len(ids)
        self.lengths = np.diff(bounds)
        doc = np.repeat(np.arange(len(bounds) - 1), self.lengths)
        self.doc = doc
        self.end = bounds[1:][doc] if n else np.zeros(0, dtype=np.int64)
        # level 1: every position, ranked by token
        self._pos = np.arange(n, dtype=np.int64)
        self._rank = ids
        self._count = np.bincount(ids, minlength=vocab_size) if n else np.zeros(0, np.int64)
        self._distinct = {1: vocab_size if n else 0}
        self._total = {1: n}
        self._level = 1

    @classmethod
    def of_sequences(cls, token_lists: Sequence[Sequence[str]]) -> _Grams:
        ids, vocab = _token_ids([t for toks in token_lists for t in toks])
        bounds = np.zeros(len(token_lists) + 1, dtype=np.int64)
        np.cumsum([len(toks) for toks in token_lists], out=bounds[1:])
        return cls(ids, vocab, bounds)

    def advance(self) -> None:
        """Rank the next n (positions whose prefix repeats), and count distinct n-grams."""
        n = self._level + 1
        pos, rank, count = self._pos, self._rank, self._count
        valid_total = int(np.maximum(self.lengths - n + 1, 0).sum())
        sel = (count[rank] > 1) & self._pos_valid(pos, n)
        pos, rank = pos[sel], rank[sel]
        key = rank * self.vocab_size + self.ids[pos + n - 1]
        key_max = (int(count.size) + 1) * self.vocab_size
        new_rank, distinct = _dense_ranks(key, key_max)
        self._pos, self._rank = pos, new_rank
        self._count = np.bincount(new_rank, minlength=distinct)
        self._distinct[n] = valid_total - len(pos) + distinct
        self._total[n] = valid_total
        self._level = n

    def _pos_valid(self, pos: npt.NDArray[np.int64], n: int) -> npt.NDArray[np.bool_]:
        return pos + n <= self.end[pos]

    def distinct(self, n: int) -> tuple[int, int]:
        """(distinct n-grams, all n-grams)."""
        while self._level < n:
            self.advance()
        return self._distinct[n], self._total[n]

    def repeated(self, n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Positions whose n-gram occurs more than once, and that n-gram's rank."""
        self.distinct(n)
        if self._level != n:
            raise ValueError("repeated() needs the current level")
        keep = self._count[self._rank] > 1
        return self._pos[keep], self._rank[keep]


def distinct_ns(texts: Sequence[str], ns: Sequence[int] = (1, 2, 3, 4)) -> dict[int, float]:
    """distinct-n for each n in ``ns`` in one pass (see :func:`distinct_n`)."""
    grams = _Grams.of_sequences([set_units(t) for t in texts])
    out: dict[int, float] = {}
    for n in sorted(ns):
        distinct, total = grams.distinct(n)
        out[n] = distinct / total if total else 0.0
    return {n: out[n] for n in ns}


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Distinct n-grams ÷ all n-grams, over each text's units (0.0 if none).

    Units are whitespace tokens, each CJK character counting as one (:func:`set_units`): on
    Chinese, distinct-1 is distinct characters ÷ characters (plus any Latin words and
    punctuation runs), distinct-4 distinct 4-character sequences ÷ all of them.
    """
    return distinct_ns(texts, (n,))[n]


def ngram_diversity(texts: Sequence[str], max_n: int = 4) -> float:
    """Σ_{n=1..max_n} distinct-n over ``" ".join(texts).split(" ")`` (the ``diversity`` package).

    A piece holding CJK is cut into its CJK characters and the runs between them; since
    ``" ".join(texts).split(" ")`` is each text's ``split(" ")`` in turn, this is done per
    text, and only sets holding CJK pay for it.
    """
    joined = " ".join(texts)
    if has_cjk(joined):
        tokens: list[str] = []
        for t in texts:
            tokens.extend(_space_units(t))
    else:
        tokens = joined.split(" ")
    ids, vocab = _token_ids(tokens)
    grams = _Grams(ids, vocab, np.array([0, len(ids)], dtype=np.int64))
    score = 0.0
    for n in range(1, max_n + 1):
        distinct, total = grams.distinct(n)
        if total > 0:
            score += distinct / total
    return score


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(tokens[i:] for i in range(n)), strict=False))


def compression_ratio(texts: Sequence[str]) -> float:
    """The ``diversity`` package's gzip compression ratio, byte for byte (see module docs)."""
    raw = " ".join(texts).encode("utf-8")
    if not raw:
        return 0.0
    # gzip.compress(raw): deflate at level 9 in a gzip member (10-byte header, 8-byte trailer);
    # its header holds the current time, which we fix at 0 so the result is reproducible
    inner = _gzip_member(raw)
    # ... then GzipFile("compressed.gz") writes that again: header + b"compressed\0" + trailer
    outer_len = len(zlib.compress(inner, 9, wbits=-15)) + 18 + len(b"compressed\0")
    return round(len(raw) / outer_len, 3)


def _gzip_member(raw: bytes) -> bytes:
    body = zlib.compress(raw, 9, wbits=-15)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = (zlib.crc32(raw) & 0xFFFFFFFF).to_bytes(4, "little") + (
        len(raw) & 0xFFFFFFFF
    ).to_bytes(4, "little")
    return header + body + trailer


def self_repetition(texts: Sequence[str], n: int = 4) -> float:
    """Mean over texts of log(1 + Σ over its distinct n-grams of other texts containing it).

    n-grams of units (:func:`set_units`): four characters in Chinese, four words otherwise.
    """
    if not texts:
        return 0.0
    grams = _Grams.of_sequences([set_units(t) for t in texts])
    pos, gram = grams.repeated(n)  # an n-gram seen once is in no other text: it adds 0
    n_grams = int(gram.max()) + 1 if len(gram) else 1
    pairs = np.sort(grams.doc[pos] * n_grams + gram)
    if len(pairs):
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # distinct (text, n-gram) pairs
    pair_doc, pair_gram = pairs // n_grams, pairs % n_grams
    doc_freq = np.bincount(pair_gram, minlength=n_grams)
    others = np.bincount(pair_doc, weights=doc_freq[pair_gram] - 1, minlength=len(texts))
    total = 0.0
    for value in np.log(others + 1).tolist():  # summed in order, as the reference does
        total += value
    return total / len(texts)


def opening_diversity(texts: Sequence[str], n_words: int = 5) -> float:
    """Distinct openings (first ``n_words`` units, case kept) ÷ texts.

    Units as in :func:`set_units`: the first five words of English text, the first five
    characters of Chinese text (a punctuation run such as ``，`` counts as one unit).
    """
    if not texts:
        return 0.0
    return len({tuple(set_units(t)[:n_words]) for t in texts}) / len(texts)


# --- self-BLEU, exact and linear ------------------------------------------------------------
def _ngram_text_counts(
    toks: Sequence[Sequence[str]], max_n: int
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """For n = 1..max_n: (n-gram rank, text, count) of every distinct (text, n-gram) pair,
    sorted by n-gram then text; ranks are exact (equal n-grams, equal ranks)."""
    m = len(toks)
    ids, vocab = _token_ids([t for tk in toks for t in tk])
    lengths = np.array([len(tk) for tk in toks], dtype=np.int64)
    doc = np.repeat(np.arange(m, dtype=np.int64), lengths)
    end = np.cumsum(lengths)[doc]
    pos = np.arange(len(ids), dtype=np.int64)
    rank, n_ranks = ids, max(1, vocab)
    rank_at = ids
    out = []
    for n in range(1, max_n + 1):
        if n > 1:
            pos = pos[pos + n <= end[pos]]
            key = rank_at[pos] * max(1, vocab) + ids[pos + n - 1]
            rank, n_ranks = _dense_ranks(key, n_ranks * max(1, vocab))
            rank_at = np.full(len(ids), -1, dtype=np.int64)
            rank_at[pos] = rank
        key = np.sort(rank * m + doc[pos])
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else key
        counts = np.diff(np.append(starts, len(key)))
        gram, text = np.divmod(key[starts], m)
        out.append((gram, text, counts))
    return out


def self_bleu(texts: Sequence[str], max_n: int = 4) -> float:
    """Texygen self-BLEU-4: mean over texts of sentence BLEU against all other texts.

    A text's clipped count for an n-gram is min(its count, the largest count in any *other*
    text): the largest count overall, or the second largest where this text alone holds the
    largest. So one pass over (text, n-gram, count) triplets gives every text's numerators.

    Tokens are units (:func:`set_units`): on Chinese, BLEU over characters (character
    n-grams up to 4, brevity penalty on character counts), the usual choice for Chinese BLEU.
    """
    if len(texts) < 2:
        return 0.0
    toks = [set_units(t) for t in texts]
    m = len(toks)
    numerator_rows: list[list[int]] = []
    denominator_rows: list[list[int]] = []
    for n, (gram, text, count) in enumerate(_ngram_text_counts(toks, max_n), start=1):
        clipped = np.zeros(m, dtype=np.int64)
        if len(gram):
            starts = np.flatnonzero(np.r_[True, gram[1:] != gram[:-1]])
            sizes = np.diff(np.append(starts, len(gram)))
            best = np.repeat(np.maximum.reduceat(count, starts), sizes)
            is_best = count == best
            n_best = np.repeat(np.add.reduceat(is_best.astype(np.int64), starts), sizes)
            second = np.repeat(np.maximum.reduceat(np.where(is_best, 0, count), starts), sizes)
            other = np.where(is_best & (n_best == 1), second, best)
            np.add.at(clipped, text, np.minimum(count, other))
        numerator_rows.append(clipped.tolist())
        lens = np.array([len(t) for t in toks], dtype=np.int64)
        denominator_rows.append(np.maximum(1, lens - n + 1).tolist())
    lengths = sorted(len(t) for t in toks)
    scores = []
    for i, hyp in enumerate(toks):
        hyp_len = len(hyp)
        numerators = [row[i] for row in numerator_rows]
        denominators = [row[i] for row in denominator_rows]
        if numerators[0] == 0:
            scores.append(0.0)
            continue
        ref_len = _closest_other_length(lengths, hyp_len)
        bp = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len) if hyp_len else 0.0
        log_sum = 0.0
        for num, den in zip(numerators, denominators, strict=True):
            p = (num if num else 0.1) / den  # NLTK SmoothingFunction().method1, epsilon 0.1
            log_sum += math.log(p) / max_n
        scores.append(bp * math.exp(log_sum))
    return float(np.mean(scores))


def _closest_other_length(sorted_lengths: list[int], hyp_len: int) -> int:
    """NLTK's closest reference length (ties to the shorter), over all texts but this one."""
    import bisect

    lengths = list(sorted_lengths)
    lengths.pop(bisect.bisect_left(lengths, hyp_len))  # drop this text's own length
    k = bisect.bisect_left(lengths, hyp_len)
    candidates = lengths[max(0, k - 1) : k + 1]
    return min(candidates, key=lambda r: (abs(r - hyp_len), r))


# --- ROUGE-L homogenization ----------------------------------------------------------------
def rouge_tokens(text: str) -> list[str]:
    """rouge-score's default tokenizer: lowercase, ASCII alphanumeric runs.

    That tokenizer drops all non-ASCII text, so for a text holding CJK each CJK character is
    a token too (in text order, between the ASCII runs); other text is tokenised as before.
    """
    if has_cjk(text):
        return _ROUGE_CJK_TOKENS.findall(text.lower())
    return [t for t in _ROUGE_NON_ALNUM.sub(" ", text.lower()).split() if t]


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Longest common subsequence length, bit-parallel over ``a`` (Hyyrö 2004)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, tok in enumerate(a):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for tok in b:
        m = masks.get(tok)
        if m:
            u = v & m
            v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rougel_f1(a: Sequence[str], b: Sequence[str]) -> float:
    """ROUGE-L F1 between two token lists (0.0 when either is empty)."""
    lcs = lcs_length(a, b)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(b), lcs / len(a)
    return 2 * p * r / (p + r)


def rougel_matrix(tokens: Sequence[Sequence[str]]) -> np.ndarray:
    """ROUGE-L F1 for every pair ``i < j`` (upper triangle; the rest is 0).

    Bit-parallel LCS (Hyyrö 2004) for many patterns at once: all texts are packed into one
    integer, text ``i`` in its own field of ``len(i)`` bits plus a guard bit that catches the
    field's carry, so one pass over text ``j``'s tokens updates the LCS state against every
    earlier text together. Each field then holds what :func:`lcs_length` computes for that
    pair, and :func:`rougel_f1`'s formula gives the same floats.
    """
    m = len(tokens)
    out = np.zeros((m, m))
    if m < 2:
        return out
    lengths = np.array([len(t) for t in tokens], dtype=np.int64)
    offsets = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=offsets[1:])
    n_bytes = int(offsets[-1]) // 8 + 1
    # every (token, bit) occurrence, grouped by token, turned into one packed mask per token
    vocab: dict[str, int] = {}
    ids = np.fromiter(
        (vocab.setdefault(t, len(vocab)) for toks in tokens for t in toks),
        dtype=np.int64,
        count=int(lengths.sum()),
    )
    text_of = np.repeat(np.arange(m), lengths)
    within = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    bits = offsets[:-1][text_of] + within  # text i's tokens, then its guard bit
    order = np.argsort(ids, kind="stable")
    ids_sorted, bits_sorted = ids[order], bits[order]
    cuts = np.flatnonzero(np.r_[True, ids_sorted[1:] != ids_sorted[:-1]])
    masks: dict[str, int] = {}
    names = list(vocab)
    for k, start in enumerate(cuts.tolist()):
        end = int(cuts[k + 1]) if k + 1 < len(cuts) else len(ids_sorted)
        buf = np.zeros(n_bytes, dtype=np.uint8)
        b = bits_sorted[start:end]
        np.bitwise_or.at(buf, b >> 3, (1 << (b & 7)).astype(np.uint8))
        masks[names[int(ids_sorted[start])]] = int.from_bytes(buf.tobytes(), "little")
    data = np.zeros(int(offsets[-1]), dtype=np.uint8)
    data[bits] = 1
    all_data = int.from_bytes(np.packbits(data, bitorder="little").tobytes(), "little")
    get = masks.get
    for j in range(1, m):
        if not lengths[j]:
            continue
        full = all_data & ((1 << int(offsets[j])) - 1)  # fields of texts 0 .. j-1
        v = full
        for tok in tokens[j]:
            mask = get(tok)
            if mask:
                u = v & mask
                v = ((v + u) | (v - u)) & full
        field_bits = np.unpackbits(
            np.frombuffer(v.to_bytes(int(offsets[j]) // 8 + 1, "little"), dtype=np.uint8),
            bitorder="little",
        )[: int(offsets[j])]
        ones = np.add.reduceat(field_bits, offsets[:j]) if j else np.zeros(0)
        lcs = (lengths[:j] - ones).tolist()
        len_j = int(lengths[j])
        row = out[:, j]
        for i, (c, len_i) in enumerate(zip(lcs, lengths[:j].tolist(), strict=True)):
            if c:
                p, r = c / len_j, c / len_i
                row[i] = 2 * p * r / (p + r)
    return out


def pair_rougel(tokens: Sequence[Sequence[str]], pairs: np.ndarray) -> np.ndarray:
    """ROUGE-L F1 for each (i, j) row of ``pairs``: ``rougel_f1(tokens[i], tokens[j])``.

    Rows are grouped by ``i``, and a group's texts ``j`` are scanned together against
    ``tokens[i]`` in one packed bit-parallel pass (:func:`_lcs_one_to_many`), which gives
    each pair the LCS length :func:`lcs_length` gives it; the F1 is then :func:`rougel_f1`'s
    formula, so the floats are the same. Small groups go pair by pair. Repeated pairs, and
    ``(j, i)`` after ``(i, j)``, are computed once.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if not len(pairs):
        return np.zeros(0)
    # LCS and the F1 formula are symmetric (same floats), so (i, j) and (j, i) are one pair
    ends = np.sort(pairs, axis=1)
    key = ends[:, 0] * (int(ends[:, 1].max()) + 1) + ends[:, 1]
    uniq, first, back = np.unique(key, return_index=True, return_inverse=True)
    if len(uniq) < len(pairs):
        out: np.ndarray = _pair_rougel(tokens, ends[first])[back.reshape(-1)]
        return out
    return _pair_rougel(tokens, pairs)


#: scanned tokens x pattern tokens over all pairs above which loading the compiled kernel
#: (about a second) pays for itself: the packed numpy/Python pass costs ~0.75 ns per unit
_KERNEL_MIN_WORK = 2 * 10**9


def _pair_rougel(tokens: Sequence[Sequence[str]], pairs: npt.NDArray[np.int64]) -> np.ndarray:
    sizes = np.array([len(t) for t in tokens], dtype=np.int64)
    work = int((sizes[pairs[:, 0]] * sizes[pairs[:, 1]]).sum()) if len(pairs) else 0
    kernels = loaded_kernels() or (load_kernels() if work >= _KERNEL_MIN_WORK else None)
    if kernels is not None:
        return _pair_rougel_compiled(tokens, pairs, sizes, kernels)
    out = np.zeros(len(pairs))
    vocab: dict[str, int] = {}
    ids: dict[int, npt.NDArray[np.int64]] = {}  # token ids of the texts packed so far

    def ids_of(k: int) -> npt.NDArray[np.int64]:
        if k not in ids:
            ids[k] = np.fromiter(
                (vocab.setdefault(t, len(vocab)) for t in tokens[k]),
                dtype=np.int64,
                count=len(tokens[k]),
            )
        return ids[k]

    table = np.zeros(0, dtype=np.int64)  # scratch for _lcs_one_to_many, one entry per id
    seconds = pairs[:, 1].tolist()
    lengths = [len(tokens[j]) for j in seconds]
    # by i, then longest j first, so that each packed chunk holds texts of similar length
    order = np.lexsort((-np.array(lengths, dtype=np.int64), pairs[:, 0])).tolist()
    firsts = pairs[:, 0].tolist()
    start = 0
    while start < len(order):
        i = firsts[order[start]]
        end = start + 1
        while end < len(order) and firsts[order[end]] == i:
            end += 1
        a, len_a = tokens[i], len(tokens[i])
        for lo in range(start, end, _PACK_FIELDS):
            rows = order[lo : min(end, lo + _PACK_FIELDS)]
            partners = [seconds[row] for row in rows]
            if len_a * sum(lengths[row] for row in rows) < _PACK_MIN_WORK:
                lcs = [lcs_length(a, tokens[j]) for j in partners]
            else:
                a_ids, b_ids = ids_of(i), [ids_of(j) for j in partners]
                if len(table) < len(vocab):
                    table = np.zeros(2 * len(vocab), dtype=np.int64)
                lcs = _lcs_one_to_many(a_ids, b_ids, table)
            for row, j, c in zip(rows, partners, lcs, strict=True):
                if c:
                    p, r = c / len(tokens[j]), c / len_a
                    out[row] = 2 * p * r / (p + r)
        start = end
    return out


def _pair_rougel_compiled(
    tokens: Sequence[Sequence[str]],
    pairs: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    kernels: Any,
) -> np.ndarray:
    """:func:`_pair_rougel` through :func:`studio.metrics.kernels.lcs_pairs` (same LCS
    lengths, same F1 formula, so the same floats)."""
    used = np.unique(pairs)
    vocab: dict[str, int] = {}
    setdefault = vocab.setdefault
    size = int(lengths[used].sum())
    ids = np.fromiter(
        (setdefault(t, len(vocab)) for k in used.tolist() for t in tokens[k]),
        dtype=np.int64,
        count=size,
    )
    offsets = np.zeros(len(tokens) + 1, dtype=np.int64)
    local = np.zeros(len(tokens), dtype=np.int64)  # each used text's length, others 0
    local[used] = lengths[used]
    np.cumsum(local, out=offsets[1:])
    order = np.argsort(pairs[:, 0], kind="stable")  # a pattern's pairs in a row
    lcs = np.empty(len(pairs), dtype=np.int64)
    kernels.lcs_pairs(ids, offsets, np.ascontiguousarray(pairs[order]), lcs)
    c = np.empty(len(pairs), dtype=np.float64)
    c[order] = lcs
    out = np.zeros(len(pairs))
    hit = c > 0
    p = c[hit] / lengths[pairs[hit, 1]]
    r = c[hit] / lengths[pairs[hit, 0]]
    out[hit] = 2 * p * r / (p + r)
    return out


# at most this many texts share one packed pass (bounds its memory: steps x fields x bytes)
_PACK_FIELDS = 64
# below this much work (pattern tokens x scanned tokens) pair by pair is cheaper
_PACK_MIN_WORK = 20_000
# guard bits after each field of _lcs_one_to_many, which clears them every this many steps
_GUARD_BITS = 8


def _lcs_one_to_many(
    a: npt.NDArray[np.int64],
    bs: Sequence[npt.NDArray[np.int64]],
    table: npt.NDArray[np.int64],
) -> list[int]:
    """LCS length of the token ids ``a`` with each of ``bs``, as :func:`lcs_length` gives it.

    Bit-parallel LCS (Hyyrö 2004) with ``a`` as the pattern, once per ``b``, all in one
    integer: field ``f`` is ``len(a)`` bits for ``bs[f]`` followed by at least
    :data:`_GUARD_BITS` guard bits (up to a byte boundary) that catch the field's carries.
    Step ``t`` uses, in field ``f``, the mask of the positions of ``a`` holding
    ``bs[f][t]``, so each field evolves exactly as :func:`lcs_length`'s state: carries and
    borrows never cross a field (``u`` is a subset of ``v`` and has no guard bits, so
    ``v - u`` borrows nothing, and a guard holding ``g`` becomes ``(g + carry) | g``, below
    ``2**s`` after ``s`` steps). So the guards are cleared only every ``_GUARD_BITS`` steps,
    not after each one as in :func:`rougel_matrix`. The ``bs`` are scanned longest first,
    and a field leaves the integer when its ``b`` ends. ``table`` is a zeroed scratch array
    indexed by token id (zeroed again on return).
    """
    len_a, k = len(a), len(bs)
    lens = np.array([len(b) for b in bs], dtype=np.int64)
    if len_a == 0 or k == 0 or not lens.any():
        return [0] * k
    order = np.argsort(-lens, kind="stable")
    lens_sorted = lens[order]
    steps = int(lens_sorted[0])
    field = (len_a + _GUARD_BITS + 7) // 8  # bytes: len(a) bits, then the guard bits
    # masks[r]: a's positions holding the token of row r, as one field; row 0 is empty
    uniq, inv = np.unique(a, return_inverse=True)
    bits = np.zeros((len(uniq) + 1, field * 8), dtype=bool)
    bits[inv + 1, np.arange(len_a)] = True
    masks = np.packbits(bits, axis=1, bitorder="little")
    # rows[t, f]: row of bs[f][t] (0 past the end of bs[f], or for a token not in a)
    table[uniq] = np.arange(1, len(uniq) + 1)
    scanned = np.concatenate([bs[o] for o in order.tolist()])
    starts = np.cumsum(lens_sorted) - lens_sorted
    rows = np.zeros((steps, k), dtype=np.int64)
    rows[
        np.arange(len(scanned)) - np.repeat(starts, lens_sorted),
        np.repeat(np.arange(k), lens_sorted),
    ] = table[scanned]
    table[uniq] = 0
    step_masks = masks[rows].reshape(-1).data  # step t: k fields of field bytes
    stride = k * field
    full_field = np.packbits(np.arange(field * 8) < len_a, bitorder="little")
    full = int.from_bytes(np.tile(full_field, k).tobytes(), "little")
    v = full
    done = 0
    active = k
    ends = lens_sorted.tolist()
    from_bytes = int.from_bytes
    for t in range(steps):
        if ends[active - 1] <= t:  # the last fields' texts have ended: keep their state
            while ends[active - 1] <= t:
                active -= 1
            cut = active * field * 8
            done |= v >> cut << cut
            low = (1 << cut) - 1
            v &= low
            full &= low
        m = from_bytes(step_masks[t * stride : t * stride + active * field], "little")
        if m:
            u = v & m
            v = (v + u) | (v - u)
        if t % _GUARD_BITS == _GUARD_BITS - 1:
            v &= full
    done |= v
    state = np.frombuffer(done.to_bytes(stride, "little"), dtype=np.uint8).reshape(k, field)
    state = state & full_field  # drop the guard bits
    lcs = np.empty(k, dtype=np.int64)
    lcs[order] = len_a - np.bitwise_count(state).sum(axis=1, dtype=np.int64)
    return lcs.tolist()


# --- Vendi score over n-gram kernels --------------------------------------------------------
def ngram_kernel(texts: Sequence[str], ns: Sequence[int] = (1, 2, 3, 4)) -> np.ndarray:
    """Mean over ``ns`` of the cosine similarity matrix of n-gram count vectors.

    Each n-gram's column is numbered in order of first appearance and the (text, n-gram,
    count) triplets are listed by column, then text: the same sums in the same order as
    counting each text's n-grams one by one. Tokens are units (:func:`set_units`).
    """
    m = len(texts)
    cjk = [has_cjk(t) for t in texts]
    toks = [_SET_UNITS.findall(t) if c else t.split() for t, c in zip(texts, cjk, strict=True)]
    ids, vocab = _token_ids([t for tk in toks for t in tk])
    lengths = np.array([len(tk) for tk in toks], dtype=np.int64)
    doc = np.repeat(np.arange(m, dtype=np.int64), lengths)
    end = np.cumsum(lengths)[doc]
    pos = np.arange(len(ids), dtype=np.int64)
    rank, n_ranks = ids, max(1, vocab)
    rank_at = ids
    k_sum = np.zeros((m, m))
    # Chinese texts share most of their characters, so listing every pair of texts that
    # hold a character (below) grows as texts² × characters: a sparse product does it in C
    product = _sparse_gram if any(cjk) else _cosine_from_triplets
    for n in range(1, max(ns) + 1):
        if n > 1:
            pos = pos[pos + n <= end[pos]]
            key = rank_at[pos] * max(1, vocab) + ids[pos + n - 1]
            rank, n_ranks = _dense_ranks(key, n_ranks * max(1, vocab))
            rank_at = np.full(len(ids), -1, dtype=np.int64)
            rank_at[pos] = rank
        if n not in ns or len(pos) == 0:
            continue
        first = np.full(n_ranks, len(ids), dtype=np.int64)
        np.minimum.at(first, rank, pos)
        col_of_rank = np.empty(n_ranks, dtype=np.int64)
        col_of_rank[np.argsort(first, kind="stable")] = np.arange(n_ranks)
        key = np.sort(col_of_rank[rank] * m + doc[pos])
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        counts = np.diff(np.append(starts, len(key)))
        cols, rows = np.divmod(key[starts], m)
        k_sum += product(m, rows, cols, counts.astype(float))
    return k_sum / len(ns)


def _sparse_gram(m: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """X Xᵀ for sparse X (row-normalised), as :func:`_cosine_from_triplets`, with scipy's
    sparse product (the same cosines up to the order of float sums)."""
    from scipy import sparse

    if len(rows) == 0:
        return np.zeros((m, m))
    norms = np.sqrt(np.bincount(rows, weights=vals**2, minlength=m))
    x = sparse.csr_matrix((vals / norms[rows], (rows, cols)), shape=(m, int(cols.max()) + 1))
    return np.asarray((x @ x.T).toarray())


def _cosine_from_triplets(
    m: int, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray
) -> np.ndarray:
    """X Xᵀ for sparse X (row-normalised), via the postings of each column."""
    if len(rows) == 0:
        return np.zeros((m, m))
    norms = np.sqrt(np.bincount(rows, weights=vals**2, minlength=m))
    w = vals / norms[rows]
    order = np.argsort(cols, kind="stable")
    rows, cols, w = rows[order], cols[order], w[order]
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    sizes = np.diff(np.r_[starts, len(cols)])
    # every pair of postings inside a column contributes w_a * w_b to K[a, b] and K[b, a];
    # each unordered pair is summed once (in column order, as before) and mirrored, which
    # gives the same floats since w_a * w_b == w_b * w_a
    group_of = np.repeat(np.arange(len(starts)), sizes)
    within = np.arange(len(rows)) - starts[group_of]
    pair_counts = sizes[group_of] - within  # an entry pairs with itself and those after it
    left = np.repeat(np.arange(len(rows)), pair_counts)
    offsets = np.arange(len(left)) - np.repeat(np.cumsum(pair_counts) - pair_counts, pair_counts)
    right = left + offsets
    a, b = rows[left], rows[right]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    k = np.bincount(lo * m + hi, weights=w[left] * w[right], minlength=m * m).reshape(m, m)
    return k + np.triu(k, 1).T


def vendi_from_kernel(k: np.ndarray) -> float:
    """exp(Shannon entropy of the eigenvalues of K / N): the Vendi score (q = 1)."""
    if k.shape[0] == 0:
        return 0.0
    w = np.linalg.eigvalsh(k / k.shape[0])
    w = w[w > 0]
    return float(np.exp(-(w * np.log(w)).sum()))


def vendi_ngram(texts: Sequence[str]) -> float:
    """Vendi score of ``texts`` with the mean n-gram cosine kernel (n = 1..4) over units
    (words; characters in Chinese)."""
    return vendi_from_kernel(ngram_kernel(texts))
