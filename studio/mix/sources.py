"""Reading a recipe's sources: stored generations and external JSONL or Parquet files.

Each text becomes a ``Document`` that remembers where it came from (generation id, run,
persona, topic, style and model; or file and line), so every line of every shard can be traced.
Bad lines of an external file are reported with their line numbers, never fatal.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.metrics.script import lone_surrogate

if TYPE_CHECKING:
    from studio.mix.recipe import Source
    from studio.store import Store

MAX_REPORTED_PROBLEMS = 50


@dataclass
class Document:
    """One candidate text. ``rank`` orders documents across sources: (source index, position)."""

    text: str
    source: str
    rank: tuple[int, int]
    provenance: dict[str, Any]
    n_tokens: int = 0
    metrics: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None


@dataclass
class SourceReport:
    """What reading one source found."""

    name: str
    read: int = 0
    problems: list[str] = field(default_factory=list)
    n_problems: int = 0

    def problem(self, message: str) -> None:
        self.n_problems += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(message)


def stored_documents(
    store: Store, source: Source, source_index: int, report: SourceReport
) -> Iterator[Document]:
    """Successful generations matching the source's filters, in job-id order."""
    sql = (
        "SELECT g.id, g.run_id, g.persona_id, g.topic_path, g.style_id, g.model, g.text,"
        " m.metrics, m.filters FROM generations g"
        " LEFT JOIN text_metrics m ON m.generation_seq = g.seq"
        " WHERE g.status = 'ok' AND g.text IS NOT NULL"
    )
    params: list[Any] = []
    for column, values in (
        ("g.run_id", _resolve_runs(store, source.runs)),
        ("g.persona_id", source.personas),
        ("g.style_id", source.styles),
        ("g.model", source.models),
    ):
        if values:
            sql += f" AND {column} IN ({', '.join('?' * len(values))})"
            params += list(values)
    if source.topics:
        clauses = []
        for topic in source.topics:
            clauses.append("(g.topic_path = ? OR g.topic_path LIKE ? ESCAPE '\\')")
            escaped = (
                topic.rstrip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            params += [topic.rstrip("/"), escaped + "/%"]
        sql += " AND (" + " OR ".join(clauses) + ")"
    # By job id (a content hash): the order, and so the seeded sample, does not depend on the
    # order in which generations happened to finish or on run ids.
    sql += " ORDER BY g.id, g.run_id"
    rows = store.conn.execute(sql, params)
    for position, (
        gen_id,
        run_id,
        persona,
        topic,
        style,
        model,
        text,
        metrics,
        filters,
    ) in enumerate(rows):
        report.read += 1
        yield Document(
            text=text,
            source=source.name,
            rank=(source_index, position),
            provenance={
                "generation_id": gen_id,
                "run_id": run_id,
                "persona": persona,
                "topic": topic,
                "style": style,
                "model": model,
            },
            metrics=json.loads(metrics) if metrics else None,
            filters=json.loads(filters) if filters else None,
        )


def _resolve_runs(store: Store, runs: tuple[str, ...]) -> tuple[str, ...]:
    """Full run ids for the ids or unique prefixes a recipe names."""
    return tuple(store.get_run(run).id for run in runs)


def external_documents(
    source: Source, source_index: int, report: SourceReport
) -> Iterator[Document]:
    assert source.path is not None
    if source.path.suffix == ".parquet":
        yield from _parquet_documents(source, source_index, report)
    else:
        yield from _jsonl_documents(source, source_index, report)


def read_jsonl_texts(
    path: Path, text_field: str, report: SourceReport
) -> Iterator[tuple[int, str]]:
    """(line number, text) for each usable line; problems go to ``report``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                report.problem(f"{path.name}:{number}: not valid UTF-8 at byte {exc.start}")
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                report.problem(f"{path.name}:{number}: invalid JSON: {exc.msg}")
                continue
            if not isinstance(record, dict) or text_field not in record:
                report.problem(f"{path.name}:{number}: no {text_field!r} field")
                continue
            text = record[text_field]
            if not isinstance(text, str):
                report.problem(f"{path.name}:{number}: {text_field!r} is not a string")
                continue
            at = lone_surrogate(text)
            if at >= 0:
                report.problem(
                    f"{path.name}:{number}: lone surrogate U+{ord(text[at]):04X} "
                    f"at character {at} (not valid text)"
                )
                continue
            yield number, text


def _jsonl_documents(source: Source, source_index: int, report: SourceReport) -> Iterator[Document]:
    assert source.path is not None
    for position, (number, text) in enumerate(
        read_jsonl_texts(source.path, source.text_field, report)
    ):
        report.read += 1
        yield Document(
            text=text,
            source=source.name,
            rank=(source_index, position),
            provenance={"file": source.path.name, "line": number},
        )


def _parquet_documents(
    source: Source, source_index: int, report: SourceReport
) -> Iterator[Document]:
    import pyarrow.parquet as pq

    assert source.path is not None
    table = pq.read_table(source.path, columns=[source.text_field])
    for row, text in enumerate(table.column(source.text_field).to_pylist()):
        if not isinstance(text, str):
            report.problem(f"{source.path.name}: row {row}: {source.text_field!r} is not a string")
            continue
        report.read += 1
        yield Document(
            text=text,
            source=source.name,
            rank=(source_index, row),
            provenance={"file": source.path.name, "row": row},
        )
