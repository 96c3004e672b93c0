"""The Gopher n-gram rules for a whole batch of texts at once, on arrays of token ids.

Same definitions as :mod:`studio.metrics.ngrams` (datatrove's ``find_top_duplicate`` over
space-joined n-grams, ``find_all_duplicate`` over n-grams glued with no separator), computed
for every text of a batch with a few numpy passes instead of a few passes per text:

1. every n-gram gets a 64-bit key: for the space-joined rule a hash of its token ids (equal
   token sequences, equal keys), for the glued rule the polynomial hash of the glued string
   itself, assembled from per-token hashes (so ``["ab", "c"]`` and ``["a", "bc"]`` meet, as
   in datatrove). The text's own hash is mixed in, so texts never meet each other;
2. equal keys are grouped by scattering them into a hash table and reading back each slot's
   winner (a few rounds, no sort; see :func:`_groups`);
3. the surviving groups are *verified* against the real tokens (and, for glued n-grams
   whose tokens differ, the real strings). A hash collision never changes a result: the text
   it touches is recomputed exactly, string by string.

Equal space-joined (n+1)-grams start with equal n-grams, so only positions whose n-gram
repeats are hashed for n + 1. The glued rule has no such property (a glued 6-gram can repeat
while no glued 5-gram does), so it is pruned on characters instead: two equal glued strings
of ``W`` characters or more start with equal ``W``-character windows of the glued text. One
pass finds the token starts whose window has a twin in the same text; each n then hashes only
those positions and the n-grams shorter than ``W`` characters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from studio.metrics.vocab import TokenBatch

_U64 = np.uint64
_MUL = _U64(0x9E3779B97F4A7C15)
_TABLE_BITS = 18  # the largest hash table holds 2**(this + 3) slots
#: characters in the glued-rule pre-filter's window (see :meth:`NgramBatch.window_twins`)
WINDOW = 16
#: base of the character-level polynomial hash of the glued text (odd: invertible mod 2**64)
_CHAR_BASE = 0x100000001B3

IntArray = npt.NDArray[np.int64]
U64Array = npt.NDArray[np.uint64]


def splitmix(x: U64Array) -> U64Array:
    """SplitMix64's finaliser: a bijective mix of 64-bit keys."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> _U64(30))
        x = x * _U64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> _U64(27))
        x = x * _U64(0x94D049BB133111EB)
        return x ^ (x >> _U64(31))


