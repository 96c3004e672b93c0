"""The Gopher n-gram rules for a whole batch of texts at once, on arrays of token ids.

Same definitions as :mod:`studio.metrics.ngrams` (datatrove's ``find_top_duplicate`` over
space-joined n-grams, ``find_all_duplicate`` over n-grams glued with no separator), computed
for every text of a batch with a few numpy passes instead of a few passes per text:

1. every n-gram gets a 64-bit key: for the space-joined rule an exact integer (its text and
   token ids, packed level by level), for the glued rule the polynomial hash of the glued
   string itself, assembled from per-token hashes (so ``["ab", "c"]`` and ``["a", "bc"]``
   meet, as in datatrove), with the text's own hash mixed in, so texts never meet;
2. equal keys are grouped by scattering them into a hash table and reading back each slot's
   winner (a few rounds, no sort; see :func:`_groups`);
3. glued groups are *verified* against the token groups and ids (and, for glued n-grams
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
_KEY_LIMIT = 2**64  # exact integer keys must stay below this
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
    """``B**k`` and ``B**-k`` mod 2**64 for k = 0 .. size - 1, grown on demand and shared
    (the pair is replaced in one assignment, so a reader never sees arrays of two sizes)."""

    def __init__(self, base: int) -> None:
        self.base = base
        self._pair = (np.ones(1, dtype=_U64), np.ones(1, dtype=_U64))

    def upto(self, size: int) -> tuple[U64Array, U64Array]:
        powers, inverses = self._pair
        if len(powers) < size:
            grown = max(size, 2 * len(powers))
            powers = self._series(self.base, grown)
            inverses = self._series(pow(self.base, -1, 2**64), grown)
            self._pair = (powers, inverses)
        return powers[:size], inverses[:size]

    @staticmethod
    def _series(base: int, size: int) -> U64Array:
        out = np.ones(size, dtype=_U64)
        with np.errstate(over="ignore"):
            np.cumprod(np.full(size - 1, base, dtype=_U64), out=out[1:])
        return out


_CHAR_POWERS = _Powers(_CHAR_BASE)


_ROUNDS = 6  # table rounds before the last few unresolved keys are sorted instead


def _roots(keys: U64Array) -> IntArray:
    """For each key, the index of a key equal to it (the same index for all equal keys).

    Each round scatters the unresolved keys into a hash table of about twice their number
    and reads back each slot's winner: a key equal to its winner takes the winner as root,
    the others (their slot went to another key) go to the next round under another
    multiplier. Equal keys always share a slot, so they resolve together. No sort is needed,
    and equality is of all 64 bits.
    """
    m = len(keys)
    bits = min(max(4, (2 * m - 1).bit_length()), _TABLE_BITS + 3)
    table = np.empty(1 << bits, dtype=np.int64)
    todo = np.arange(m, dtype=np.int64)
    rep = todo
    k = keys
    mul = _MUL
    for round_ in range(_ROUNDS):
        with np.errstate(over="ignore"):
            slots = ((k * mul) >> _U64(64 - bits)).astype(np.intp)
            mul = (mul * _U64(0xD1342543DE82EF95)) | _U64(1)
        table[slots] = todo
        winner = table[slots]
        same = keys[winner] == k
        if round_ == 0:
            rep = winner  # the keys that lost their slot are overwritten in later rounds
        else:
            rep[todo[same]] = winner[same]
        if same.all():
            return rep
        rest = ~same
        todo, k = todo[rest], k[rest]
    _, where, inverse = np.unique(k, return_index=True, return_inverse=True)
    rep[todo] = todo[where[inverse]]
    return rep


def _twins(keys: U64Array) -> npt.NDArray[np.bool_]:
    """Whether each key occurs more than once."""
    rep = _roots(keys)
    return np.bincount(rep, minlength=len(keys))[rep] >= 2


def _groups(keys: U64Array, positions: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Groups of equal keys with two or more members (through :func:`_roots`).

    Returns (members, group of each member, first position of each group, size of each
    group); members are ascending indices into ``keys`` (``positions`` ascending too), groups
    are numbered by their first member's index.
    """
    m = len(keys)
    empty = np.zeros(0, dtype=np.int64)
    if m < 2:
        return empty, empty, empty, empty
    rep = _roots(keys)
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
        """``max_n``: token groups are built once, for n = 2 .. ``max_n`` (the space-joined rule
        needs every n it asks for; the glued rule verifies longer n-grams token by token)."""
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
        ``self.group_first[n]`` and ``self.group_size[n]``. The keys are exact integers, not
        hashes: a 2-gram's key packs (text, first id, second id), an n-gram's packs (the group
        of its (n-1)-gram, last id). Equal keys are equal n-grams, so nothing needs verifying.
        Equal n-grams extend equal (n-1)-grams, so each n only looks at the positions whose
        (n-1)-gram repeats.
        """
        self.labels: dict[int, npt.NDArray[np.int64]] = {}
        self.group_first: dict[int, IntArray] = {}
        self.group_size: dict[int, IntArray] = {}
        ids = self.ids.astype(_U64)
        v = int(self.ids.max()) + 1 if self.n else 1
        pos = np.flatnonzero(np.arange(self.n, dtype=np.int64) + 2 <= self.doc_end)
        text = self.doc[pos].astype(_U64) * _U64(v) + ids[pos]
        if self.batch.n_docs * v * v >= _KEY_LIMIT:  # (text, id) pairs first take a smaller name
            text = _roots(text).astype(_U64)
        keys = text * _U64(v) + ids[pos + 1]
        prev = np.zeros(0, dtype=np.int64)  # the (n-1)-gram group of each position in pos
        for n in range(2, max_n + 1):
            if n > 2:
                ok = pos + n <= self.doc_end[pos]
                pos, prev = pos[ok], prev[ok]
                keys = prev.astype(_U64) * _U64(v) + ids[pos + n - 1]
            members_idx, group, first, sizes = _groups(keys, pos)
            members = pos[members_idx]
            label = np.full(self.n, -1, dtype=np.int64)
            label[members] = group
            self.labels[n] = label
            self.group_first[n] = first
            self.group_size[n] = sizes
            # only n-grams that repeat can start a repeating (n+1)-gram
            pos, prev = members, group

    # -- datatrove's find_top_duplicate, for n in ns ----------------------------------------
    def top_ngram_chars(self, ns: Sequence[int]) -> dict[int, list[int]]:
        """For each n: len(most common space-joined n-gram) × its count, per text (exact:
        the token groups are built on exact keys)."""
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
            out[n] = value.tolist()
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
        out[pos] = _twins(keys)
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
        self._ensure_groups(2)
        k_max = max(self.labels)  # token groups exist up to here (the constructor's max_n)
        g, inv = self._glued_prefix()
        ns = sorted(ns)
        twins = self.window_twins()
        # the positions an n needs shrink as n grows: fewer n-grams fit in their text, and a
        # glued n-gram only gets longer (so one under WINDOW characters was so for n - 1)
        pos = np.arange(self.n, dtype=np.int64)
        parts: list[tuple[IntArray, ...]] = []
        bad_docs: dict[int, set[int]] = {}
        n_members = 0
        n_groups = 0
        for n in ns:
            pos = pos[pos + n <= self.doc_end[pos]]
            if twins is not None:
                # a repeating glued n-gram of WINDOW characters or more has a twin window
                pos = pos[twins[pos] | (self.glued_length(pos, n) < WINDOW)]
            with np.errstate(over="ignore"):
                poly = (g[pos + n] - g[pos]) * inv[pos]
                # the polynomial hash keeps a change in the first characters in its low bits:
                # mix them upwards before they pick a table slot
                keys = (poly ^ (poly >> _U64(29))) * _MUL + self.doc_key[pos]
            members_idx, group, first, _ = _groups(keys, pos)
            members = pos[members_idx]  # ascending
            reps = first[group]
            # the same tokens, the same string: the same k-gram group, then the same ids
            k = min(n, k_max)
            label = self.labels[k]
            la = label[members]
            ok = (la >= 0) & (la == label[reps])
            for j in range(k, n):
                ok &= self.ids[members + j] == self.ids[reps + j]
            bad: set[int] = set()
            for a, b in zip(members[~ok].tolist(), reps[~ok].tolist(), strict=True):
                da, db = int(self.doc[a]), int(self.doc[b])
                if da != db or not same_string(a, b, n):
                    bad.update((da, db))
            bad_docs[n] = bad
            # each text's members are one lane of the scan; the lanes of every n run together
            cuts = np.searchsorted(members, starts)
            step, jump = _successors(members, cuts, n)
            step[step >= 0] += n_members
            jump[jump >= 0] += n_members
            length = self.glued_length(members, n)
            parts.append((group + n_groups, length, step, jump, cuts[:-1] + n_members))
            n_members += len(members)
            n_groups += len(first)
        group_all, lengths, steps, jumps, lane_lo = (
            np.concatenate(p) for p in zip(*parts, strict=True)
        )
        steps[steps < 0] = n_members
        jumps[jumps < 0] = n_members
        lane_hi = np.append(lane_lo[1:], n_members)
        counted = _scan_lanes(group_all, steps, jumps, lane_lo, lane_hi)
        owner = np.repeat(np.arange(len(lane_lo), dtype=np.int64), lane_hi - lane_lo)
        totals = np.bincount(
            owner[counted], weights=lengths[counted].astype(np.float64), minlength=len(lane_lo)
        ).astype(np.int64)
        out: dict[int, list[int]] = {}
        for k, n in enumerate(ns):
            result = totals[k * n_docs : (k + 1) * n_docs].tolist()
            for d in bad_docs[n]:
                result[d] = fallback(d, n)
            out[n] = result
        return out


_WAVE_MIN = 32  # below this many texts still scanning, a Python loop is cheaper per step
_WAVE_STEPS = 8  # wave steps between two removals of the texts that have finished


def _successors(pos: IntArray, cuts: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """Where datatrove's scan goes from each member: on (a string met for the first time)
    and past (a repeat: the first member at or after ``pos + n``); -1 past its text's last.

    ``pos`` ascending; text ``t`` owns ``pos[cuts[t]:cuts[t + 1]]``.
    """
    m = len(pos)
    idx = np.arange(m, dtype=np.int64)
    limit = np.repeat(cuts[1:], np.diff(cuts))
    step = np.where(idx + 1 < limit, idx + 1, -1)
    jump = np.searchsorted(pos, pos + n)
    jump = np.where(jump < limit, jump, -1)
    return step, jump


def _scan_lanes(
    group: IntArray, step: IntArray, jump: IntArray, lo: IntArray, hi: IntArray
) -> npt.NDArray[np.bool_]:
    """datatrove's left-to-right duplicate scan over many lanes at once: which members count.

    Lane ``t`` owns members ``lo[t]:hi[t]`` (consecutive ranges covering every member). A
    visit to member ``j``: a string (``group``) seen before in the lane counts and goes to
    ``jump[j]``, else it is remembered and goes to ``step[j]``; ``len(group)`` ends a lane.
    Members hold the n-grams that occur more than once; the scan remembers the others but
    never meets them again, so only members need visiting. All lanes advance together, one
    visit per step; the last few stragglers finish in a plain loop.
    """
    end = len(group)
    counted = np.zeros(end + 1, dtype=bool)
    if end == 0:
        return counted[:0]
    succ = np.empty(2 * (end + 1), dtype=np.int64)
    succ[0 : 2 * end : 2] = step
    succ[1 : 2 * end : 2] = jump
    succ[2 * end :] = end
    n_groups = int(group.max()) + 1
    group_s = np.append(group, n_groups)  # the end's own group
    seen = np.zeros(n_groups + 1, dtype=bool)
    kk = lo[lo < hi]
    while len(kk) >= _WAVE_MIN:
        for _ in range(_WAVE_STEPS):
            gid = group_s[kk]
            rep = seen[gid]
            seen[gid] = True  # a group belongs to one lane: no two writers but the end's
            counted[kk] = rep
            kk = succ[2 * kk + rep]
        kk = kk[kk != end]
    if len(kk):
        owner = np.searchsorted(hi, kk, side="right")
        hits: list[int] = []
        for j, t in zip(kk.tolist(), owner.tolist(), strict=True):
            # a straggler, on Python lists of its lane's members
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
    return counted[:end]


def scan_duplicates(
    pos: IntArray, group: IntArray, length: IntArray, lo: IntArray, hi: IntArray, n: int
) -> IntArray:
    """datatrove's duplicate scan for many texts: the repeated characters of each text.

    ``pos`` are the positions (ascending) of the n-grams that occur more than once in their
    text, ``group`` which string each is, ``length`` its characters; text ``t`` owns
    ``pos[lo[t]:hi[t]]``, consecutive ranges that start at 0 and cover ``pos``.
    """
    cuts = np.append(lo, hi[-1:]) if len(lo) else np.zeros(1, dtype=np.int64)
    step, jump = _successors(pos, cuts, n)
    end = len(pos)
    step[step < 0] = end
    jump[jump < 0] = end
    counted = _scan_lanes(group, step, jump, lo, hi)
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), hi - lo)
    return np.bincount(
        owner[counted], weights=length[counted].astype(np.float64), minlength=len(lo)
    ).astype(np.int64)
