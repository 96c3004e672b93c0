"""Compiled (numba) kernels for the English per-text metrics of large jobs.

Each kernel makes one pass per text over arrays, with no temporaries, and gives exactly what
the numpy and Python path gives (``tests/metrics/test_kernels.py`` checks it value by value,
and the datatrove cross-check scores through both):

- :func:`chunk_lookup` / :func:`chunk_tokens`: ``text.split()`` of a whole batch as ids of
  chunks already split into spaCy-compatible tokens (an open-addressing table, a hit verified
  code point by code point), then token ids and Gopher's word counts per text;
- :func:`line_stats`: one pass over a text's code points gives its ``split("\\n")`` pieces,
  from which every line split of the reference is read (paragraphs, ``re.split("\\n+")``,
  FineWeb's non-blank lines, ``splitlines()``), duplicates found by hash then verified, and
  the lines C4 can act on with their sentence counts;
- :func:`ngram_rules`: the Gopher n-gram rules (datatrove 0.10.1
  ``gopher_repetition_filter.py``, after Rae et al. 2021, table A1).

The n-gram rules:

- ``find_top_duplicate`` over n-grams joined with a space, n = 2, 3, 4: the length of the most
  common n-gram times its count, ties going to the n-gram seen first. Word tokens never hold a
  space, so two space-joined n-grams are equal exactly when their token ids are: the kernel
  keys them by ids, never by strings.
- ``find_all_duplicate`` over n-grams glued with no separator, n = 5 .. 10: a left-to-right
  scan that, on a glued string seen before, adds its length and jumps n tokens, else steps one.
  Equality is of the glued *strings* (so ``["ab", "c"]`` meets ``["a", "bc"]``): a hash picks
  the candidates and the code points are compared, so a hash collision never changes a result.

Only n-grams that can repeat are looked at. A token n-gram repeats only where its (n-1)-gram
does. Two equal glued strings of ``WINDOW`` characters or more begin with equal windows of
``WINDOW`` characters at token starts, so one pass over the windows marks every token start
that can begin a long repeat; shorter glued n-grams are always looked at. A position that can
repeat nothing is still "seen" by datatrove's scan, but nothing ever meets it again, so
skipping it changes nothing.

numba compiles these on first use (about 8 s, once per installation) and caches the machine
code beside this file (``cache=True``); importing numba and loading the cache costs about a
second, so the scorer only loads this module for large jobs
(:data:`studio.metrics.scorer.KERNEL_MIN_TEXTS`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

WINDOW = 16  # characters in the glued-rule pre-filter's window
_BASE = np.uint64(0x100000001B3)
_INV_BASE = np.uint64(pow(0x100000001B3, -1, 2**64))
_MUL = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True, inline="always")
def _slot(h: np.uint64, bits: np.uint64) -> np.int64:
    return np.int64((h * _MUL) >> (np.uint64(64) - bits))


@njit(cache=True, nogil=True, inline="always")
def _same(
    left: npt.NDArray[np.uint32], a: int, right: npt.NDArray[np.uint32], b: int, length: int
) -> bool:
    """Whether ``left[a:a + length]`` equals ``right[b:b + length]`` (a hash hit, verified)."""
    for t in range(length):  # noqa: SIM110 (a plain loop: numba compiles it, not all(genexpr))
        if left[a + t] != right[b + t]:
            return False
    return True


@njit(cache=True, nogil=True)
def _powers(size: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """``B**k`` and ``B**-k`` (mod 2**64) for k < size."""
    pw = np.empty(size, dtype=np.uint64)
    inv = np.empty(size, dtype=np.uint64)
    pw[0] = np.uint64(1)
    inv[0] = np.uint64(1)
    for i in range(1, size):
        pw[i] = pw[i - 1] * _BASE
        inv[i] = inv[i - 1] * _INV_BASE
    return pw, inv


@njit(cache=True, nogil=True)
def ngram_rules(
    ids: npt.NDArray[np.int64],
    starts: npt.NDArray[np.int64],
    tok_len: npt.NDArray[np.int64],
    codes: npt.NDArray[np.uint32],
    top_out: npt.NDArray[np.int64],
    dup_out: npt.NDArray[np.int64],
    glued_top: bool = False,
) -> None:
    """Fill ``top_out[k, d]`` (n = 2 + k) and ``dup_out[k, d]`` (n = 5 + k) for every text d.

    ``glued_top``: the CJK mode of :mod:`studio.metrics.gopher_repetition`, where the top
    rule too joins units with no separator (so its n-grams are equal when their glued
    strings are, and an n-gram's length has no spaces); else space-joined, as datatrove.

    ``ids``: token ids of the batch (below 2**32), text ``d`` owning
    ``ids[starts[d]:starts[d + 1]]``; ``tok_len``: the length in characters of each token of
    ``ids`` (per position); ``codes``: the code points of every token glued together, in order.
    """
    n_docs = len(starts) - 1
    max_m = 0
    max_chars = 0
    char_base = 0
    for d in range(n_docs):
        m = starts[d + 1] - starts[d]
        max_m = max(max_m, m)
        n_chars = 0
        for i in range(starts[d], starts[d + 1]):
            n_chars += tok_len[i]
        max_chars = max(max_chars, n_chars)
    size = 16
    while size < 2 * max_m + 2:
        size *= 2
    # one slot: [stamp, first position, count]; plus its key. A slot is in use when it holds
    # the current stamp, so no table is ever cleared.
    slot_meta = np.zeros(3 * size, dtype=np.int64)
    slot_key = np.empty(size, dtype=np.uint64)
    stamp = 0
    group = np.empty(max_m + 1, dtype=np.int64)  # slot of each position's n-gram
    prev = np.empty(max_m + 1, dtype=np.int64)  # positions whose (n-1)-gram repeats
    cum = np.empty(max_m + 1, dtype=np.int64)  # glued character offsets within the text
    cand = np.empty(max_m + 1, dtype=np.int64)
    twin = np.empty(max_m + 1, dtype=np.bool_)
    pw, inv = _powers(max_chars + 1)
    hpre = np.empty(max_chars + 1, dtype=np.uint64)
    for d in range(n_docs):
        s = starts[d]
        m = starts[d + 1] - s
        cum[0] = 0
        for i in range(m):
            cum[i + 1] = cum[i] + tok_len[s + i]
        n_chars = cum[m]
        # this text's part of the table: at most half full, and small enough to stay cached
        bits = 4
        while (1 << bits) < 2 * m + 2:
            bits += 1
        ubits = np.uint64(bits)
        mask = (1 << bits) - 1
        # prefix sums of code * B**i: a slice's hash is (hpre[b] - hpre[a]) * B**-a
        h = np.uint64(0)
        hpre[0] = h
        for i in range(n_chars):
            h += np.uint64(codes[char_base + i]) * pw[i]
            hpre[i + 1] = h
        if glued_top:
            stamp = _top_glued(
                m, n_chars, cum, codes, char_base, hpre, inv,
                slot_meta, slot_key, stamp, ubits, mask, group, top_out, d,
            )  # fmt: skip
        # ---- top n-grams: n = 2, 3, 4 over token ids ------------------------------------
        # exact keys: (first id, second id), then (the (n-1)-gram's slot, last id)
        for i in range(0 if glued_top else m):
            group[i] = ids[s + i]
            prev[i] = i
        n_prev = m
        for k in range(0 if glued_top else 3):
            n = k + 2
            if m < n:
                top_out[k, d] = 0
                continue
            stamp += 1
            best_cnt = 1
            best_pos = 0  # with no repeat, the first n-gram (count 1) wins
            for j in range(n_prev):
                p = prev[j]
                if p + n > m:
                    n_prev = j
                    break
                key = (np.uint64(group[p]) << np.uint64(32)) | np.uint64(ids[s + p + n - 1])
                slot = _slot(key, ubits)
                while True:
                    if slot_meta[3 * slot] != stamp:
                        slot_meta[3 * slot] = stamp
                        slot_meta[3 * slot + 1] = p
                        slot_meta[3 * slot + 2] = 1
                        slot_key[slot] = key
                        break
                    if slot_key[slot] == key:
                        slot_meta[3 * slot + 2] += 1
                        break
                    slot = (slot + 1) & mask
                group[p] = slot
            # the most common n-gram, earliest first occurrence on ties; positions whose
            # n-gram repeats go on to n + 1
            n_cur = 0
            for j in range(n_prev):
                p = prev[j]
                slot = group[p]
                c = slot_meta[3 * slot + 2]
                if c >= 2:
                    prev[n_cur] = p
                    n_cur += 1
                    if c > best_cnt and slot_meta[3 * slot + 1] == p:
                        best_cnt = c
                        best_pos = p
            top_out[k, d] = (cum[best_pos + n] - cum[best_pos] + n - 1) * best_cnt
            n_prev = n_cur
        # ---- duplicated n-grams: n = 5 .. 10 over glued strings -------------------------
        if m < 5:
            for k in range(6):
                dup_out[k, d] = 0
            char_base += n_chars
            continue
        # token starts whose WINDOW-character window occurs at another token start
        stamp += 1
        n_cand = 0
        for i in range(m):
            twin[i] = False
        for i in range(m):
            a = cum[i]
            if a + WINDOW > n_chars:
                break
            h = (hpre[a + WINDOW] - hpre[a]) * inv[a]
            slot = _slot(h ^ (h >> np.uint64(31)), ubits)
            while True:
                if slot_meta[3 * slot] != stamp:
                    slot_meta[3 * slot] = stamp
                    slot_meta[3 * slot + 1] = i
                    slot_key[slot] = h
                    break
                if slot_key[slot] == h:
                    twin[i] = True
                    twin[slot_meta[3 * slot + 1]] = True
                    break
                slot = (slot + 1) & mask
        # the only positions that can repeat, for any n >= 5: a twin window, or a glued
        # 5-gram (hence every shorter-than-window n-gram) under WINDOW characters
        for i in range(m - 4):
            if twin[i] or cum[i + 5] - cum[i] < WINDOW:
                cand[n_cand] = i
                n_cand += 1
        for k in range(6):
            n = k + 5
            stamp += 1
            repeated = 0
            idx = 0
            for j in range(n_cand):
                p = cand[j]
                if p + n > m:
                    break
                if p < idx:
                    continue
                a = cum[p]
                length = cum[p + n] - a
                if length >= WINDOW and not twin[p]:
                    continue  # its glued n-gram occurs nowhere else
                h = (hpre[a + length] - hpre[a]) * inv[a] + np.uint64(length)
                slot = _slot(h, ubits)
                found = False
                while True:
                    if slot_meta[3 * slot] != stamp:
                        slot_meta[3 * slot] = stamp
                        slot_meta[3 * slot + 1] = p
                        slot_key[slot] = h
                        break
                    if slot_key[slot] == h:
                        q = slot_meta[3 * slot + 1]
                        b = cum[q]
                        if cum[q + n] - b == length and _same(
                            codes, char_base + a, codes, char_base + b, length
                        ):
                            found = True
                            break
                    slot = (slot + 1) & mask
                if found:
                    repeated += length
                    idx = p + n
                else:
                    idx = p + 1
            dup_out[k, d] = repeated
        char_base += n_chars


@njit(cache=True, nogil=True)
def _top_glued(
    m: int,
    n_chars: int,
    cum: npt.NDArray[np.int64],
    codes: npt.NDArray[np.uint32],
    char_base: int,
    hpre: npt.NDArray[np.uint64],
    inv: npt.NDArray[np.uint64],
    slot_meta: npt.NDArray[np.int64],
    slot_key: npt.NDArray[np.uint64],
    stamp: int,
    ubits: np.uint64,
    mask: int,
    group: npt.NDArray[np.int64],
    top_out: npt.NDArray[np.int64],
    d: int,
) -> int:
    """The top n-gram rule (n = 2, 3, 4) over glued n-grams: the glued length of the most
    common one times its count, ties to the first seen. Every position is looked at (a
    glued n-gram can repeat where no glued (n-1)-gram does); equal hashes are verified code
    point by code point. Returns the last stamp used."""
    for k in range(3):
        n = k + 2
        if m < n:
            top_out[k, d] = 0
            continue
        stamp += 1
        for p in range(m - n + 1):
            a = cum[p]
            length = cum[p + n] - a
            h = (hpre[a + length] - hpre[a]) * inv[a] + np.uint64(length)
            slot = _slot(h, ubits)
            while True:
                if slot_meta[3 * slot] != stamp:
                    slot_meta[3 * slot] = stamp
                    slot_meta[3 * slot + 1] = p
                    slot_meta[3 * slot + 2] = 1
                    slot_key[slot] = h
                    break
                if slot_key[slot] == h:
                    q = slot_meta[3 * slot + 1]
                    b = cum[q]
                    if cum[q + n] - b == length and _same(
                        codes, char_base + a, codes, char_base + b, length
                    ):
                        slot_meta[3 * slot + 2] += 1
                        break
                slot = (slot + 1) & mask
            group[p] = slot
        best_cnt = 1
        best_pos = 0
        for p in range(m - n + 1):
            slot = group[p]
            c = slot_meta[3 * slot + 2]
            if c > best_cnt and slot_meta[3 * slot + 1] == p:
                best_cnt = c
                best_pos = p
        top_out[k, d] = (cum[best_pos + n] - cum[best_pos]) * best_cnt
    return stamp


# ---- line statistics -----------------------------------------------------------------------
#: columns of :func:`line_stats`' output, one row per text
LINE_COLUMNS = (
    "n_paragraphs",  # re.split(r"\n{2,}", text.strip())
    "dup_paragraphs",
    "dup_paragraph_chars",
    "n_lines",  # re.split("\n+", text)
    "dup_lines",
    "dup_line_chars",
    "n_nonblank",  # text.split("\n") without the lines that strip() empties
    "nonblank_ended",  # ... whose last character is terminal punctuation
    "nonblank_short",  # ... of at most `short` characters
    "nonblank_dup_chars",
    "n_newlines",
    "n_physical",  # text.splitlines()
    "physical_bullets",  # ... whose lstrip() starts with "•" or "-"
    "physical_ellipsis",  # ... whose rstrip() ends with "..." or "…"
    "other_breaks",  # 1 when splitlines() also breaks at something other than "\n"
    "c4_lines",  # lines C4 must look at (their ranges go to ``c4_ranges``), when no other breaks
)
_NEWLINE = 10


@njit(cache=True, nogil=True)
def _duplicates(
    lo: npt.NDArray[np.int64],
    hi: npt.NDArray[np.int64],
    count: int,
    codes: npt.NDArray[np.uint32],
    base: int,
    hpre: npt.NDArray[np.uint64],
    inv: npt.NDArray[np.uint64],
    slot_pos: npt.NDArray[np.int64],
    slot_stamp: npt.NDArray[np.int64],
    stamp: int,
    bits: int,
) -> tuple[int, int]:
    """datatrove's ``find_duplicates`` over the pieces ``[lo[i], hi[i])``: how many equal an
    earlier piece, and their characters (equal hashes are checked code point by code point)."""
    mask = (1 << bits) - 1
    ubits = np.uint64(bits)
    dups = 0
    chars = 0
    for i in range(count):
        a = lo[i]
        length = hi[i] - a
        h = (hpre[a + length] - hpre[a]) * inv[a] + np.uint64(length)
        slot = _slot(h, ubits)
        while True:
            if slot_stamp[slot] != stamp:
                slot_stamp[slot] = stamp
                slot_pos[slot] = i
                break
            j = slot_pos[slot]
            b = lo[j]
            if hi[j] - b == length and _same(codes, base + a, codes, base + b, length):
                dups += 1
                chars += length
                break
            slot = (slot + 1) & mask
    return dups, chars


_NON_SPACE, _SPACE, _LF, _OTHER_BREAK = 0, 1, 2, 3


@njit(cache=True, nogil=True)
def _grow(a: npt.NDArray[np.int64], size: int) -> npt.NDArray[np.int64]:
    out = np.empty(max(size, 2 * len(a)), dtype=np.int64)
    out[: len(a)] = a
    return out


@njit(cache=True, nogil=True)
def line_stats(
    codes: npt.NDArray[np.uint32],
    text_starts: npt.NDArray[np.int64],
    klass: npt.NDArray[np.uint8],
    terminal: npt.NDArray[np.bool_],
    short: int,
    out: npt.NDArray[np.int64],
    c4_ranges: npt.NDArray[np.int64],
    c4_sentences: npt.NDArray[np.int64],
    chunk_pos: npt.NDArray[np.int64],
    chunk_ids: npt.NDArray[np.int64],
    chunk_starts: npt.NDArray[np.int64],
    chunk_steps: npt.NDArray[np.int64],
) -> None:
    """Fill ``out[d, :]`` with the :data:`LINE_COLUMNS` of text d (``codes`` are the code points
    of every text, text d owning ``codes[text_starts[d]:text_starts[d + 1]]``).

    ``c4_ranges`` gets, text after text, the (start, end) within its text of every line of
    ``splitlines()`` that C4 can do anything with: one whose ``strip()`` ends with C4's end
    punctuation (and not "..."), or that holds a "[" (citation removal may change its end).
    C4 passes over every other line (``studio.metrics.c4``), so it needs only these.
    ``c4_sentences`` gets each of those lines' sentence count (spaCy's sentencizer, as
    ``studio.metrics.words.count_sentences`` counts it) from the steps of its whitespace
    chunks: text d's chunks are ``chunk_ids[chunk_starts[d]:chunk_starts[d + 1]]`` at
    ``chunk_pos`` in ``codes``, a chunk's step packs (new sentences, terminal seen) from the
    states "no terminal seen" and "terminal seen" in 16-bit fields. -1 where Python must
    count: a line with a "[" (C4 removes citations first), with whitespace other than single
    spaces between its words, or when no chunks are given.

    ``klass[c]`` for c below ``len(klass)``: 0 not whitespace, 1 whitespace, 2 "\\n", 3 another
    ``splitlines`` boundary (all are whitespace); above it, c is not whitespace.
    ``terminal[c]``: whether c is terminal punctuation (its last entry is False).

    One pass over the characters builds the text's prefix hash and its ``split("\\n")``
    pieces with their first and last non-whitespace character; every split the reference
    makes is read off those pieces.
    """
    n_docs = len(text_starts) - 1
    max_len = 0
    for d in range(n_docs):
        max_len = max(max_len, text_starts[d + 1] - text_starts[d])
    hpre = np.empty(max_len + 1, dtype=np.uint64)
    pw, inv = _powers(max_len + 1)
    n_klass = len(klass)
    n_c4 = 0
    ps = np.empty(64, dtype=np.int64)  # split("\n") pieces: start, end,
    pe = np.empty(64, dtype=np.int64)
    fns = np.empty(64, dtype=np.int64)  # first and last non-whitespace index (-1: blank)
    lns = np.empty(64, dtype=np.int64)
    brk = np.empty(64, dtype=np.int64)  # 1 when the piece holds a "["
    irr = np.empty(64, dtype=np.int64)  # 1 when its words are not separated by single spaces
    lo = np.empty(64, dtype=np.int64)  # the pieces of one split, for _duplicates
    hi = np.empty(64, dtype=np.int64)
    bits = 7
    slot_pos = np.empty(1 << bits, dtype=np.int64)
    slot_stamp = np.zeros(1 << bits, dtype=np.int64)
    stamp = 0
    for d in range(n_docs):
        base = text_starts[d]
        length = text_starts[d + 1] - base
        h = np.uint64(0)
        hpre[0] = h
        k = 0
        start = 0
        first = -1
        last = -1
        bracket = 0
        irregular = -1  # the first odd space after the first word
        other = 0
        for i in range(length):
            c = codes[base + i]
            h += np.uint64(c) * pw[i]
            hpre[i + 1] = h
            cls = klass[c] if c < n_klass else _NON_SPACE
            if cls == _NON_SPACE:
                if first < 0:
                    first = i
                last = i
                if c == 0x5B:  # "["
                    bracket = 1
            elif cls == _SPACE:
                if (
                    irregular < 0
                    and first >= 0
                    and (c != 32 or codes[base + i - 1] == 32)  # not " ", or "  "
                ):
                    irregular = i
            elif cls == _LF:
                if k + 2 > len(ps):
                    ps = _grow(ps, k + 2)
                    pe = _grow(pe, k + 2)
                    fns = _grow(fns, k + 2)
                    lns = _grow(lns, k + 2)
                    brk = _grow(brk, k + 2)
                    irr = _grow(irr, k + 2)
                ps[k] = start
                pe[k] = i
                fns[k] = first
                lns[k] = last
                brk[k] = bracket
                irr[k] = 1 if 0 <= irregular < last else 0
                k += 1
                start = i + 1
                first = -1
                last = -1
                bracket = 0
                irregular = -1
            elif cls == _OTHER_BREAK:
                other = 1
        ps[k] = start
        pe[k] = length
        fns[k] = first
        lns[k] = last
        brk[k] = bracket
        irr[k] = 1 if 0 <= irregular < last else 0
        n_pieces = k + 1
        if n_pieces > len(lo):
            lo = np.empty(2 * n_pieces, dtype=np.int64)
            hi = np.empty(2 * n_pieces, dtype=np.int64)
        while (1 << bits) < 2 * n_pieces + 2:
            bits += 1
            slot_pos = np.empty(1 << bits, dtype=np.int64)
            slot_stamp = np.zeros(1 << bits, dtype=np.int64)
            stamp = 0
        # paragraphs: text.strip() cut at runs of two or more newlines
        left = -1
        right = -1
        for j in range(n_pieces):
            if fns[j] >= 0:
                if left < 0:
                    left = fns[j]
                right = lns[j] + 1
        count = 0
        if left < 0:
            lo[0] = 0
            hi[0] = 0
            count = 1
        else:
            para = left
            j = 0
            while j < n_pieces - 1:
                run_start = pe[j]  # a newline
                r = j
                while r + 1 < n_pieces - 1 and pe[r + 1] == pe[r] + 1:
                    r += 1
                run_end = pe[r] + 1
                if run_end - run_start >= 2 and run_start > left and run_end < right:
                    lo[count] = para
                    hi[count] = run_start
                    count += 1
                    para = run_end
                j = r + 1
            lo[count] = para
            hi[count] = right
            count += 1
        stamp += 1
        dups, chars = _duplicates(
            lo, hi, count, codes, base, hpre, inv, slot_pos, slot_stamp, stamp, bits
        )
        out[d, 0] = count
        out[d, 1] = dups
        out[d, 2] = chars
        # lines: re.split("\n+", text) keeps the first and last pieces, even empty
        count = 0
        for j in range(n_pieces):
            if pe[j] > ps[j] or j == 0 or j == n_pieces - 1:
                lo[count] = ps[j]
                hi[count] = pe[j]
                count += 1
        stamp += 1
        dups, chars = _duplicates(
            lo, hi, count, codes, base, hpre, inv, slot_pos, slot_stamp, stamp, bits
        )
        out[d, 3] = count
        out[d, 4] = dups
        out[d, 5] = chars
        out[d, 10] = n_pieces - 1
        # non-blank lines of text.split("\n")
        count = 0
        ended = 0
        n_short = 0
        for j in range(n_pieces):
            if fns[j] >= 0:
                lo[count] = ps[j]
                hi[count] = pe[j]
                count += 1
                if terminal[min(codes[base + pe[j] - 1], len(terminal) - 1)]:
                    ended += 1
                if pe[j] - ps[j] <= short:
                    n_short += 1
        stamp += 1
        dups, chars = _duplicates(
            lo, hi, count, codes, base, hpre, inv, slot_pos, slot_stamp, stamp, bits
        )
        out[d, 6] = count
        out[d, 7] = ended
        out[d, 8] = n_short
        out[d, 9] = chars
        # physical lines: text.splitlines()
        out[d, 14] = other
        out[d, 15] = 0
        if other:
            _splitlines_stats(codes, base, length, klass, out[d])
            continue
        bullets = 0
        ellipsis = 0
        n_physical = n_pieces if pe[n_pieces - 1] > ps[n_pieces - 1] else n_pieces - 1
        n_lines_c4 = 0
        cp = chunk_starts[d] if d + 1 < len(chunk_starts) else 0
        cp_end = chunk_starts[d + 1] if d + 1 < len(chunk_starts) else 0
        for j in range(n_physical):
            f = fns[j]
            if f >= 0:
                e = lns[j]
                c = codes[base + e]
                dots = (
                    e - 2 >= f
                    and c == 0x2E
                    and codes[base + e - 1] == 0x2E
                    and codes[base + e - 2] == 0x2E
                )
                # C4's end punctuation: . ? ! " '
                ends = (c == 0x2E or c == 0x3F or c == 0x21 or c == 0x22 or c == 0x27) and not dots
                if ends or brk[j]:
                    c4_ranges[2 * n_c4] = ps[j]
                    c4_ranges[2 * n_c4 + 1] = pe[j]
                    c4_sentences[n_c4] = -1
                    if not brk[j] and not irr[j] and cp_end > 0:
                        while cp < cp_end and chunk_pos[cp] < base + f:
                            cp += 1
                        sentences = 1
                        seen = 0
                        while cp < cp_end and chunk_pos[cp] <= base + e:
                            step = chunk_steps[chunk_ids[cp]]
                            shift = 32 if seen else 0
                            sentences += (step >> shift) & 0xFFFF
                            seen = (step >> (shift + 16)) & 1
                            cp += 1
                        c4_sentences[n_c4] = sentences
                    n_c4 += 1
                    n_lines_c4 += 1
                if dots or codes[base + e] == 0x2026:  # "...", "…"
                    ellipsis += 1
                c = codes[base + f]
                if c == 0x2D or c == 0x2022:  # "-", "•"
                    bullets += 1
        out[d, 11] = n_physical
        out[d, 12] = bullets
        out[d, 13] = ellipsis
        out[d, 15] = n_lines_c4


@njit(cache=True, nogil=True)
def _splitlines_stats(
    codes: npt.NDArray[np.uint32],
    base: int,
    length: int,
    klass: npt.NDArray[np.uint8],
    row: npt.NDArray[np.int64],
) -> None:
    """The ``splitlines()`` columns of a text with boundaries other than "\\n" ("\\r\\n" is
    one boundary)."""
    n_klass = len(klass)
    n_physical = 0
    bullets = 0
    ellipsis = 0
    start = 0
    i = 0
    while i < length:
        c = codes[base + i]
        if c < n_klass and klass[c] >= _LF:
            end = i
            i += 1
            if c == 13 and i < length and codes[base + i] == 10:
                i += 1
        elif i == length - 1:
            end = length
            i += 1
        else:
            i += 1
            continue
        n_physical += 1
        a = start
        while a < end and codes[base + a] < n_klass and klass[codes[base + a]] != _NON_SPACE:
            a += 1
        if a < end and (codes[base + a] == 0x2D or codes[base + a] == 0x2022):
            bullets += 1
        b = end
        while b > start and codes[base + b - 1] < n_klass and klass[codes[base + b - 1]] != 0:
            b -= 1
        if (b > start and codes[base + b - 1] == 0x2026) or (
            b - start >= 3
            and codes[base + b - 1] == 0x2E
            and codes[base + b - 2] == 0x2E
            and codes[base + b - 3] == 0x2E
        ):
            ellipsis += 1
        start = i
    row[11] = n_physical
    row[12] = bullets
    row[13] = ellipsis


def _tables() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    from studio.metrics.punctuation import TERMINAL_PUNCTUATION

    # every character str.isspace() accepts is below U+3001
    space = np.array([chr(c).isspace() for c in range(0x3001)], dtype=np.uint8)
    for c in range(0x3001):
        if len(f"x{chr(c)}x".splitlines()) == 2:
            space[c] = _OTHER_BREAK
    space[10] = _LF
    points = [ord(ch) for ch in TERMINAL_PUNCTUATION]
    terminal = np.zeros(max(points) + 2, dtype=np.bool_)  # the last entry stays False
    terminal[points] = True
    return space, terminal


KLASS, TERMINAL = _tables()


def batch_line_stats(
    codes: npt.NDArray[np.uint32],
    text_starts: npt.NDArray[np.int64],
    short: int,
    chunks: tuple[npt.NDArray[np.int64], ...] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """:func:`line_stats` for a batch: one row of :data:`LINE_COLUMNS` per text, the C4 line
    ranges text after text, and their sentence counts. ``chunks``: (positions, ids, per-text
    starts, steps) of the batch's whitespace chunks; without them every count is -1."""
    out = np.empty((len(text_starts) - 1, len(LINE_COLUMNS)), dtype=np.int64)
    n_lines = int(np.count_nonzero(codes == 10)) + len(text_starts)
    c4_ranges = np.empty(2 * n_lines, dtype=np.int64)
    c4_sentences = np.empty(n_lines, dtype=np.int64)
    if chunks is None:
        none = np.zeros(0, dtype=np.int64)
        chunks = (none, none, none, none)
    line_stats(codes, text_starts, KLASS, TERMINAL, short, out, c4_ranges, c4_sentences, *chunks)
    return out, c4_ranges, c4_sentences


