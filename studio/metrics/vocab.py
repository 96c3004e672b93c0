"""Token ids for many texts at once, and per-token facts as arrays indexed by token id.

A :class:`Vocabulary` turns each English text into the ids of its word tokens (the same
tokens as :class:`studio.metrics.words.EnglishWordSplitter`): every distinct whitespace chunk
is split once and kept as a run of token ids, so a batch of texts becomes one integer array
(``TokenBatch``) with a few dictionary look-ups per chunk. Whatever a metric needs to know
about a token (its length, whether it has a non-punctuation or an alphabetic character,
whether it is a stop word, its polynomial string hash) is computed once per distinct token
and read for a whole batch with one numpy gather.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from studio.metrics.punctuation import PUNCTUATION_SET

if TYPE_CHECKING:
    from studio.metrics.words import EnglishWordSplitter

#: base of the polynomial string hash (odd, so invertible modulo 2**64)
HASH_BASE = 0x9E3779B97F4A7C15
_MASK64 = 2**64 - 1
_INV_BASE = pow(HASH_BASE, -1, 2**64)
_MAX_CHUNKS = 500_000

ENGLISH_STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")


class _Column:
    """A growable numpy array (capacity doubles)."""

    def __init__(self, dtype: type) -> None:
        self._data: npt.NDArray[Any] = np.zeros(1024, dtype=dtype)
        self.size = 0

    def extend(self, values: list[int] | list[bool]) -> None:
        end = self.size + len(values)
        if end > len(self._data):
            grown = np.zeros(max(end, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : end] = values
        self.size = end

    @property
    def array(self) -> npt.NDArray[Any]:
        return self._data[: self.size]


@dataclass(frozen=True, slots=True)
class TokenBatch:
    """Token ids of a batch of texts: text ``d`` owns ``ids[starts[d] : starts[d + 1]]``."""

    ids: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]  # len(texts) + 1 token offsets
    #: every token of the batch glued with no separator, in order (token ``p`` starts at the
    #: sum of the lengths of the tokens before it); None when not built
    glued: str | None = None

    @property
    def n_docs(self) -> int:
        return len(self.starts) - 1

    def doc_of_positions(self) -> npt.NDArray[np.int64]:
        return np.repeat(np.arange(self.n_docs, dtype=np.int64), np.diff(self.starts))


class Vocabulary:
    """Chunk and token caches for one scorer (not thread-safe, like the scorer)."""

    def __init__(self, splitter: EnglishWordSplitter) -> None:
        self.splitter = splitter
        self._reset()

    def _reset(self) -> None:
        self._chunk_ids: dict[str, int] = {}
        self._token_ids: dict[str, int] = {}
        self.tokens: list[str] = []
        self._chunk_start = _Column(np.int64)
        self._chunk_len = _Column(np.int64)
        self._chunk_glues = _Column(np.bool_)  # its tokens glued back give the chunk itself
        self._flat = _Column(np.int64)
        self.length = _Column(np.int64)
        self.non_symbol = _Column(np.bool_)
        self.alpha = _Column(np.bool_)
        self.stop_bit = _Column(np.int64)
        self.hash = _Column(np.uint64)  # sum of code[k] * BASE**k
        self.power = _Column(np.uint64)  # BASE**len
        self.inv_power = _Column(np.uint64)  # BASE**-len

    def batch(self, texts: list[str]) -> TokenBatch:
        """Token ids of every text (texts are split at whitespace, chunks looked up)."""
        if len(self._chunk_ids) > _MAX_CHUNKS:
            self._reset()
        splits = [t.split() for t in texts]
        per_doc = np.fromiter(map(len, splits), dtype=np.int64, count=len(splits))
        chunk_starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(per_doc, out=chunk_starts[1:])
        get = self._chunk_ids.get
        # looked up text by text: a flat list of every chunk would cost more than it saves
        cids = np.fromiter(
            chain.from_iterable(map(get, chunks, repeat(-1)) for chunks in splits),
            dtype=np.int64,
            count=int(chunk_starts[-1]),
        )
        missing = np.flatnonzero(cids < 0)
        if len(missing):
            docs = np.searchsorted(chunk_starts, missing, side="right") - 1
            for k, d in zip(missing.tolist(), docs.tolist(), strict=True):
                cids[k] = self._add_chunk(splits[d][k - int(chunk_starts[d])])
        lens = self._chunk_len.array[cids]
        chunk_ends = np.cumsum(lens)
        total = int(chunk_ends[-1]) if len(chunk_ends) else 0
        offsets = np.repeat(self._chunk_start.array[cids] - (chunk_ends - lens), lens)
        ids = self._flat.array[offsets + np.arange(total, dtype=np.int64)]
        token_ends = np.concatenate(([0], chunk_ends))
        ids = ids.astype(np.int64, copy=False)
        if self._chunk_glues.array[cids].all():
            glued = "".join(map("".join, splits))
        else:  # a chunk whose tokens are not its exact pieces: glue the tokens themselves
            glued = "".join(map(self.tokens.__getitem__, ids.tolist()))
        return TokenBatch(ids, token_ends[chunk_starts], glued)

    def _add_chunk(self, chunk: str) -> int:
        cid = self._chunk_ids.get(chunk)
        if cid is not None:
            return cid
        toks = self.splitter.split_chunk(chunk)
        ids = [self._token_id(t) for t in toks]
        cid = len(self._chunk_ids)
        self._chunk_ids[chunk] = cid
        self._chunk_start.extend([self._flat.size])
        self._chunk_len.extend([len(ids)])
        self._chunk_glues.extend(["".join(toks) == chunk])
        self._flat.extend(ids)
        return cid

    def _token_id(self, token: str) -> int:
        tid = self._token_ids.get(token)
        if tid is not None:
            return tid
        tid = len(self.tokens)
        self._token_ids[token] = tid
        self.tokens.append(token)
        h, p = 0, 1
        for ch in token:
            h = (h + ord(ch) * p) & _MASK64
            p = (p * HASH_BASE) & _MASK64
        stop = ENGLISH_STOP_WORDS.index(token) if token in ENGLISH_STOP_WORDS else -1
        self.length.extend([len(token)])
        self.non_symbol.extend([any(ch not in PUNCTUATION_SET for ch in token)])
        self.alpha.extend([any(ch.isalpha() for ch in token)])
        self.stop_bit.extend([1 << stop if stop >= 0 else 0])
        self.hash.extend([h])
        self.power.extend([p])
        self.inv_power.extend([pow(_INV_BASE, len(token), 2**64)])
        return tid