class _Powers:
    """``B**k`` and ``B**-k`` mod 2**64 for k = 0 .. size - 1, grown on demand and shared."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.pow = np.ones(1, dtype=_U64)
        self.inv = np.ones(1, dtype=_U64)

    def upto(self, size: int) -> tuple[U64Array, U64Array]:
        if len(self.pow) < size:
            grown = max(size, 2 * len(self.pow))
            self.pow = self._series(self.base, grown)
            self.inv = self._series(pow(self.base, -1, 2**64), grown)
        return self.pow[:size], self.inv[:size]

    @staticmethod
    def _series(base: int, size: int) -> U64Array:
        out = np.ones(size, dtype=_U64)
        with np.errstate(over="ignore"):
            np.cumprod(np.full(size - 1, base, dtype=_U64), out=out[1:])
        return out


_CHAR_POWERS = _Powers(_CHAR_BASE)


_ROUNDS = 6  # table rounds before the last few unresolved keys are sorted instead


def _groups(keys: U64Array, positions: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Groups of equal keys with two or more members, found through a hash table.

    Returns (members, group of each member, first position of each group, size of each
    group); members are ascending indices into ``keys`` (``positions`` ascending too), groups
    are numbered by their first member's index. Each round scatters the unresolved keys into
    a table of about twice their number and reads back the slot's winner: a key equal to its
    winner joins the winner's group, the others (slot shared with another key) go to the
    next round under another multiplier. No sort is needed, and equality is of all 64 bits.
    """
    m = len(keys)
    empty = np.zeros(0, dtype=np.int64)
    if m < 2:
        return empty, empty, empty, empty
    rep = np.empty(m, dtype=np.int64)  # index of an equal key (the group's root)
    todo = np.arange(m, dtype=np.int64)
    k = keys
    mul = _MUL
    bits = min(max(4, (2 * m - 1).bit_length()), _TABLE_BITS + 3)
    table = np.empty(1 << bits, dtype=np.int64)
    for _ in range(_ROUNDS):
        with np.errstate(over="ignore"):
            slots = ((k * mul) >> _U64(64 - bits)).astype(np.intp)
            mul = (mul * _U64(0xD1342543DE82EF95)) | _U64(1)
        table[slots] = todo
        winner = table[slots]
        same = keys[winner] == k
        rep[todo[same]] = winner[same]
        if same.all():
            break
        rest = ~same
        todo, k = todo[rest], k[rest]
    else:
        _, where, inverse = np.unique(k, return_index=True, return_inverse=True)
        rep[todo] = todo[where[inverse]]
    count = np.bincount(rep, minlength=m)
    root = count >= 2
    members_idx = np.flatnonzero(root[rep])
    group_of_root = np.cumsum(root) - 1
    group = group_of_root[rep[members_idx]]
    sizes = count[root]
    first_idx = np.full(len(sizes), m, dtype=np.int64)
    np.minimum.at(first_idx, group, members_idx)
    return members_idx, group, positions[first_idx], sizes


