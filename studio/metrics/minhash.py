"""MinHash signatures and LSH near-duplicate clusters, vectorised with numpy.

Source: Broder 1997 ("On the resemblance and containment of documents"); configuration from
datatrove 0.10.1 ``pipeline/dedup/minhash.py`` (``MinhashConfig``: word 5-grams of normalised
text, 14 buckets × 8 hashes per bucket, as FineWeb and Cosmopedia used; two texts share a
bucket with probability 1 - (1 - J^8)^14, which is 0.5 at Jaccard J ≈ 0.72).

- Normalisation follows datatrove's ``simplify_text``: lowercase, digits runs to ``0``,
  punctuation to spaces, whitespace collapsed, accents removed (NFD without combining marks).
- Units are the whitespace words of the normalised text; CJK characters are one unit each
  (see :mod:`studio.metrics.script`), so Chinese text gets 5-character shingles.
- Each distinct unit is hashed once (BLAKE2b, 64 bits, cached); a shingle's hash mixes its
  five unit hashes down to 32 bits; the 112 hash functions are ``a·x + b mod 2**32`` with odd
  ``a`` (each a permutation of the 32-bit space).
  The signatures are deterministic across processes (no salted ``hash()``).
- A text with fewer than five units has one shingle: its whole normalised text.

``near_dup_frac`` = texts that share a bucket with at least one other text (transitively,
as clusters) ÷ texts.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain, repeat

import numpy as np
import numpy.typing as npt

from studio.metrics.punctuation import PUNCTUATION
from studio.metrics.script import _CJK_CLASS, CJK_CHAR

N_BANDS = 14
ROWS_PER_BAND = 8
N_HASHES = N_BANDS * ROWS_PER_BAND
SHINGLE_WORDS = 5
_TEXTS_PER_PASS = 2048  # bounds the arrays of one pass (and keeps them off fresh mmaps)

_NUMBERS = re.compile(r"\d+(?:[.,،٫⎖⎗⎘]\d+)?")
_WHITESPACE = re.compile(r"\s+")
_PUNCT_TO_SPACE = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))
_PUNCT_RE = re.compile("[" + "".join(re.escape(c) for c in PUNCTUATION) + "]")
_UNITS = re.compile(f"[{_CJK_CLASS}]|[^\\s{_CJK_CLASS}]+")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_U64 = np.uint64


def normalise(text: str) -> str:
    """datatrove's ``simplify_text`` with its default ``TextNormConfig``."""
    text = _NUMBERS.sub("0", text.lower())
    # str.translate looks every non-ASCII character up in a dict: a regex is faster there
    text = text.translate(_PUNCT_TO_SPACE) if text.isascii() else _PUNCT_RE.sub(" ", text)
    text = _WHITESPACE.sub(" ", text.strip())
    if not text.isascii() and not unicodedata.is_normalized("NFD", text):
        text = unicodedata.normalize("NFD", text)
    if not text.isascii():
        text = _combining_marks().sub("", text)
    return text.strip()


@lru_cache(maxsize=1)
def _combining_marks() -> re.Pattern[str]:
    """A pattern matching every character with a non-zero combining class."""
    ranges: list[str] = []
    start = prev = -2
    for cp in range(sys.maxunicode + 1):
        if unicodedata.combining(chr(cp)):
            if cp != prev + 1:
                if start >= 0:
                    ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
                start = cp
            prev = cp
    ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(prev))}")
    return re.compile("[" + "".join(ranges) + "]")