# ---- whitespace chunks -> chunk ids -> token ids -------------------------------------------
@njit(cache=True, nogil=True)
def chunk_lookup(
    codes: npt.NDArray[np.uint32],
    text_starts: npt.NDArray[np.int64],
    klass: npt.NDArray[np.uint8],
    table: npt.NDArray[np.uint64],
    store_meta: npt.NDArray[np.int64],
    store_codes: npt.NDArray[np.uint32],
    cid_out: npt.NDArray[np.int64],
    pos_out: npt.NDArray[np.int64],
    len_out: npt.NDArray[np.int64],
    hash_out: npt.NDArray[np.uint64],
    per_doc: npt.NDArray[np.int64],
    glued: npt.NDArray[np.uint32],
) -> int:
    """``text.split()`` of every text as chunk ids: the id of a chunk already in ``table``
    (open addressing, slot k = ``table[2k]`` hash, ``table[2k + 1]`` id + 1, 0 when empty;
    id i names ``store_codes[store_meta[2i]:][:store_meta[2i + 1]]``), or -1 for a new one.
    Writes each chunk's id, position in ``codes``, length and hash, the number of chunks per
    text, and every chunk's characters glued together; returns the number of chunks. A hit is
    compared code point by code point.
    """
    n_klass = len(klass)
    n_slots = len(table) // 2
    mask = n_slots - 1
    bits = np.uint64(0)
    while (1 << bits) < n_slots:
        bits += np.uint64(1)
    # pass 1: cut and hash every chunk (one branch-light loop over the characters)
    n = 0
    g = 0
    for d in range(len(text_starts) - 1):
        before = n
        inside = False
        a = 0
        h = np.uint64(0)
        for i in range(text_starts[d], text_starts[d + 1]):
            c = codes[i]
            if c < n_klass and klass[c] != _NON_SPACE:
                if inside:
                    pos_out[n] = a
                    len_out[n] = i - a
                    hash_out[n] = (h ^ (h >> np.uint64(29))) + np.uint64(i - a)
                    n += 1
                    inside = False
            else:
                if not inside:
                    inside = True
                    a = i
                    h = np.uint64(0)
                h = h * _BASE + np.uint64(c)
                glued[g] = c
                g += 1
        if inside:
            end = text_starts[d + 1]
            pos_out[n] = a
            len_out[n] = end - a
            hash_out[n] = (h ^ (h >> np.uint64(29))) + np.uint64(end - a)
            n += 1
        per_doc[d] = n - before
    # pass 2: look every chunk up (independent probes the CPU can overlap)
    for k in range(n):
        h = hash_out[k]
        a = pos_out[k]
        length = len_out[k]
        slot = _slot(h, bits)
        cid = -1
        while table[2 * slot + 1] != 0:
            if table[2 * slot] == h:
                other = np.int64(table[2 * slot + 1]) - 1
                if store_meta[2 * other + 1] == length and _same(
                    store_codes, store_meta[2 * other], codes, a, length
                ):
                    cid = int(other)
                    break
            slot = (slot + 1) & mask
        cid_out[k] = cid
    return n


