"""Exact n-gram grouping for the Gopher repetition rules, vectorised with numpy.

datatrove's ``gopher_repetition_filter.py`` (after Rae et al. 2021, "Scaling Language Models:
Methods, Analysis & Insights from Training Gopher", table A1) keys n-grams by strings:
``" ".join(words)`` for the top n-gram rule and ``"".join(words)`` for the duplicate n-gram
rule. Building those strings for every position and every n is what makes it slow.

Here every n-gram is a slice ``[start, end)`` of one joined string (the words joined with
the separator). We hash each slice with a polynomial hash over code points (prefix sums
modulo 2**64, so all n share one pass over the text), group equal hashes with
``numpy.unique``, and then *verify* every group whose members are not all alone by comparing
the real strings. A hash collision therefore never changes a result: if one is found we fall
back to grouping the real strings for that n. The result is the same equality relation as
datatrove's, including its quirk that ``"".join`` makes ``["ab", "c"]`` equal ``["a", "bc"]``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

_BASE = np.uint64(0x9E3779B97F4A7C15 | 1)
_U64 = np.uint64


@dataclass(frozen=True, slots=True)
class JoinedWords:
    """Words joined with a separator, with each word's start offset and a prefix hash."""

    text: str
    starts: npt.NDArray[np.int64]  # len(words) + 1 entries; the last is len(text) + len(sep)
    sep_len: int
    codes: npt.NDArray[np.uint64]  # the code points of ``text``
    prefix: npt.NDArray[np.uint64]  # prefix[k] = sum_{i<k} code[i] * BASE**i  (mod 2**64)
    inv_pow: npt.NDArray[np.uint64]  # BASE**-k (mod 2**64)

    @property
    def n_words(self) -> int:
        return len(self.starts) - 1


