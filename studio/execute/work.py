"""What a worker does with one shard, wherever it runs (this process or a Ray worker).

Generation: read the shard's Parquet file, keep the rows that succeeded, generate only the
jobs without one (``generate_batch``), and write the file again, whole, atomically. Scoring:
the same with per-text scores. Nothing here touches SQLite or global state; the driver records
what comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.execute.shards import (
    ScoreRow,
    read_generations,
    read_scores,
    write_generations,
    write_scores,
)

if TYPE_CHECKING:
    from studio.generate.config import ModelRoute
    from studio.generate.spec import Job, RunSettings
    from studio.metrics.scorer import TextScorer
    from studio.store.records import Generation

# Called with the shard number before a worker starts on it. Tests inject failures with it.
ShardHook = Callable[[int], None]


@dataclass(frozen=True)
class GenerateShard:
    """One shard of a run's jobs and the file its generations go to."""

    run_id: str
    shard: int
    n_shards: int
    path: str
    jobs: tuple[Job, ...]


@dataclass(frozen=True)
class ScoreShard:
    """One shard of a run's texts, as (generation id, text), and the file its scores go to."""

    run_id: str
    shard: int
    n_shards: int
    path: str
    texts: tuple[tuple[str, str], ...]
    language: str | None
    version: str


@dataclass(frozen=True)
class ShardOutcome:
    """What one shard produced: ``made`` is new this time, ``reused`` came from its file.

    ``generations`` (generate stage) or ``scores`` (score stage) hold every row of the shard
    that the driver asked for. ``error`` is set, and the rows empty, when the shard failed.
    """

    stage: str
    shard: int
    made: tuple[str, ...] = ()
    reused: tuple[str, ...] = ()
    generations: tuple[Generation, ...] = ()
    scores: tuple[ScoreRow, ...] = ()
    error: str | None = None
    worker: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def failed(stage: str, shard: int, exc: BaseException, worker: str = "") -> ShardOutcome:
    message = " ".join(str(exc).split())[:500]
    return ShardOutcome(stage, shard, error=f"{type(exc).__name__}: {message}", worker=worker)


def _split_generation_work(
    task: GenerateShard,
) -> tuple[list[Generation], list[Job]]:
    """(rows to keep from the shard's file, jobs still to generate)."""
    wanted = {job.id for job in task.jobs}
    kept = [g for g in read_generations(Path(task.path)) if g.status == "ok" and g.id in wanted]
    done = {g.id for g in kept}
    return kept, [job for job in task.jobs if job.id not in done]


def _finish_generation_shard(
    task: GenerateShard, kept: list[Generation], made: Sequence[Generation], worker: str
) -> ShardOutcome:
    # Rows for other jobs of this shard (a resume asks only for the missing ones) stay too.
    ids = {g.id for g in kept} | {g.id for g in made}
    others = [g for g in read_generations(Path(task.path)) if g.id not in ids]
    write_generations(Path(task.path), [*others, *kept, *made])
    return ShardOutcome(
        "generate",
        task.shard,
        made=tuple(g.id for g in made),
        reused=tuple(g.id for g in kept),
        generations=tuple(sorted([*kept, *made], key=lambda g: g.id)),
        worker=worker,
    )


def generate_shard(
    task: GenerateShard,
    routes: Mapping[str, ModelRoute],
    settings: RunSettings,
    *,
    hook: ShardHook | None = None,
    worker: str = "local",
) -> ShardOutcome:
    """Generate a shard's missing jobs in this process and write its file."""
    from studio.generate.runner import generate_batch

    if hook is not None:
        hook(task.shard)
    kept, todo = _split_generation_work(task)
    made = generate_batch(todo, routes, settings, run_id=task.run_id) if todo else []
    return _finish_generation_shard(task, kept, made, worker)


async def generate_shard_async(
    task: GenerateShard,
    routes: Mapping[str, ModelRoute],
    settings: RunSettings,
    *,
    hook: ShardHook | None = None,
    worker: str = "",
) -> ShardOutcome:
    """``generate_shard`` on a running event loop (a Ray async actor's)."""
    from studio.generate.runner import generate_batch_async

    if hook is not None:
        hook(task.shard)
    kept, todo = _split_generation_work(task)
    made = await generate_batch_async(todo, routes, settings, run_id=task.run_id) if todo else []
    return _finish_generation_shard(task, kept, made, worker)


def score_shard(
    task: ScoreShard,
    scorer: TextScorer,
    *,
    hook: ShardHook | None = None,
    worker: str = "local",
) -> ShardOutcome:
    """Score a shard's texts that its file has no scores for, and write the file."""
    if hook is not None:
        hook(task.shard)
    path = Path(task.path)
    wanted = {gen_id for gen_id, _ in task.texts}
    existing = read_scores(path, task.version)
    kept = [row for row in existing if row[0] in wanted]
    done = {row[0] for row in kept}
    todo = [(gen_id, text) for gen_id, text in task.texts if gen_id not in done]
    made: list[ScoreRow] = []
    if todo:
        scores = scorer.score_batch([text for _, text in todo], task.language)
        made = [
            (gen_id, s.metrics, dict(s.filters))
            for (gen_id, _), s in zip(todo, scores, strict=True)
        ]
    others = [row for row in existing if row[0] not in wanted]
    write_scores(path, [*others, *kept, *made], task.version)
    return ShardOutcome(
        "score",
        task.shard,
        made=tuple(r[0] for r in made),
        reused=tuple(sorted(done)),
        scores=tuple(sorted([*kept, *made], key=lambda r: r[0])),
        worker=worker,
    )


@dataclass(frozen=True)
class FailOnce:
    """A ``ShardHook`` that raises for one shard the first time only (a fault drill).

    The first time is remembered in a marker file, so it holds across processes and machines
    that share ``marker``: the rerun after the failure goes through.
    """

    shard: int
    marker: str

    def __call__(self, shard: int) -> None:
        if shard != self.shard or Path(self.marker).exists():
            return
        Path(self.marker).parent.mkdir(parents=True, exist_ok=True)
        Path(self.marker).write_text(f"shard {shard} failed once\n", encoding="utf-8")
        raise RuntimeError(f"injected failure in shard {shard}")