_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789,", b"0000000000.")
_ASCII_PUNCT_TO_SPACE = bytes.maketrans(
    bytes(ord(c) for c in PUNCTUATION if ord(c) < 128),
    b" " * sum(1 for c in PUNCTUATION if ord(c) < 128),
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_DIGIT = re.compile(r"\d")
_NUMBER_SEPARATORS = frozenset("،٫⎖⎗⎘")
_PUNCTUATION_CHARS = frozenset(PUNCTUATION)


@lru_cache(maxsize=65_536)
def _non_ascii_replacement(ch: str) -> str | None:
    """What normalisation turns a non-ASCII character into, or None when only the full path
    reproduces it (a digit or number separator, a CJK unit, a lone combining mark).

    Punctuation and spaces become a space. Other characters become their NFD form without
    combining marks (``"é"`` -> ``"e"``): NFD only reorders marks among themselves, so
    decomposing one character at a time and dropping the marks leaves the same letters.
    """
    if (
        _DIGIT.match(ch)
        or ch in _NUMBER_SEPARATORS
        or CJK_CHAR.match(ch)
        or unicodedata.combining(ch)
    ):
        return None
    if ch in _PUNCTUATION_CHARS or ch.isspace():
        return " "
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    if base != ch and any(
        _DIGIT.match(c) or c in _PUNCTUATION_CHARS or c.isspace() or CJK_CHAR.match(c) for c in base
    ):
        return None  # decomposes into something an earlier step would have touched
    return base


def units(text: str) -> list[str] | list[bytes]:
    """The units of ``normalise(text)`` (``_UNITS.findall``), as UTF-8 ``bytes`` words when
    byte operations reproduce them.

    They do unless a non-ASCII character is a digit, a number separator, a CJK unit or a
    lone combining mark: then the full normalisation runs. Otherwise non-ASCII punctuation
    and spaces become spaces, accented letters lose their accents, and the rest works on
    UTF-8 bytes (no ASCII byte occurs inside a
    multi-byte character): digit runs, and two digit runs joined by ``.`` or ``,``, become
    ``0``; ASCII punctuation and control characters become spaces; the units are the
    whitespace-separated words.
    """
    low = text.lower()
    if not low.isascii():
        for ch in set(_NON_ASCII.findall(low)):
            replacement = _non_ascii_replacement(ch)
            if replacement is None:
                return _UNITS.findall(normalise(text))
            if replacement != ch:
                low = low.replace(ch, replacement)
    raw = low.encode("utf-8")
    if len(raw.translate(None, b"0123456789")) != len(raw):
        # the separator matters only between digits, and both separators become spaces
        # elsewhere, so "," can stand in for "." before the left-to-right replacement
        raw = raw.translate(_DIGITS_TO_ZERO)
        while b"00" in raw:
            raw = raw.replace(b"00", b"0")
        raw = raw.replace(b"0.0", b"0")
    return raw.translate(_ASCII_PUNCT_TO_SPACE).split()


def _splitmix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        x = x ^ (x >> _U64(30))
        x = x * _U64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> _U64(27))
        x = x * _U64(0x94D049BB133111EB)
        return x ^ (x >> _U64(31))


