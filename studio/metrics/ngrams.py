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

from dataclasses import dataclass

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
    return JoinedWords(text, starts, len(sep), prefix, inv)


@dataclass(frozen=True, slots=True)
class NGramGroups:
    """For each n-gram position: a group id (equal strings share it), plus group facts."""

    ids: npt.NDArray[np.int64]  # group id per position, numbered by first occurrence
    first: npt.NDArray[np.int64]  # first position of each group
    counts: npt.NDArray[np.int64]  # size of each group
    lengths: npt.NDArray[np.int64]  # character length of each position's string


def group_ngrams(joined: JoinedWords, n: int) -> NGramGroups | None:
    """Group the n-grams of ``joined`` by string equality (None with fewer than n words)."""
    m = joined.n_words - n + 1
    if m <= 0:
        return None
    a = joined.starts[:m]
    b = joined.starts[n : n + m] - joined.sep_len
    lengths = b - a
    with np.errstate(over="ignore"):
        h = (joined.prefix[b] - joined.prefix[a]) * joined.inv_pow[a]
        key = h ^ (lengths.astype(_U64) * _U64(0xFF51AFD7ED558CCD))
    _, first, inverse, counts = np.unique(
        key, return_index=True, return_inverse=True, return_counts=True
    )
    if counts.max() > 1 and not _verified(joined.text, a, b, inverse, first, counts):
        return _exact_groups(joined.text, a, b)
    # renumber groups by first occurrence so that ties break the way Counter does
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return NGramGroups(rank[inverse], first[order], counts[order], lengths)


def _verified(
    text: str,
    a: npt.NDArray[np.int64],
    b: npt.NDArray[np.int64],
    inverse: npt.NDArray[np.int64],
    first: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
) -> bool:
    """True when every member of every shared-hash group has its group's first string."""
    members = np.flatnonzero(counts[inverse] > 1)
    reps = first[inverse[members]]
    for pos, rep in zip(members.tolist(), reps.tolist(), strict=True):
        if pos != rep and text[a[pos] : b[pos]] != text[a[rep] : b[rep]]:
            return False
    return True


def _exact_groups(text: str, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> NGramGroups:
    ids: dict[str, int] = {}
    seq = [ids.setdefault(text[x:y], len(ids)) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    arr = np.asarray(seq, dtype=np.int64)
    counts = np.bincount(arr, minlength=len(ids))
    first = np.full(len(ids), len(seq), dtype=np.int64)
    np.minimum.at(first, arr, np.arange(len(seq)))
    return NGramGroups(arr, first, counts, b - a)


def top_ngram_chars(groups: NGramGroups | None) -> int:
    """len(most common n-gram) × its count; ties go to the first seen (``Counter.most_common``)."""
    if groups is None:
        return 0
    top = int(np.argmax(groups.counts))  # first maximum = earliest first occurrence
    return int(groups.lengths[groups.first[top]]) * int(groups.counts[top])


def duplicated_ngram_chars(groups: NGramGroups | None, n: int) -> int:
    """datatrove's ``find_all_duplicate``: scan left to right; a key seen before adds its length
    and jumps ``n`` words, else step one. Only positions visited by the scan enter the seen set.
    """
    if groups is None:
        return 0
    ids = groups.ids
    m = len(ids)
    positions = np.arange(m)
    # positions whose string occurred earlier somewhere: the only places a repeat can count
    candidates = np.flatnonzero(groups.first[ids] < positions).tolist()
    if not candidates:
        return 0
    id_list = ids.tolist()
    lengths = groups.lengths
    seen: set[int] = set()
    repeated = 0
    idx = 0
    for j in candidates:
        if j < idx:
            continue
        seen.update(id_list[idx:j])  # all new strings, all visited
        if id_list[j] in seen:
            repeated += int(lengths[j])
            idx = j + n
        else:
            seen.add(id_list[j])
            idx = j + 1
        if idx >= m:
            break
    return repeated
