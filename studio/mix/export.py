"""Recipe -> shards + manifest: read, clean, allocate, write.

Stages, in order, each reporting what it removed and why:

1. **read** every source (stored generations by filter, external JSONL/Parquet);
2. **empty**: texts with nothing but white space;
3. **exact dedup** across all sources on a normalised hash (NFKC, case-folded, white space
   collapsed); the copy that survives is the one the recipe's ``dedup.keep`` rule prefers;
4. **gates**: each source's metric gates and filter decisions (stored scores are reused, the
   rest are scored on the fly with the same scorer ``studio score`` uses);
5. **decontamination**: texts sharing any word n-gram (10 by default, as Cosmopedia did) with
   a benchmark file;
6. **near dedup**: MinHash LSH (14 bands x 8 rows over word 5-grams) across all sources,
   candidate pairs kept only when their estimated Jaccard reaches ``near_threshold``;
7. **allocate**: token targets from weights or token counts within the budget; each source is
   sampled with its own seeded generator; a short source is reported with its deficit and is
   upsampled only when the recipe allows it, up to its cap;
8. **write**: a seeded shuffle, shards of at most ``shard_docs`` documents written to a
   temporary name and renamed, then ``manifest.json`` with every count and each shard's SHA-256.

The same recipe and the same data give byte-identical shards and manifest: nothing depends on
time, dict order of the environment, or Python's salted ``hash()``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.mix.sources import (
    Document,
    SourceReport,
    external_documents,
    read_jsonl_texts,
    stored_documents,
)

if TYPE_CHECKING:
    from studio.mix.recipe import Recipe, Source
    from studio.store import Store

Progress = Callable[[str, int, int], None]
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


class ExportError(RuntimeError):
    """The export cannot go on (an output folder that is not ours, an unknown run...)."""


@dataclass
class StageReport:
    name: str
    removed: int = 0
    by_source: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    dropped: list[Document] = field(default_factory=list)

    @property
    def removed_tokens(self) -> int:
        """Tokens of the dropped texts, summed when asked: counts may arrive after the drop."""
        return sum(doc.n_tokens for doc in self.dropped)

    def drop(self, doc: Document, reason: str) -> None:
        self.removed += 1
        self.dropped.append(doc)
        self.by_source[doc.source] += 1
        self.reasons[reason] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.name,
            "removed": self.removed,
            "removed_tokens": self.removed_tokens,
            "by_source": dict(sorted(self.by_source.items())),
            "reasons": dict(sorted(self.reasons.items())),
        }


@dataclass
class ExportResult:
    out_dir: Path
    manifest: dict[str, Any]

    @property
    def shards(self) -> list[Path]:
        return [self.out_dir / s["file"] for s in self.manifest["shards"]]


# -- normalisation and n-grams -------------------------------------------------------------------

# One unit per CJK character (no spaces between words), one per word elsewhere.
_UNITS = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
    r"|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+"
)


# ASCII white space as ``str.split()`` sees it (``\x1c``-``\x1f`` included), all to a space
_ASCII_SPACE_TO_SPACE = bytes.maketrans(
    bytes(c for c in range(128) if chr(c).isspace()),
    b" " * sum(1 for c in range(128) if chr(c).isspace()),
)


def exact_key(text: str) -> bytes:
    """Hash of the text with case, Unicode form and white space normalised."""
    if text.isascii():
        # NFKC leaves ASCII as it is and casefold is lower; ``" ".join(text.split())`` done
        # with byte operations (white space to spaces, runs halved until none, ends stripped)
        norm = text.encode("ascii").lower().translate(_ASCII_SPACE_TO_SPACE)
        while b"  " in norm:
            norm = norm.replace(b"  ", b" ")
        return hashlib.blake2b(norm.strip(b" "), digest_size=16).digest()
    norm_text = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.blake2b(norm_text.encode("utf-8"), digest_size=16).digest()


def ngram_keys(text: str, n: int) -> set[bytes]:
    """Hashes of the text's word n-grams (CJK characters count as words)."""
    units = _UNITS.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(units) < n:
        return set()
    return {
        hashlib.blake2b("\x1f".join(units[i : i + n]).encode(), digest_size=12).digest()
        for i in range(len(units) - n + 1)
    }