@njit(cache=True, nogil=True)
def chunk_insert(
    table: npt.NDArray[np.uint64], hashes: npt.NDArray[np.uint64], ids: npt.NDArray[np.int64]
) -> None:
    """Put chunks that are not in the table yet into it (the table has room)."""
    n_slots = len(table) // 2
    mask = n_slots - 1
    bits = np.uint64(0)
    while (1 << bits) < n_slots:
        bits += np.uint64(1)
    for k in range(len(ids)):
        slot = _slot(hashes[k], bits)
        while table[2 * slot + 1] != 0:
            slot = (slot + 1) & mask
        table[2 * slot] = hashes[k]
        table[2 * slot + 1] = np.uint64(ids[k] + 1)


@njit(cache=True, nogil=True)
def chunk_tokens(
    cids: npt.NDArray[np.int64],
    per_doc: npt.NDArray[np.int64],
    chunk_start: npt.NDArray[np.int64],
    chunk_len: npt.NDArray[np.int64],
    flat: npt.NDArray[np.int64],
    facts: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Token ids of a run of chunk ids (chunk i's tokens are ``flat[chunk_start[i]:][:
    chunk_len[i]]``), each text's token offsets, and each text's word counts: the sums of
    its chunks' ``facts[4i:4i + 3]`` and the OR of their ``facts[4i + 3]``."""
    total = 0
    for k in range(len(cids)):
        total += chunk_len[cids[k]]
    ids = np.empty(total, dtype=np.int64)
    starts = np.zeros(len(per_doc) + 1, dtype=np.int64)
    counts = np.zeros((len(per_doc), 4), dtype=np.int64)
    t = 0
    k = 0
    for d in range(len(per_doc)):
        n_non_symbol = 0
        non_symbol_chars = 0
        n_alpha = 0
        stop = 0
        for _ in range(per_doc[d]):
            c = cids[k]
            a = chunk_start[c]
            for j in range(chunk_len[c]):
                ids[t] = flat[a + j]
                t += 1
            n_non_symbol += facts[4 * c]
            non_symbol_chars += facts[4 * c + 1]
            n_alpha += facts[4 * c + 2]
            stop |= facts[4 * c + 3]
            k += 1
        starts[d + 1] = t
        counts[d, 0] = n_non_symbol
        counts[d, 1] = non_symbol_chars
        counts[d, 2] = n_alpha
        counts[d, 3] = stop
    return ids, starts, counts