class NgramBatch:
    """Token ids of a batch plus what every n-gram rule reads (lengths, hashes, texts)."""

    def __init__(
        self,
        batch: TokenBatch,
        lengths: IntArray,
        token_hash: U64Array,
        token_power: U64Array,
        token_inv_power: U64Array,
        max_n: int = 2,
    ) -> None:
        """``max_n``: the largest n any rule will ask for (token groups are built once)."""
        self.batch = batch
        self.max_n = max_n
        ids = batch.ids
        self.ids = ids
        self.n = len(ids)
        self.doc = batch.doc_of_positions()
        self.doc_end = batch.starts[1:][self.doc] if self.n else np.zeros(0, dtype=np.int64)
        self.cumlen = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(lengths[ids], out=self.cumlen[1:])
        self.doc_key = splitmix(self.doc.astype(_U64) + _U64(0x632BE59BD9B4E019))
        self.token_key = splitmix(ids.astype(_U64) ^ _U64(0xD6E8FEB86659FD93))
        self._hash = token_hash
        self._power = token_power
        self._inv = token_inv_power
        self._prefix: tuple[U64Array, U64Array] | None = None

    def _glued_prefix(self) -> tuple[U64Array, U64Array]:
        """Prefix sums for the glued-string hash: G[k] = Σ_{j<k} h_j·B^{c_j}, and B^{-c_k}."""
        if self._prefix is None:
            ids = self.ids
            with np.errstate(over="ignore"):
                power = np.ones(self.n + 1, dtype=_U64)
                np.cumprod(self._power[ids], out=power[1:])
                inv = np.ones(self.n + 1, dtype=_U64)
                np.cumprod(self._inv[ids], out=inv[1:])
                g = np.zeros(self.n + 1, dtype=_U64)
                np.cumsum(self._hash[ids] * power[:-1], out=g[1:])
            self._prefix = (g, inv)
        return self._prefix

    def space_length(self, pos: IntArray, n: int) -> IntArray:
        """Characters of the space-joined n-grams starting at ``pos``."""
        return self.cumlen[pos + n] - self.cumlen[pos] + (n - 1)

    def glued_length(self, pos: IntArray, n: int) -> IntArray:
        return self.cumlen[pos + n] - self.cumlen[pos]

    # -- exact groups of equal token sequences, n = 2 .. max(ns) ---------------------------
    def _ensure_groups(self, max_n: int) -> None:
        if max(getattr(self, "labels", {1: None}), default=1) < max(max_n, self.max_n):
            self._token_groups(max(max_n, self.max_n))

    def _token_groups(self, max_n: int) -> None:
        """Groups of equal token n-grams within each text, for n = 2 .. ``max_n``.

        Sets ``self.labels[n]`` (group of each position, -1 where the n-gram occurs once),
        ``self.group_first[n]`` / ``self.group_size[n]``, and ``self.bad[n]``: texts where a
        hash collision was met at n or below (their labels are -1 from there on and their
        values must be recomputed exactly). Equal n-grams extend equal (n-1)-grams, so each
        n only hashes the positions whose (n-1)-gram repeats, and verifying a group only
        compares the (n-1)-gram groups and the last token.
        """
        self.labels: dict[int, npt.NDArray[np.int64]] = {}
        self.group_first: dict[int, IntArray] = {}
        self.group_size: dict[int, IntArray] = {}
        self.bad: dict[int, set[int]] = {}
        pos = np.arange(self.n, dtype=np.int64)
        keys = self.token_key ^ self.doc_key
        bad: set[int] = set()
        label = np.zeros(0, dtype=np.int64)
        for n in range(2, max_n + 1):
            ok = pos + n <= self.doc_end[pos]
            pos, keys = pos[ok], keys[ok]
            keys = splitmix(keys * _MUL + self.token_key[pos + n - 1])
            members_idx, group, first, sizes = _groups(keys, pos)
            members = pos[members_idx]
            reps = first[group]
            last_a, last_b = self.ids[members + n - 1], self.ids[reps + n - 1]
            if n == 2:
                same = (self.doc[members] == self.doc[reps]) & (self.ids[members] == self.ids[reps])
            else:
                same = label[members] == label[reps]
            same &= last_a == last_b
            if not same.all():
                wrong = ~same
                bad.update(self.doc[members[wrong]].tolist())
                bad.update(self.doc[reps[wrong]].tolist())
            if bad:
                bad_arr = np.fromiter(bad, dtype=np.int64, count=len(bad))
                good_groups = ~np.isin(self.doc[first], bad_arr)
                keep = good_groups[group]
                members, group = members[keep], group[keep]
                members_idx = members_idx[keep]
                remap = np.cumsum(good_groups) - 1
                group = remap[group]
                first, sizes = first[good_groups], sizes[good_groups]
            label = np.full(self.n, -1, dtype=np.int64)
            label[members] = group
            self.labels[n] = label
            self.group_first[n] = first
            self.group_size[n] = sizes
            self.bad[n] = set(bad)
            # only n-grams that repeat can start a repeating (n+1)-gram
            pos, keys = members, keys[members_idx]

    # -- datatrove's find_top_duplicate, for n in ns ----------------------------------------
    def top_ngram_chars(
        self, ns: Sequence[int], fallback: Callable[[int, int], int]
    ) -> dict[int, list[int]]:
        """For each n: len(most common space-joined n-gram) × its count, per text.

        ``fallback(doc, n)`` computes one text exactly; it is called only where a hash
        collision was found.
        """
        self._ensure_groups(max(ns))
        starts = self.batch.starts
        doc_len = np.diff(starts)
        out: dict[int, list[int]] = {}
        for n in ns:
            first, sizes = self.group_first[n], self.group_size[n]
            # the best group per text: most members, then earliest first occurrence
            value = np.zeros(self.batch.n_docs, dtype=np.int64)
            has = doc_len >= n
            value[has] = self.space_length(starts[:-1][has], n)  # every n-gram once: the first
            if len(first):
                gdoc = self.doc[first]
                order = np.lexsort((first, -sizes, gdoc))
                gdoc_sorted = gdoc[order]
                lead = order[np.r_[True, gdoc_sorted[1:] != gdoc_sorted[:-1]]]
                value[gdoc[lead]] = self.space_length(first[lead], n) * sizes[lead]
            result = value.tolist()
            for d in self.bad[n]:
                result[d] = fallback(d, n)
            out[n] = result
        return out

    def window_twins(self) -> npt.NDArray[np.bool_] | None:
        """Token starts whose next ``WINDOW`` glued characters occur at another token start of
        the same text (a superset: hash and table-slot collisions add positions, never remove
        them). None when the batch carries no glued text.

        Two equal glued n-grams of ``WINDOW`` characters or more begin with equal windows, and
        both windows lie inside their text, so both of their starts are in this set.
        """
        glued = self.batch.glued
        if glued is None or len(glued) != int(self.cumlen[-1]):
            return None
        codes = np.frombuffer(glued.encode("utf-32-le"), dtype=np.uint32)
        power, inv = _CHAR_POWERS.upto(len(codes) + 1)
        h = np.zeros(len(codes) + 1, dtype=_U64)
        with np.errstate(over="ignore"):
            np.cumsum(codes * power[: len(codes)], out=h[1:])
            begin = self.cumlen[:-1]
            ok = begin + WINDOW <= self.cumlen[self.doc_end]
            pos = np.flatnonzero(ok)
            c = begin[pos]
            poly = (h[c + WINDOW] - h[c]) * inv[c]
            keys = (poly ^ (poly >> _U64(29))) * _MUL + self.doc_key[pos]
        out = np.zeros(self.n, dtype=bool)
        out[pos[_groups(keys, pos)[0]]] = True
        return out

    # -- datatrove's find_all_duplicate, for n in ns ----------------------------------------
    def duplicated_ngram_chars(
        self,
        ns: Sequence[int],
        same_string: Callable[[int, int, int], bool],
        fallback: Callable[[int, int], int],
    ) -> dict[int, list[int]]:
        """For each n: the characters of glued n-grams that repeat, per datatrove's scan.

        ``same_string(a, b, n)`` compares two glued n-grams exactly (used when their tokens
        differ but their hashes agree); ``fallback(doc, n)`` recomputes one text exactly.
        """
        n_docs = self.batch.n_docs
        starts = self.batch.starts
        self._ensure_groups(max(ns))
        g, inv = self._glued_prefix()
        all_pos = np.arange(self.n, dtype=np.int64)
        twins = self.window_twins()
        out: dict[int, list[int]] = {}
        for n in ns:
            result = [0] * n_docs
            pos = all_pos[all_pos + n <= self.doc_end]
            if twins is not None:
                # a repeating glued n-gram of WINDOW characters or more has a twin window
                pos = pos[twins[pos] | (self.glued_length(pos, n) < WINDOW)]
            with np.errstate(over="ignore"):
                poly = (g[pos + n] - g[pos]) * inv[pos]
                # the polynomial hash keeps a change in the first characters in its low bits:
                # mix them upwards, as the sort compares only the high bits
                keys = (poly ^ (poly >> _U64(29))) * _MUL + self.doc_key[pos]
            members_idx, group, first, _ = _groups(keys, pos)
            members = pos[members_idx]
            if len(members) == 0:
                out[n] = result
                continue
            reps = first[group]
            label = self.labels[n]
            la = label[members]
            ok = (la >= 0) & (la == label[reps])  # the same tokens: the same string
            bad_docs: set[int] = set()
            for a, b in zip(members[~ok].tolist(), reps[~ok].tolist(), strict=True):
                da, db = int(self.doc[a]), int(self.doc[b])
                if da != db or not same_string(a, b, n):
                    bad_docs.update((da, db))
            # scan each text's members left to right, in position order
            group_at = np.full(self.n, -1, dtype=np.int64)
            group_at[members] = group
            m_pos = np.flatnonzero(group_at >= 0)
            m_group = group_at[m_pos]
            m_len = self.glued_length(m_pos, n)
            cuts = np.searchsorted(m_pos, starts)
            docs = np.flatnonzero(cuts[1:] > cuts[:-1])
            repeated = scan_duplicates(m_pos, m_group, m_len, cuts[docs], cuts[docs + 1], n)
            for d, r in zip(docs.tolist(), repeated.tolist(), strict=True):
                result[d] = r
            for d in bad_docs:
                result[d] = fallback(d, n)
            out[n] = result
        return out