# -- stages ---------------------------------------------------------------------------------------


def _prefer(keep: str) -> Callable[[Document], tuple[int, int, int]]:
    """Sort key: the smallest key is the copy that survives."""
    if keep == "longest":
        return lambda d: (-len(d.text), *d.rank)
    return lambda d: (0, *d.rank)


def exact_dedup(docs: list[Document], keep: str, report: StageReport) -> list[Document]:
    best: dict[bytes, Document] = {}
    prefer = _prefer(keep)
    for doc in docs:
        key = exact_key(doc.text)
        other = best.get(key)
        if other is None or prefer(doc) < prefer(other):
            best[key] = doc
    survivors = {id(d) for d in best.values()}
    kept = []
    for doc in docs:
        if id(doc) in survivors:
            kept.append(doc)
        else:
            report.drop(doc, "exact_duplicate")
    return kept


def apply_gates(
    docs: list[Document],
    sources: dict[str, Source],
    report: StageReport,
    progress: Progress,
) -> list[Document]:
    """Drop texts that fail their source's gates; score on the fly where no stored score is."""
    need = [d for d in docs if sources[d.source].gates and d.metrics is None]
    if need:
        from studio.metrics.scorer import TextScorer

        scorer = TextScorer()
        for i, doc in enumerate(need):
            score = scorer.score(doc.text)
            doc.metrics, doc.filters = score.metrics, dict(score.filters)
            if i % 500 == 0:
                progress("gates", i, len(need))
        progress("gates", len(need), len(need))
    kept = []
    for doc in docs:
        failed = next(
            (
                g
                for g in sources[doc.source].gates
                if not g.passes(doc.metrics or {}, doc.filters or {})
            ),
            None,
        )
        if failed is None:
            kept.append(doc)
        else:
            report.drop(doc, str(failed))
    return kept


def decontaminate(
    docs: list[Document], benchmarks: Iterable[Path], n: int, text_field: str, report: StageReport
) -> tuple[list[Document], dict[str, int]]:
    """Drop texts sharing any word n-gram with a benchmark text."""
    banned: dict[bytes, str] = {}
    sizes: dict[str, int] = {}
    for path in benchmarks:
        bench_report = SourceReport(path.name)
        count = 0
        for _, text in read_jsonl_texts(path, text_field, bench_report):
            for key in ngram_keys(text, n):
                banned.setdefault(key, path.name)
            count += 1
        sizes[path.name] = count
    kept = []
    for doc in docs:
        hit = next((banned[k] for k in ngram_keys(doc.text, n) if k in banned), None)
        if hit is None:
            kept.append(doc)
        else:
            report.drop(doc, f"{n}-gram overlap with {hit}")
    return kept, sizes