# ---- ROUGE-L -----------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _popcount(x: np.uint64) -> np.int64:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def lcs_pairs(
    ids: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
    pairs: npt.NDArray[np.int64],
    out: npt.NDArray[np.int64],
) -> None:
    """``out[p]`` = LCS length of texts ``pairs[p, 0]`` and ``pairs[p, 1]`` (text k's token
    ids are ``ids[offsets[k]:offsets[k + 1]]``), as ``studio.metrics.diversity.lcs_length``
    computes it: bit-parallel (Hyyrö 2004) with the first text as the pattern, in words of
    64 bits. ``u = v & match`` is a subset of ``v``, so ``v - u`` is ``v & ~u`` (no borrow);
    the carries of ``v + u`` ripple upwards only, so the bits above the pattern never reach
    the ones counted. Pairs sharing their first text in a row reuse its match masks.
    """
    n_ids = 0
    for k in range(len(ids)):
        n_ids = max(n_ids, ids[k] + 1)
    row_of = np.full(n_ids, -1, dtype=np.int64)
    max_len = 0
    for k in range(len(offsets) - 1):
        max_len = max(max_len, offsets[k + 1] - offsets[k])
    n_words = (max_len + 63) // 64 + 1
    masks = np.zeros((max_len + 1, n_words), dtype=np.uint64)
    v = np.empty(n_words, dtype=np.uint64)
    current = -1
    for p in range(len(pairs)):
        i = pairs[p, 0]
        j = pairs[p, 1]
        a0 = offsets[i]
        len_a = offsets[i + 1] - a0
        words = (len_a + 63) // 64
        if i != current:
            if current >= 0:  # forget the previous pattern's rows
                for k in range(offsets[current], offsets[current + 1]):
                    row_of[ids[k]] = -1
            rows = 0
            for k in range(len_a):
                tok = ids[a0 + k]
                r = row_of[tok]
                if r < 0:
                    r = rows
                    row_of[tok] = r
                    rows += 1
                    for w in range(words):
                        masks[r, w] = np.uint64(0)
                masks[r, k >> 6] |= np.uint64(1) << np.uint64(k & 63)
            current = i
        if len_a == 0 or offsets[j + 1] == offsets[j]:
            out[p] = 0
            continue
        for w in range(words):
            v[w] = np.uint64(0xFFFFFFFFFFFFFFFF)
        for k in range(offsets[j], offsets[j + 1]):
            r = row_of[ids[k]]
            if r < 0:
                continue  # u = 0: v is unchanged
            carry = np.uint64(0)
            for w in range(words):
                x = v[w]
                u = x & masks[r, w]
                s = x + u
                c1 = np.uint64(1) if s < x else np.uint64(0)
                s2 = s + carry
                c2 = np.uint64(1) if s2 < s else np.uint64(0)
                carry = c1 | c2
                v[w] = s2 | (x & ~u)
        zeros = 0
        for w in range(words):
            bits = min(64, len_a - 64 * w)
            x = v[w]
            if bits < 64:
                x |= ~((np.uint64(1) << np.uint64(bits)) - np.uint64(1))
            zeros += 64 - int(_popcount(x))
        out[p] = zeros


