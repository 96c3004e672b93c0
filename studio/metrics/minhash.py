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
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from studio.metrics.punctuation import PUNCTUATION
from studio.metrics.script import _CJK_CLASS

N_BANDS = 14
ROWS_PER_BAND = 8
N_HASHES = N_BANDS * ROWS_PER_BAND
SHINGLE_WORDS = 5

_NUMBERS = re.compile(r"\d+(?:[.,،٫⎖⎗⎘]\d+)?")
_WHITESPACE = re.compile(r"\s+")
_PUNCT_TO_SPACE = str.maketrans(PUNCTUATION, " " * len(PUNCTUATION))
_UNITS = re.compile(f"[{_CJK_CLASS}]|[^\\s{_CJK_CLASS}]+")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_U64 = np.uint64


def normalise(text: str) -> str:
    """datatrove's ``simplify_text`` with its default ``TextNormConfig``."""
    text = _NUMBERS.sub("0", text.lower())
    text = _WHITESPACE.sub(" ", text.translate(_PUNCT_TO_SPACE).strip())
    if not text.isascii():
        text = "".join(
            c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)
        )
    return text.strip()


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
        self._unit_hash: dict[str, int] = {}

    def _hash_units(self, units: list[str]) -> npt.NDArray[np.uint64]:
        cache = self._unit_hash
        missing = set(units).difference(cache)
        for u in missing:
            cache[u] = int.from_bytes(hashlib.blake2b(u.encode(), digest_size=8).digest(), "little")
        if len(cache) > 2_000_000:
            self._unit_hash = {}
        return np.fromiter((cache[u] for u in units), dtype=np.uint64, count=len(units))

    def shingle_hashes(self, text: str) -> npt.NDArray[np.uint32]:
        """Distinct 32-bit hashes of the text's word 5-gram shingles."""
        norm = normalise(text)
        units = _UNITS.findall(norm)
        if len(units) < SHINGLE_WORDS:
            units = [norm]
            k = 1
        else:
            k = SHINGLE_WORDS
        h = self._hash_units(units)
        m = len(h) - k + 1
        acc = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(k):
                acc = (acc * _MIX) ^ h[i : i + m]
        return np.unique((_splitmix(acc) >> _U64(32)).astype(np.uint32))

    def signatures(self, texts: Sequence[str], chunk: int = 16_384) -> npt.NDArray[np.uint32]:
        """An (N, 112) array of minimum hash values."""
        shingles = [self.shingle_hashes(t) for t in texts]
        sizes = np.array([len(s) for s in shingles], dtype=np.int64)
        flat = np.concatenate(shingles) if shingles else np.zeros(0, dtype=np.uint32)
        owner = np.repeat(np.arange(len(texts)), sizes)
        out = np.full((len(texts), N_HASHES), np.iinfo(np.uint32).max, dtype=np.uint32)
        a, b = self._a[None, :], self._b[None, :]
        with np.errstate(over="ignore"):
            for start in range(0, len(flat), chunk):
                x = flat[start : start + chunk, None]
                hv = x * a + b
                rows = owner[start : start + chunk]
                # rows are sorted: reduce each run of one text's shingles at once
                cuts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
                mins = np.minimum.reduceat(hv, cuts, axis=0)
                np.minimum.at(out, rows[cuts], mins)
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
    """Cluster label per text (the smallest member index); texts sharing any bucket meet."""
    n = signatures.shape[0]
    parent = np.arange(n)

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = int(parent[root])
        while parent[x] != root:
            parent[x], x = root, int(parent[x])
        return root

    keys = band_keys(signatures)
    for band in range(N_BANDS):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        sorted_keys = col[order]
        same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        for k in same.tolist():
            ra, rb = find(int(order[k])), find(int(order[k + 1]))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)], dtype=np.int64)


def near_dup_frac_from_labels(labels: npt.NDArray[np.int64]) -> float:
    """Texts in a cluster of two or more ÷ texts."""
    if len(labels) == 0:
        return 0.0
    sizes = np.bincount(labels, minlength=len(labels))
    return float((sizes[labels] > 1).mean())


def estimated_jaccard(sig_a: npt.NDArray[np.uint32], sig_b: npt.NDArray[np.uint32]) -> float:
    """Share of equal MinHash values: an unbiased estimate of the shingle-set Jaccard."""
    return float((sig_a == sig_b).mean())