_WAVE_MIN = 32  # below this many texts still scanning, a Python loop is cheaper per step
_WAVE_STEPS = 8  # wave steps between two removals of the texts that have finished


def scan_duplicates(
    pos: IntArray, group: IntArray, length: IntArray, lo: IntArray, hi: IntArray, n: int
) -> IntArray:
    """datatrove's left-to-right duplicate scan, for many texts at once.

    ``pos`` are the positions (ascending) of the n-grams that occur more than once in their
    text, ``group`` which string each is, ``length`` its characters; text ``t`` owns
    ``pos[lo[t]:hi[t]]``, and these ranges follow one another. The scan visits position
    ``idx``: a string seen before adds its length and jumps ``n``, else it is remembered and
    the scan steps one. Positions outside ``pos`` hold strings that occur once, which the scan
    remembers but never meets again, so only these positions need visiting.

    Each member's two possible successors (the next member, or the first member at or past
    ``pos + n``) are computed up front, so a visit is a few gathers. All texts advance
    together, one visit per step; the last few stragglers finish in a plain loop.
    """
    n_texts = len(lo)
    repeated = np.zeros(n_texts, dtype=np.int64)
    if n_texts == 0 or hi[-1] <= lo[0]:
        return repeated
    base, m = int(lo[0]), int(hi[-1])
    end = len(pos)  # the sentinel: a finished text sits there
    idx = np.arange(base, m, dtype=np.int64)
    owner = np.repeat(np.arange(n_texts, dtype=np.int64), hi - lo)
    limit = hi[owner]
    jump = np.searchsorted(pos, pos[base:m] + n)
    succ = np.full(2 * (end + 1), end, dtype=np.int64)
    succ[2 * idx] = np.where(idx + 1 < limit, idx + 1, end)
    succ[2 * idx + 1] = np.where(jump < limit, jump, end)
    n_groups = int(group[base:m].max()) + 1
    group_s = np.full(end + 1, n_groups, dtype=np.int64)  # the sentinel's own group
    group_s[base:m] = group[base:m]
    seen = np.zeros(n_groups + 1, dtype=bool)
    counted = np.zeros(end + 1, dtype=bool)
    kk = lo[lo < hi]
    while len(kk) >= _WAVE_MIN:
        for _ in range(_WAVE_STEPS):
            gid = group_s[kk]
            rep = seen[gid]
            seen[gid] = True  # a group belongs to one text: no two writers but the sentinel's
            counted[kk] = rep
            kk = succ[2 * kk + rep]
        kk = kk[kk != end]
    hits: list[int] = []
    for j in kk.tolist():  # the stragglers, one text at a time on Python lists of its members
        t = int(owner[j - base])
        a, b = int(lo[t]), int(hi[t])
        groups_t = group_s[a:b]
        group_l, succ_l = groups_t.tolist(), succ[2 * a : 2 * b].tolist()
        seen_t = set(groups_t[seen[groups_t]].tolist())
        while j != end:
            g = group_l[j - a]
            if g in seen_t:
                hits.append(j)
                j = succ_l[2 * (j - a) + 1]
            else:
                seen_t.add(g)
                j = succ_l[2 * (j - a)]
    counted[hits] = True
    counted[end] = False
    hit = np.flatnonzero(counted)
    repeated += np.bincount(
        owner[hit - base], weights=length[hit].astype(np.float64), minlength=n_texts
    ).astype(np.int64)
    return repeated