# ---- token counts ------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _segment(
    codes: npt.NDArray[np.uint32],
    seg: int,
    x: int,
    n_in: int,
    only: int,
    chunk_pos: npt.NDArray[np.int64],
    chunk_len: npt.NDArray[np.int64],
    chunk_ids: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int32],
    spaces: npt.NDArray[np.int32],
) -> tuple[int, int]:
    """The count of segment [seg, x) when known (else -1), and the slot of ``counts`` it
    belongs in (else -1). ``spaces[n]``: the count of n spaces alone."""
    if n_in == 0:  # whitespace between two cuts: known when it is a few plain spaces
        if x - seg >= len(spaces):
            return -1, -1
        for i in range(seg, x):
            if codes[i] != 32:
                return -1, -1
        return int(spaces[x - seg]), -1
    if n_in != 1:
        return -1, -1
    a = chunk_pos[only]
    b = a + chunk_len[only]
    if seg == a:
        left = 0
    elif seg == a - 1 and codes[seg] == 32:
        left = 1
    else:
        return -1, -1
    if x == b:
        right = 0
    elif x == b + 1 and codes[b] == 10:
        right = 1
    elif x == b + 2 and codes[b] == 10 and codes[b + 1] == 10:
        right = 2
    else:
        return -1, -1
    setting = 2 * right + left
    cid = chunk_ids[only]
    return int(counts[setting, cid]), setting * counts.shape[1] + cid


