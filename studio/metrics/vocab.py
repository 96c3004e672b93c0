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

import functools
import operator
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

    def extend(self, values: list[int] | list[bool] | npt.NDArray[Any]) -> None:
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
    #: the code points of ``glued`` (the compiled path builds these instead of the string)
    glued_codes: npt.NDArray[np.uint32] | None = None
    #: per text: non-symbol tokens, their characters, alphabetic tokens, and the bit mask of
    #: the stop words present (the compiled path counts these as it lays out the ids)
    word_counts: npt.NDArray[np.int64] | None = None
    #: the compiled path's whitespace chunks: their positions in the batch's code points,
    #: their chunk ids, and each text's first chunk (len(texts) + 1 offsets)
    chunk_pos: npt.NDArray[np.int64] | None = None
    chunk_ids: npt.NDArray[np.int64] | None = None
    chunk_starts: npt.NDArray[np.int64] | None = None
    chunk_len: npt.NDArray[np.int64] | None = None

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
        # per chunk: its tokens' non-symbol count, non-symbol characters, alphabetic count
        # and stop-word bits (OR), for the compiled path's word counts
        self._chunk_facts = _Column(np.int64)
        # per chunk: how it moves spaCy's sentencizer (EnglishWordSplitter.sentence_step),
        # packed in 16-bit fields, for C4's sentence counts on the compiled path
        self.chunk_steps = _Column(np.int64)
        # per chunk: its text, and six token counts (-1: not yet counted): after nothing or
        # a space, followed by nothing, "\n" or "\n\n" (kernels.token_segments), for the
        # compiled path's token counts (TextScorer's segment_tokens)
        self.chunks: list[str] = []
        self.token_counts = np.full((6, 1024), -1, dtype=np.int32)  # [setting, chunk id]
        # the compiled path's chunk table (studio.metrics.kernels.chunk_lookup): per chunk
        # id, where its code points are stored (-1: not yet) and its hash; open addressing
        self._store_meta = _Column(np.int64)  # offset, length (-1: not stored)
        self._store_hash = _Column(np.uint64)
        self._store_codes = _Column(np.uint32)
        self._table = np.zeros(2 << 12, dtype=np.uint64)  # hash, id + 1 (0: empty slot)
        self._tab_count = 0

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
        ids, token_ends = self._token_ids_of(cids)
        if self._chunk_glues.array[cids].all():
            glued = "".join(map("".join, splits))
        else:  # a chunk whose tokens are not its exact pieces: glue the tokens themselves
            glued = "".join(map(self.tokens.__getitem__, ids.tolist()))
        return TokenBatch(ids, token_ends[chunk_starts], glued)

    def batch_compiled(
        self,
        joined: str,
        codes: npt.NDArray[np.uint32],
        text_starts: npt.NDArray[np.int64],
        kernels: Any,
    ) -> TokenBatch:
        """:meth:`batch` for texts given as one string ``joined`` (text d is
        ``joined[text_starts[d]:text_starts[d + 1]]``) and its code points: the chunks are
        found and looked up by :func:`studio.metrics.kernels.chunk_lookup`; only chunks it
        has not met go through Python."""
        if len(self._chunk_ids) > _MAX_CHUNKS:
            self._reset()
        n_docs = len(text_starts) - 1
        cap = len(codes) // 2 + n_docs + 1
        cid = np.empty(cap, dtype=np.int64)
        pos = np.empty(cap, dtype=np.int64)
        size = np.empty(cap, dtype=np.int64)
        hashes = np.empty(cap, dtype=np.uint64)
        per_doc = np.empty(n_docs, dtype=np.int64)
        glued = np.empty(len(codes), dtype=np.uint32)
        n = kernels.chunk_lookup(
            codes, text_starts, kernels.KLASS, self._table, self._store_meta.array,
            self._store_codes.array, cid, pos, size, hashes, per_doc, glued,
        )  # fmt: skip
        cids = cid[:n]
        missing = np.flatnonzero(cids < 0)
        if len(missing):
            self._store_new_chunks(joined, codes, missing, cids, pos, size, hashes, kernels)
        ids, starts, word_counts = kernels.chunk_tokens(
            cids,
            per_doc,
            self._chunk_start.array,
            self._chunk_len.array,
            self._flat.array,
            self._chunk_facts.array,
        )
        if self._chunk_glues.array[cids].all():
            glued_codes = glued[: int(size[:n].sum())]
        else:
            text = "".join(map(self.tokens.__getitem__, ids.tolist()))
            glued_codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        chunk_starts = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(per_doc, out=chunk_starts[1:])
        return TokenBatch(
            ids, starts, None, glued_codes, word_counts, pos[:n], cids, chunk_starts, size[:n]
        )

    def _store_new_chunks(
        self,
        joined: str,
        codes: npt.NDArray[np.uint32],
        missing: npt.NDArray[np.int64],
        cids: npt.NDArray[np.int64],
        pos: npt.NDArray[np.int64],
        size: npt.NDArray[np.int64],
        hashes: npt.NDArray[np.uint64],
        kernels: Any,
    ) -> None:
        """Give the chunks the table missed their ids, and store and index the new ones."""
        new_ids: list[int] = []
        first_seen: list[int] = []  # where each new id was met
        offsets: list[int] = []
        pieces: list[npt.NDArray[np.uint32]] = []
        offset = self._store_codes.size
        for k in missing.tolist():
            a, length = int(pos[k]), int(size[k])
            c = self._add_chunk(joined[a : a + length])
            cids[k] = c
            meta = self._store_meta.array  # _add_chunk may have grown it
            if meta[2 * c + 1] < 0:
                meta[2 * c + 1] = length
                new_ids.append(c)
                first_seen.append(k)
                offsets.append(offset)
                pieces.append(codes[a : a + length])
                offset += length
        if not new_ids:
            return
        new = np.asarray(new_ids, dtype=np.int64)
        meta = self._store_meta.array
        meta[2 * new] = offsets
        self._store_hash.array[new] = hashes[np.asarray(first_seen, dtype=np.int64)]
        self._store_codes.extend(np.concatenate(pieces))
        n_slots = len(self._table) // 2
        if 2 * (self._tab_count + len(new)) > n_slots:
            while 2 * (self._tab_count + len(new)) > n_slots:
                n_slots *= 4
            self._table = np.zeros(2 * n_slots, dtype=np.uint64)
            stored = np.flatnonzero(meta[1::2] >= 0)
            old = stored[~np.isin(stored, new)]
            kernels.chunk_insert(self._table, self._store_hash.array[old], old)
        kernels.chunk_insert(self._table, self._store_hash.array[new], new)
        self._tab_count += len(new)

    def chunk_texts(self, cids: list[int]) -> list[str]:
        """The chunks with these ids."""
        return [self.chunks[c] for c in cids]

    def _token_ids_of(
        self, cids: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The token ids of a run of chunk ids, and each chunk's token end offset (from 0)."""
        lens = self._chunk_len.array[cids]
        chunk_ends = np.cumsum(lens)
        total = int(chunk_ends[-1]) if len(chunk_ends) else 0
        offsets = np.repeat(self._chunk_start.array[cids] - (chunk_ends - lens), lens)
        ids = self._flat.array[offsets + np.arange(total, dtype=np.int64)]
        token_ends = np.concatenate(([0], chunk_ends))
        return ids.astype(np.int64, copy=False), token_ends

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
        ns, alpha = self.non_symbol.array, self.alpha.array
        self._chunk_facts.extend(
            [
                sum(int(ns[t]) for t in ids),
                sum(int(self.length.array[t]) for t in ids if ns[t]),
                sum(int(alpha[t]) for t in ids),
                functools.reduce(operator.or_, (int(self.stop_bit.array[t]) for t in ids), 0),
            ]
        )
        inc_f, seen_f, inc_t, seen_t = self.splitter.sentence_step(chunk)
        self.chunk_steps.extend([inc_f | seen_f << 16 | inc_t << 32 | seen_t << 48])
        self.chunks.append(chunk)
        if cid >= self.token_counts.shape[1]:
            grown = np.full((6, 2 * cid), -1, dtype=np.int32)
            grown[:, : self.token_counts.shape[1]] = self.token_counts
            self.token_counts = grown
        self._store_meta.extend([-1, -1])
        self._store_hash.extend([0])
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