class PowerTable:
    """Powers of the hash base and of its inverse, grown on demand (one per scorer)."""

    def __init__(self) -> None:
        self._pow = np.ones(1, dtype=_U64)
        self._inv = np.ones(1, dtype=_U64)

    def get(self, n: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        if len(self._pow) < n:
            size = max(n, 2 * len(self._pow), 4096)
            inv_base = _U64(pow(int(_BASE), -1, 2**64))
            with np.errstate(over="ignore"):
                self._pow = np.concatenate(([_U64(1)], np.cumprod(np.full(size - 1, _BASE))))
                self._inv = np.concatenate(([_U64(1)], np.cumprod(np.full(size - 1, inv_base))))
        return self._pow[:n], self._inv[:n]


def join_words(words: list[str], sep: str, lengths: list[int], powers: PowerTable) -> JoinedWords:
    """Join ``words`` with ``sep`` and prepare slice hashing over the result."""
    text = sep.join(words)
    step = np.asarray(lengths, dtype=np.int64) + len(sep)
    starts = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(step, out=starts[1:])
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(_U64)
    pw, inv = powers.get(len(codes) + 1)
    prefix = np.zeros(len(codes) + 1, dtype=_U64)
    with np.errstate(over="ignore"):
        np.cumsum(codes * pw[: len(codes)], out=prefix[1:])
    return JoinedWords(text, starts, len(sep), codes, prefix, inv)


def _slices(joined: JoinedWords, n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    m = max(0, joined.n_words - n + 1)
    a = joined.starts[:m]
    b = joined.starts[n : n + m] - joined.sep_len
    return a, b


def _keys(joined: JoinedWords, ns: tuple[int, ...]) -> tuple[list[tuple[int, int, int]], Any]:
    """Hash keys of every n-gram for every n, tagged by n, in one array; plus segments."""
    segments: list[tuple[int, int, int]] = []  # (n, offset, length)
    parts = []
    offset = 0
    with np.errstate(over="ignore"):
        for n in ns:
            a, b = _slices(joined, n)
            if len(a) <= 0:
                continue
            h = (joined.prefix[b] - joined.prefix[a]) * joined.inv_pow[a]
            n_tag = _U64((n * 0x2545F4914F6CDD1D) % 2**64)
            tag = (b - a).astype(_U64) * _U64(0xFF51AFD7ED558CCD) + n_tag
            parts.append(h ^ tag)
            segments.append((n, offset, len(a)))
            offset += len(a)
    return segments, (np.concatenate(parts) if parts else np.zeros(0, dtype=_U64))


def top_ngram_chars_all(joined: JoinedWords, ns: tuple[int, ...]) -> dict[int, int]:
    """For each n: len(most common n-gram) × its count (datatrove's ``find_top_duplicate``).

    Ties go to the n-gram seen first, as ``Counter.most_common(1)`` does. 0 when there is no
    n-gram. The winning group is verified against the real strings.
    """
    out = dict.fromkeys(ns, 0)
    segments, keys = _keys(joined, ns)
    if not segments:
        return out
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    text = joined.text
    for n, offset, m in segments:
        seg = inverse[offset : offset + m]
        cnt = counts[seg]
        top = int(cnt.max())
        p = int(np.argmax(cnt))  # earliest position of a most common group = its first one
        a, b = _slices(joined, n)
        if top > 1:
            members = np.flatnonzero(seg == seg[p])
            if not _same_slices(joined, a, b, members, np.full(len(members), p)):
                out[n] = _exact_top(text, a, b)
                continue
        out[n] = int(b[p] - a[p]) * top
    return out


def _same_slices(
    joined: JoinedWords,
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
) -> bool:
    """Whether slice ``left[k]`` equals slice ``right[k]`` for every k (compared exactly)."""
    lengths = b[left] - a[left]
    if not np.array_equal(lengths, b[right] - a[right]):
        return False
    total = int(lengths.sum())
    within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    codes = joined.codes
    return bool(
        np.array_equal(
            codes[np.repeat(a[left], lengths) + within],
            codes[np.repeat(a[right], lengths) + within],
        )
    )


def _exact_top(text: str, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> int:
    counter = Counter(text[x:y] for x, y in zip(a.tolist(), b.tolist(), strict=True))
    gram, count = counter.most_common(1)[0]
    return len(gram) * count


def duplicated_ngram_chars_all(joined: JoinedWords, ns: tuple[int, ...]) -> dict[int, int]:
    """For each n: datatrove's ``find_all_duplicate`` (see :func:`duplicated_ngram_chars`)."""
    out = dict.fromkeys(ns, 0)
    segments, keys = _keys(joined, ns)
    if not segments:
        return out
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    positions = np.arange(len(keys))
    repeats = first[inverse] < positions
    if not repeats.any():
        return out  # no two equal hashes, so no two equal strings, for any n
    text = joined.text
    for n, offset, m in segments:
        cand = np.flatnonzero(repeats[offset : offset + m])
        if len(cand) == 0:
            continue
        a, b = _slices(joined, n)
        ids = inverse[offset : offset + m]
        reps = first[ids[cand]] - offset
        lengths = b - a
        if not _same_slices(joined, a, b, cand, reps):
            ids, cand = _exact_ids(text, a, b)
        out[n] = duplicated_ngram_chars(ids.tolist(), cand.tolist(), lengths.tolist(), n)
    return out


def _exact_ids(
    text: str, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    seen: dict[str, int] = {}
    spans = zip(a.tolist(), b.tolist(), strict=True)
    ids = [seen.setdefault(text[x:y], len(seen)) for x, y in spans]
    arr = np.asarray(ids, dtype=np.int64)
    first = np.full(len(seen), len(arr), dtype=np.int64)
    np.minimum.at(first, arr, np.arange(len(arr)))
    return arr, np.flatnonzero(first[arr] < np.arange(len(arr)))


def duplicated_ngram_chars(
    ids: list[int], candidates: list[int], lengths: list[int], n: int
) -> int:
    """datatrove's ``find_all_duplicate``: scan left to right; a key seen before adds its length
    and jumps ``n`` words, else step one. Only positions visited by the scan enter the seen set.

    ``ids`` are equal exactly where the n-gram strings are equal; ``candidates`` are the
    positions whose string occurred earlier anywhere (the only places a repeat can count).
    """
    m = len(ids)
    seen: set[int] = set()
    repeated = 0
    idx = 0
    for j in candidates:
        if j < idx:
            continue
        seen.update(ids[idx:j])  # all new strings, all visited
        if ids[j] in seen:
            repeated += lengths[j]
            idx = j + n
        else:
            seen.add(ids[j])
            idx = j + 1
        if idx >= m:
            break
    return repeated


def exact_top_ngram_chars(words: list[str], n: int) -> int:
    """datatrove's ``find_top_duplicate`` over space-joined n-grams, string by string."""
    grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0
    gram, count = Counter(grams).most_common(1)[0]
    return len(gram) * count


def exact_duplicated_ngram_chars(words: list[str], n: int) -> int:
    """datatrove's ``find_all_duplicate`` over glued n-grams, string by string."""
    unique: set[str] = set()
    repeated = idx = 0
    while idx < len(words) - n + 1:
        gram = "".join(words[idx : idx + n])
        if gram in unique:
            repeated += len(gram)
            idx += n
        else:
            unique.add(gram)
            idx += 1
    return repeated