@njit(cache=True, nogil=True)
def token_segments(
    codes: npt.NDArray[np.uint32],
    text_starts: npt.NDArray[np.int64],
    chunk_pos: npt.NDArray[np.int64],
    chunk_len: npt.NDArray[np.int64],
    chunk_ids: npt.NDArray[np.int64],
    chunk_starts: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int32],
    spaces: npt.NDArray[np.int32],
    known: npt.NDArray[np.int64],
    ranges: npt.NDArray[np.int64],
    fill: npt.NDArray[np.int64],
    per_doc: npt.NDArray[np.int64],
    line_starts: bool,
) -> None:
    """Cut every text where a GPT-style BPE pre-tokenizer can never join its two sides, so
    that the token count of the text is the sum of its segments' counts. Three rules, for a
    whitespace run that comes before a chunk (a run of non-whitespace characters):

    (a) before the run when it starts with a space and follows a chunk: no piece of
        tiktoken's cl100k, o200k, p50k or r50k patterns holds a non-whitespace character
        and then a space, and scanning restarts there;
    (b) with ``line_starts`` (cl100k only), after the run's last line break: cl100k's pieces
        that can hold a line break end at the last one of their run (its ``\\s*[\\r\\n]``
        comes before ``\\s+(?!\\S)``), and the next piece cannot start with it. Alone, a
        segment's trailing run is one ``\\s++$`` piece, the same span. o200k's
        ``[\\r\\n/]*`` after punctuation and p50k's ``\\s+(?!\\S)`` before a line break
        break this rule;
    (c) before the last character of a run of spaces and tabs (all of the run, or what
        follows its last line break under (b)): whitespace before a non-whitespace character
        ends one piece early (``\\s+(?!\\S)``), leaving its last character to lead the next
        piece, and with no line break in it that piece alone is the same span.

    No cut falls inside the text's trailing run (``\\s++$`` takes it whole). A segment that
    is one chunk, after nothing or one space (L), followed by nothing, "\\n" or "\\n\\n"
    (R), takes its count from ``counts[2 * R + L, chunk id]`` when known (not -1); one of a
    few plain spaces from ``spaces``; both add to ``known[d]``. Every other segment goes to
    ``ranges`` (start, end in ``codes``; text d has ``per_doc[d]`` of them) for the caller to
    count; ``fill[k]`` is where the caller should keep the count of range k (that flat index
    of ``counts``), or -1.
    """
    cuts = np.empty(4, dtype=np.int64)
    n_ranges = 0
    for d in range(len(text_starts) - 1):
        base = text_starts[d]
        end = text_starts[d + 1]
        total = 0
        mine = 0
        seg = base  # where the open segment starts
        n_in = 0  # chunks in it
        only = 0  # its last chunk
        first = chunk_starts[d]
        last = chunk_starts[d + 1]
        prev_end = base
        for k in range(first, last + 2):
            # k < last: the cuts in the run before chunk k; k == last: at the trailing run;
            # then the end of the text
            n_cuts = 0
            if k < last:
                pos = chunk_pos[k]
                if prev_end < pos:
                    if k > first and codes[prev_end] == 32:
                        cuts[n_cuts] = prev_end  # (a)
                        n_cuts += 1
                    # back from the chunk over spaces and tabs (every pattern's \\s), to a
                    # line break or anything else (Python's whitespace that tiktoken may not
                    # take for whitespace, such as U+001C)
                    lb = pos - 1
                    while lb >= prev_end and (codes[lb] == 32 or codes[lb] == 9):
                        lb -= 1
                    plain = lb < prev_end  # spaces and tabs only
                    if lb >= prev_end and (codes[lb] == 10 or codes[lb] == 13) and line_starts:
                        cuts[n_cuts] = lb + 1  # (b)
                        n_cuts += 1
                        plain = True  # what is left after the line break
                    if plain and lb + 1 < pos:
                        cuts[n_cuts] = pos - 1  # (c)
                        n_cuts += 1
            elif k == last:
                if k > first and prev_end < end and codes[prev_end] == 32:
                    cuts[n_cuts] = prev_end  # (a)
                    n_cuts += 1
            else:
                cuts[n_cuts] = end
                n_cuts += 1
            for j in range(n_cuts):
                x = cuts[j]
                if x <= seg:
                    continue
                c, slot = _segment(
                    codes, seg, x, n_in, only, chunk_pos, chunk_len, chunk_ids, counts, spaces
                )
                if c >= 0:
                    total += c
                else:
                    ranges[2 * n_ranges] = seg
                    ranges[2 * n_ranges + 1] = x
                    fill[n_ranges] = slot
                    n_ranges += 1
                    mine += 1
                seg = x
                n_in = 0
            if k < last:
                n_in += 1
                only = k
                prev_end = chunk_pos[k] + chunk_len[k]
        known[d] = total
        per_doc[d] = mine