def near_dedup(
    docs: list[Document], threshold: float, keep: str, report: StageReport, progress: Progress
) -> tuple[list[Document], int]:
    """MinHash LSH across all sources; returns survivors and the number of clusters found."""
    import numpy as np

    from studio.metrics.minhash import MinHasher, band_keys

    if len(docs) < 2:
        return docs, 0
    progress("near dedup", 0, len(docs))
    signatures = MinHasher().signatures([d.text for d in docs])
    progress("near dedup", len(docs), len(docs))
    parent = list(range(len(docs)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    # Candidate pairs: in every band, each member of a shared bucket against the bucket's
    # first member; pairs whose estimated Jaccard reaches the threshold are joined.
    keys = band_keys(signatures)
    heads, others = [], []
    for band in range(keys.shape[1]):
        column = keys[:, band]
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        first = np.r_[True, ordered[1:] != ordered[:-1]]
        head = order[first][np.cumsum(first) - 1]  # each position's bucket head
        heads.append(head[~first])
        others.append(order[~first])
    pairs = np.unique(np.concatenate(heads) * len(docs) + np.concatenate(others))
    for lo in range(0, len(pairs), 65_536):  # bounds the (pairs, 112) comparison
        chunk = pairs[lo : lo + 65_536]
        a, b = chunk // len(docs), chunk % len(docs)
        similar = (signatures[a] == signatures[b]).mean(axis=1) >= threshold
        for x, y in zip(a[similar].tolist(), b[similar].tolist(), strict=True):
            rx, ry = find(x), find(y)
            if rx != ry:
                parent[max(rx, ry)] = min(rx, ry)
    clusters: dict[int, list[int]] = {}
    for i in range(len(docs)):
        clusters.setdefault(find(i), []).append(i)
    prefer = _prefer(keep)
    drop: set[int] = set()
    n_clusters = 0
    for members in clusters.values():
        if len(members) < 2:
            continue
        n_clusters += 1
        winner = min(members, key=lambda i: prefer(docs[i]))
        drop.update(i for i in members if i != winner)
    kept = []
    for i, doc in enumerate(docs):
        if i in drop:
            report.drop(doc, "near_duplicate")
        else:
            kept.append(doc)
    return kept, n_clusters


# -- allocation -----------------------------------------------------------------------------------


@dataclass
class Allocation:
    source: str
    asked_tokens: int | None
    available_docs: int
    available_tokens: int
    delivered_docs: int = 0
    delivered_tokens: int = 0
    upsampled_docs: int = 0
    unique_docs: int = 0

    @property
    def deficit_tokens(self) -> int:
        if self.asked_tokens is None:
            return 0
        return max(0, self.asked_tokens - self.delivered_tokens)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "asked_tokens": self.asked_tokens,
            "available_docs": self.available_docs,
            "available_tokens": self.available_tokens,
            "delivered_docs": self.delivered_docs,
            "delivered_tokens": self.delivered_tokens,
            "unique_docs": self.unique_docs,
            "upsampled_docs": self.upsampled_docs,
            "deficit_tokens": self.deficit_tokens,
        }


def token_targets(recipe: Recipe, available: dict[str, int]) -> dict[str, int | None]:
    """Tokens asked of each source. ``None`` means "everything it has"."""
    targets: dict[str, int | None] = {}
    fixed = sum(s.tokens or 0 for s in recipe.sources)
    weighted = [s for s in recipe.sources if s.weight is not None]
    total_weight = sum(s.weight or 0.0 for s in weighted)
    for s in recipe.sources:
        if s.tokens is not None:
            targets[s.name] = s.tokens
    if not weighted:
        return targets
    if recipe.budget_tokens is not None:
        remaining = max(0, recipe.budget_tokens - fixed)
        for s in weighted:
            targets[s.name] = round(remaining * (s.weight or 0.0) / total_weight)
    else:
        # No budget: the largest mixture in which every weighted source keeps its share.
        scale = min(
            available[s.name] * s.upsample / ((s.weight or 0.0) / total_weight) for s in weighted
        )
        for s in weighted:
            targets[s.name] = int(scale * (s.weight or 0.0) / total_weight)
    return targets


def allocate(
    recipe: Recipe, pools: dict[str, list[Document]]
) -> tuple[list[Document], list[Allocation]]:
    """Seeded sampling of each source up to its token target."""
    available = {name: sum(d.n_tokens for d in docs) for name, docs in pools.items()}
    targets = token_targets(recipe, available)
    chosen: list[Document] = []
    allocations: list[Allocation] = []
    for source in recipe.sources:
        pool = pools[source.name]
        target = targets.get(source.name)
        alloc = Allocation(source.name, target, len(pool), available[source.name])
        rng = random.Random(f"{recipe.seed}:{source.name}")
        if target is None:
            picked = list(pool)
        else:
            picked = []
            tokens = 0
            # Upsampling repeats the pool (reshuffled each pass) up to ``upsample`` times its
            # size; with the default of 1 a short source simply delivers what it has.
            cap_docs = int(len(pool) * source.upsample)
            copy = 0
            while pool and tokens < target and len(picked) < cap_docs:
                order = list(pool)
                rng.shuffle(order)
                for doc in order:
                    if tokens >= target or len(picked) >= cap_docs:
                        break
                    picked.append(doc if copy == 0 else _copy(doc, copy))
                    tokens += doc.n_tokens
                copy += 1
        alloc.delivered_docs = len(picked)
        alloc.delivered_tokens = sum(d.n_tokens for d in picked)
        alloc.unique_docs = len({d.rank for d in picked})
        alloc.upsampled_docs = alloc.delivered_docs - alloc.unique_docs
        allocations.append(alloc)
        chosen.extend(picked)
    return chosen, allocations


def _copy(doc: Document, copy: int) -> Document:
    return Document(
        text=doc.text,
        source=doc.source,
        rank=doc.rank,
        provenance={**doc.provenance, "upsample_copy": copy},
        n_tokens=doc.n_tokens,
        metrics=doc.metrics,
        filters=doc.filters,
    )


# -- writing --------------------------------------------------------------------------------------


# ``json.dumps`` with any option builds a new encoder per call; these are built once.
_ID_JSON = json.JSONEncoder(sort_keys=True).encode
_LINE_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
_JSON_STRING = json.encoder.encode_basestring  # a JSON string as ensure_ascii=False writes it


def _doc_id(doc: Document) -> str:
    return hashlib.sha256(_ID_JSON([doc.source, doc.provenance]).encode()).hexdigest()[:24]


def _doc_record(doc: Document) -> dict[str, Any]:
    return {
        "id": _doc_id(doc),
        "text": doc.text,
        "source": doc.source,
        "n_tokens": doc.n_tokens,
        "provenance": doc.provenance,
    }


def _jsonl_line(doc: Document) -> str:
    """``_LINE_JSON(_doc_record(doc)) + "\n"``, written out by hand: the keys in sorted order.

    The id hashes ``[source, provenance]`` as ASCII JSON. Without a ``\\u`` escape in it
    the provenance part is also what ``ensure_ascii=False`` writes, so it is encoded once.
    """
    provenance = _ID_JSON(doc.provenance)
    source = _ID_JSON(doc.source)
    doc_id = hashlib.sha256(f"[{source}, {provenance}]".encode()).hexdigest()[:24]
    if "\\u" in provenance or "\\u" in source:
        provenance, source = _LINE_JSON(doc.provenance), _JSON_STRING(doc.source)
    return (
        f'{{"id": "{doc_id}", "n_tokens": {int(doc.n_tokens)}, "provenance": {provenance}, '
        f'"source": {source}, "text": {_JSON_STRING(doc.text)}}}\n'
    )


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _shard_bytes(docs: list[Document], fmt: str, compression: str) -> bytes:
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        records = [_doc_record(d) for d in docs]
        table = pa.Table.from_pylist(
            [{**r, "provenance": json.dumps(r["provenance"], sort_keys=True)} for r in records]
        )
        sink = io.BytesIO()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()
    data = "".join(map(_jsonl_line, docs)).encode("utf-8")
    if compression == "gzip":
        sink = io.BytesIO()
        # mtime=0 and no file name: the same records give the same bytes.
        with gzip.GzipFile(fileobj=sink, mode="wb", mtime=0, filename="") as gz:
            gz.write(data)
        return sink.getvalue()
    return data


def _prepare_out_dir(out_dir: Path) -> None:
    """Create the folder, or clear a previous export of ours; never touch anything else."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = [p for p in out_dir.iterdir() if not p.name.startswith(".")]
    if not entries:
        return
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        raise ExportError(f"{out_dir} is not empty and holds no {MANIFEST}; choose an empty folder")
    previous = json.loads(manifest.read_text("utf-8"))
    ours = {MANIFEST, *(s["file"] for s in previous.get("shards", []))}
    strangers = sorted(p.name for p in entries if p.name not in ours)
    if strangers:
        raise ExportError(f"{out_dir} holds files of no export: {', '.join(strangers[:5])}")
    for name in ours:
        (out_dir / name).unlink(missing_ok=True)


def _by_source(recipe: Recipe, docs: list[Document]) -> dict[str, list[Document]]:
    grouped: dict[str, list[Document]] = {s.name: [] for s in recipe.sources}
    for doc in docs:
        grouped[doc.source].append(doc)
    return grouped


SUMMARY_SAMPLE = 2000


def _metric_summary(docs: list[Document], seed: int) -> dict[str, Any]:
    """Counts, mean length and the means of computed metrics; distinct-2 on a seeded sample."""
    from studio.metrics.diversity import distinct_n

    summary: dict[str, Any] = {"docs": len(docs), "tokens": sum(d.n_tokens for d in docs)}
    if docs:
        sample = docs
        if len(docs) > SUMMARY_SAMPLE:
            sample = random.Random(f"{seed}:summary").sample(docs, SUMMARY_SAMPLE)
        summary["distinct_2"] = round(distinct_n([d.text for d in sample], 2), 6)
        summary["distinct_2_sample"] = len(sample)
        summary["mean_chars"] = round(sum(len(d.text) for d in docs) / len(docs), 3)
    scored = [d.metrics for d in docs if d.metrics]
    for name in ("dup_line_frac", "top_2_gram_char_frac", "compression_ratio"):
        values = [m[name] for m in scored if isinstance(m.get(name), int | float)]
        if values:
            summary[f"mean_{name}"] = round(sum(values) / len(values), 6)
    return summary


def _metric_summaries(recipe: Recipe, chosen: list[Document]) -> dict[str, Any]:
    """The summary of the whole mixture and of each source's share of it.

    A source that delivered every document has the mixture's own list (``_by_source`` keeps
    the order), so its summary is the mixture's and is not computed twice.
    """
    everything = _metric_summary(chosen, recipe.seed)
    return {
        "all": everything,
        **{
            name: everything if len(pool) == len(chosen) else _metric_summary(pool, recipe.seed)
            for name, pool in _by_source(recipe, chosen).items()
        },
    }


# -- the whole export ------------------------------------------------------------------------------


def _remove(
    recipe: Recipe, docs: list[Document], sources: dict[str, Source], progress: Progress
) -> tuple[list[Document], list[StageReport], dict[str, int], int]:
    """Exact dedup, gates, decontamination and near dedup, as the recipe asks."""
    stages: list[StageReport] = []
    if recipe.dedup.exact:
        stage = StageReport("exact_dedup")
        docs = exact_dedup(docs, recipe.dedup.keep, stage)
        stages.append(stage)

    if any(s.gates for s in recipe.sources):
        stage = StageReport("gates")
        docs = apply_gates(docs, sources, stage, progress)
        stages.append(stage)

    benchmark_sizes: dict[str, int] = {}
    if recipe.decontaminate is not None:
        stage = StageReport("decontaminate")
        d = recipe.decontaminate
        docs, benchmark_sizes = decontaminate(docs, d.against, d.ngram, d.text_field, stage)
        stages.append(stage)

    n_clusters = 0
    if recipe.dedup.near_threshold is not None:
        stage = StageReport("near_dedup")
        docs, n_clusters = near_dedup(
            docs, recipe.dedup.near_threshold, recipe.dedup.keep, stage, progress
        )
        stages.append(stage)
    return docs, stages, benchmark_sizes, n_clusters


def _stored_count(doc: Document, tokenizer: str) -> bool:
    """Take the token count stored with a scored generation, when it used ``tokenizer``."""
    from studio.tokens import DEFAULT_ENCODING

    stored = (doc.metrics or {}).get("n_tokens")
    if tokenizer != DEFAULT_ENCODING or not isinstance(stored, int) or isinstance(stored, bool):
        return False
    doc.n_tokens = stored
    return True


def export_mixture(
    recipe: Recipe,
    out_dir: Path,
    store: Store | None = None,
    progress: Progress = _no_progress,
) -> ExportResult:
    """Run every stage and write the shards and manifest into ``out_dir``."""
    from studio.tokens import TokenCountJob

    sources = {s.name: s for s in recipe.sources}
    reports = {s.name: SourceReport(s.name) for s in recipe.sources}
    docs: list[Document] = []
    for index, source in enumerate(recipe.sources):
        if source.external:
            docs.extend(external_documents(source, index, reports[source.name]))
        else:
            if store is None:
                raise ExportError(
                    f"source {source.name!r} reads stored runs but no database is open"
                )
            docs.extend(stored_documents(store, source, index, reports[source.name]))
        progress("read", index + 1, len(recipe.sources))

    empty = StageReport("empty")
    non_empty = []
    for doc in docs:
        if doc.text.strip():
            non_empty.append(doc)
        else:
            empty.drop(doc, "empty text")
    counted = non_empty

    # A stored generation scored with the recipe's tokenizer already has its count (the
    # scorer counts with tiktoken's default encoding); the others are counted by a helper
    # process while the removal stages run here; nothing before allocation reads them
    # (stage reports sum their texts' tokens at the end).
    to_count = [d for d in counted if not _stored_count(d, recipe.tokenizer)]
    token_job = TokenCountJob([d.text for d in to_count], recipe.tokenizer)
    try:
        docs, stages, benchmark_sizes, n_clusters = _remove(recipe, counted, sources, progress)
    except BaseException:
        token_job.cancel()
        raise
    stages.insert(0, empty)
    for doc, n in zip(to_count, token_job.result(), strict=True):
        doc.n_tokens = n
    progress("tokens", len(counted), len(counted))
    read_tokens = Counter[str]()
    for doc in counted:
        read_tokens[doc.source] += doc.n_tokens

    chosen, allocations = allocate(recipe, _by_source(recipe, docs))

    random.Random(f"{recipe.seed}:shuffle").shuffle(chosen)
    _prepare_out_dir(out_dir)
    fmt, compression = recipe.output.format, recipe.output.compression
    suffix = ".parquet" if fmt == "parquet" else ".jsonl.gz" if compression == "gzip" else ".jsonl"
    shards = []
    size = recipe.output.shard_docs
    n_shards = max(1, -(-len(chosen) // size))
    for number in range(n_shards):
        part = chosen[number * size : (number + 1) * size]
        data = _shard_bytes(part, fmt, compression)
        name = f"shard-{number:05d}{suffix}"
        _atomic_bytes(out_dir / name, data)
        shards.append(
            {
                "file": name,
                "docs": len(part),
                "tokens": sum(d.n_tokens for d in part),
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
        progress("write", number + 1, n_shards)

    manifest = {
        "manifest_version": MANIFEST_VERSION,
        "name": recipe.name,
        "recipe": recipe.raw,
        "recipe_file": recipe.path.name if recipe.path else None,
        "seed": recipe.seed,
        "tokenizer": recipe.tokenizer,
        "budget_tokens": recipe.budget_tokens,
        "sources": [
            {
                "name": s.name,
                "kind": "file" if s.external else "stored",
                "read_docs": reports[s.name].read,
                "read_tokens": read_tokens[s.name],
                "skipped_lines": reports[s.name].n_problems,
                "problems": reports[s.name].problems,
                **{k: v for k, v in alloc.as_dict().items() if k != "source"},
            }
            for s, alloc in zip(recipe.sources, allocations, strict=True)
        ],
        "stages": [s.as_dict() for s in stages],
        "near_dup_clusters": n_clusters,
        "decontamination_benchmarks": benchmark_sizes,
        "metrics": _metric_summaries(recipe, chosen),
        "totals": {
            "docs": len(chosen),
            "tokens": sum(d.n_tokens for d in chosen),
            "shards": len(shards),
        },
        "shards": shards,
    }
    data = (json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()
    _atomic_bytes(out_dir / MANIFEST, data)
    return ExportResult(out_dir, manifest)