class MinHasher:
    """Computes signatures; keeps a cache of unit hashes (one per scorer or run)."""

    def __init__(self, seed: int = 1) -> None:
        rng = np.random.default_rng(seed)
        # h(x) = a·x + b mod 2**32 with odd a: a permutation of the 32-bit shingle hashes
        self._a = rng.integers(0, 2**32, size=N_HASHES, dtype=np.uint32) | np.uint32(1)
        self._b = rng.integers(0, 2**32, size=N_HASHES, dtype=np.uint32)
        self._unit_id: dict[str | bytes, int] = {}
        self._hash_list: list[int] = []
        self._hashes = np.zeros(0, dtype=np.uint64)

    def _unit_ids(self, all_units: list[str | bytes]) -> npt.NDArray[np.int64]:
        """Ids of units (one per distinct unit, cached); their hashes are ``self._hashes``."""
        if len(self._unit_id) > 2_000_000:
            self._unit_id = {}
            self._hash_list = []
        index = self._unit_id
        get = index.get
        ids = np.fromiter(map(get, all_units, repeat(-1)), dtype=np.int64, count=len(all_units))
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            hashes = self._hash_list
            for k in missing.tolist():
                u = all_units[k]
                uid = index.get(u)
                if uid is None:
                    data = u if isinstance(u, bytes) else u.encode()
                    digest = hashlib.blake2b(data, digest_size=8).digest()
                    uid = index[u] = len(hashes)
                    hashes.append(int.from_bytes(digest, "little"))
                ids[k] = uid
            self._hashes = np.array(hashes, dtype=np.uint64)
        return ids

    def shingle_hashes(self, text: str) -> npt.NDArray[np.uint32]:
        """Distinct 32-bit hashes of the text's word 5-gram shingles."""
        shingles, _ = self._shingles([text])
        return np.unique(shingles)

    def _shingles(
        self, texts: Sequence[str]
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
        """32-bit hashes of every text's shingles (repeats kept), and the text of each."""
        unit_lists: list[list[str] | list[bytes] | list[str | bytes]] = []
        for text in texts:
            u = units(text)
            if len(u) < SHINGLE_WORDS:
                u = [normalise(text)]  # too short: one shingle, the whole normalised text
            unit_lists.append(u)
        lengths = np.fromiter(map(len, unit_lists), dtype=np.int64, count=len(unit_lists))
        ids = self._unit_ids(list(chain.from_iterable(unit_lists)))
        h = self._hashes[ids]  # read after _unit_ids, which may grow it
        doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        ends = np.cumsum(lengths)[doc]
        wide = lengths[doc] >= SHINGLE_WORDS  # texts of five units or more
        starts = np.flatnonzero(np.where(wide, np.arange(len(doc)) + SHINGLE_WORDS <= ends, True))
        acc = h[starts]
        sel = np.flatnonzero(wide[starts])
        with np.errstate(over="ignore"):
            sub = acc[sel]
            for i in range(1, SHINGLE_WORDS):
                sub = (sub * _MIX) ^ h[starts[sel] + i]
            acc[sel] = sub
        return (_splitmix(acc) >> _U64(32)).astype(np.uint32), doc[starts]

    def signatures(self, texts: Sequence[str]) -> npt.NDArray[np.uint32]:
        """An (N, 112) array of minimum hash values.

        The minimum over a text's shingles does not change when a shingle repeats, so the
        shingles are not deduplicated. One hash function at a time runs over all shingles of
        a pass (a long contiguous multiply and add with scalars, which numpy vectorises),
        then ``minimum.reduceat`` takes each text's minimum: 3-4x faster than a
        (shingles x 112) matrix, whose rows of 112 cost a ufunc inner-loop call each.
        """
        out = np.empty((len(texts), N_HASHES), dtype=np.uint32)
        a = [np.uint32(v) for v in self._a.tolist()]
        b = [np.uint32(v) for v in self._b.tolist()]
        for lo in range(0, len(texts), _TEXTS_PER_PASS):
            flat, owner = self._shingles(texts[lo : lo + _TEXTS_PER_PASS])
            # every text has at least one shingle, and its shingles are contiguous
            cuts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            mins = np.empty((N_HASHES, len(cuts)), dtype=np.uint32)
            hv = np.empty_like(flat)
            with np.errstate(over="ignore"):
                for j in range(N_HASHES):
                    np.multiply(flat, a[j], out=hv)
                    np.add(hv, b[j], out=hv)
                    np.minimum.reduceat(hv, cuts, out=mins[j])
            out[lo : lo + len(cuts)] = mins.T
        return out


def band_keys(signatures: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
    """(N, 14) bucket keys: each band's 8 values hashed into one 64-bit key."""
    n = signatures.shape[0]
    bands = signatures.reshape(n, N_BANDS, ROWS_PER_BAND).astype(np.uint64)
    key = np.zeros((n, N_BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(ROWS_PER_BAND):
            key = _splitmix(key * _MIX ^ bands[:, :, r])
    return key


def near_duplicate_clusters(signatures: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """Cluster label per text (the smallest member index); texts sharing any bucket meet.

    Connected components by label propagation: every bucket of two or more texts takes the
    smallest label among its members, labels jump to their label's label, until nothing
    changes. At that point a component has one label, its smallest index.
    """
    n = signatures.shape[0]
    labels = np.arange(n, dtype=np.int64)
    keys = band_keys(signatures)
    buckets: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    for band in range(N_BANDS):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        sk = col[order]
        starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
        sizes = np.diff(np.append(starts, n))
        shared = sizes > 1
        if not shared.any():
            continue
        members = order[np.repeat(shared, sizes)]  # texts in buckets of two or more
        kept = sizes[shared]
        buckets.append((members, np.cumsum(kept) - kept))
    while buckets:
        before = labels.copy()
        for members, starts in buckets:
            lab = labels[members]
            low = np.minimum.reduceat(lab, starts)
            sizes = np.diff(np.append(starts, len(members)))
            labels[members] = np.minimum(lab, np.repeat(low, sizes))
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            break
    return labels


def near_dup_frac_from_labels(labels: npt.NDArray[np.int64]) -> float:
    """Texts in a cluster of two or more ÷ texts."""
    if len(labels) == 0:
        return 0.0
    sizes = np.bincount(labels, minlength=len(labels))
    return float((sizes[labels] > 1).mean())


def estimated_jaccard(sig_a: npt.NDArray[np.uint32], sig_b: npt.NDArray[np.uint32]) -> float:
    """Share of equal MinHash values: an unbiased estimate of the shingle-set Jaccard."""
    return float((sig_a == sig_b).mean())
