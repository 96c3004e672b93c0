"""Deterministic shards and their Parquet files.

A job belongs to shard ``int(id[:16], 16) % n``: its id is a SHA-256, so the split is even and
the same on every machine and in every process. Each (run, stage, shard) has one Parquet file
holding every row that shard has produced so far. It is always written whole to a temporary
name and moved into place with ``os.replace``, so a reader sees the old file or the new one,
never half of one, and a worker that dies mid-shard leaves the previous file intact.

pyarrow is imported inside the functions that need it: importing this module stays cheap.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import pyarrow as pa

    from studio.store.records import Generation

STAGES = ("generate", "score")
_HEX = 16  # the id prefix read as a number: 64 bits are plenty to spread any shard count
T = TypeVar("T")


def shard_of(item_id: str, n_shards: int) -> int:
    """The shard of a job (or generation) id: its first 16 hex digits modulo the shard count."""
    if n_shards < 1:
        raise ValueError("the shard count must be at least 1")
    return int(item_id[:_HEX], 16) % n_shards


def split_by_shard(items: Iterable[T], ids: Iterable[str], n_shards: int) -> dict[int, list[T]]:
    """Items grouped by the shard of their id, keeping their order; empty shards are left out."""
    groups: dict[int, list[T]] = {}
    for item, item_id in zip(items, ids, strict=True):
        groups.setdefault(shard_of(item_id, n_shards), []).append(item)
    return dict(sorted(groups.items()))


def shard_path(root: Path | str, run_id: str, stage: str, shard: int, n_shards: int) -> Path:
    """``ROOT/RUN/STAGE/shard-00003-of-00008.parquet``.

    The count is in the name: a run resumed with another ``--shards`` finds no stale file whose
    rows belong to other shards (the store still knows what is done).
    """
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    return Path(root) / run_id / stage / f"shard-{shard:05d}-of-{n_shards:05d}.parquet"


def write_table_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to a temporary file beside ``path``, then move it into place."""
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> pa.Table | None:
    import pyarrow.parquet as pq

    if not path.exists():
        return None
    return pq.read_table(path)


# -- generation rows ---------------------------------------------------------------------------


def _generation_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("id", pa.string()),
            ("run_id", pa.string()),
            ("prompt_hash", pa.string()),
            ("persona_id", pa.string()),
            ("topic_path", pa.string()),
            ("style_id", pa.string()),
            ("model", pa.string()),
            ("sample_index", pa.int64()),
            ("params", pa.string()),  # JSON, as in the store
            ("status", pa.string()),
            ("text", pa.string()),
            ("finish_reason", pa.string()),
            ("error_class", pa.string()),
            ("error_message", pa.string()),
            ("prompt_tokens", pa.int64()),
            ("completion_tokens", pa.int64()),
            ("tokens_estimated", pa.bool_()),
            ("cost_usd", pa.float64()),
            ("latency_ms", pa.float64()),
            ("ttft_ms", pa.float64()),
            ("attempts", pa.int64()),
            ("created_at", pa.string()),
        ]
    )


def write_generations(path: Path, generations: Sequence[Generation]) -> None:
    import pyarrow as pa

    rows = []
    for g in sorted(generations, key=lambda g: g.id):
        row = g.as_dict()
        row["params"] = json.dumps(g.params, sort_keys=True)
        rows.append(row)
    write_table_atomic(pa.Table.from_pylist(rows, schema=_generation_schema()), path)


def read_generations(path: Path) -> list[Generation]:
    """The generations in a shard file, sorted by id; none when there is no file yet."""
    from studio.store.records import Generation

    table = _read(path)
    if table is None:
        return []
    names = [f.name for f in _generation_schema()]
    out = []
    for row in table.select(names).to_pylist():
        row["params"] = json.loads(row["params"])
        out.append(Generation(**row))
    return out


# -- per-text score rows -----------------------------------------------------------------------

ScoreRow = tuple[str, dict[str, Any], dict[str, Any]]  # (generation id, metrics, filters)


def _score_schema() -> pa.Schema:
    import pyarrow as pa

    # Metrics and filters are JSON text: their keys are a contract (DESIGN 5) that grows, and
    # JSON round-trips floats exactly, so Ray and local runs store the very same numbers.
    return pa.schema(
        [
            ("id", pa.string()),
            ("version", pa.string()),
            ("metrics", pa.string()),
            ("filters", pa.string()),
        ]
    )


def write_scores(path: Path, rows: Sequence[ScoreRow], version: str) -> None:
    import pyarrow as pa

    table = pa.Table.from_pylist(
        [
            {"id": i, "version": version, "metrics": json.dumps(m), "filters": json.dumps(f)}
            for i, m, f in sorted(rows, key=lambda r: r[0])
        ],
        schema=_score_schema(),
    )
    write_table_atomic(table, path)


def read_scores(path: Path, version: str) -> list[ScoreRow]:
    """The score rows in a shard file made by metrics ``version``; others are stale."""
    table = _read(path)
    if table is None:
        return []
    return [
        (row["id"], json.loads(row["metrics"]), json.loads(row["filters"]))
        for row in table.to_pylist()
        if row["version"] == version
    ]
