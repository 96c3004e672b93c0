"""The driver: splits a run into shards, hands them to an executor, and records the results.

Only the driver writes SQLite. Workers write their shard's Parquet file and return its rows;
the driver commits each shard's generations (or scores) in one transaction as the shard ends,
so a failure loses nothing that finished. A rerun (``--resume``) plans only the jobs without a
successful generation, and each worker skips what its shard file already holds: together they
generate only the missing ids.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.execute.shards import shard_path, split_by_shard
from studio.execute.work import GenerateShard, ScoreShard, ShardOutcome

if TYPE_CHECKING:
    from collections.abc import Callable

    from studio.execute.executor import Executor
    from studio.generate.events import RunSummary
    from studio.generate.session import PreparedRun
    from studio.scoring import RunScores
    from studio.store import Store

DEFAULT_SHARDS = 8


class ShardsFailedError(RuntimeError):
    """Some shards raised; the others' results are recorded."""

    def __init__(self, outcomes: list[ShardOutcome]) -> None:
        self.outcomes = outcomes
        first = outcomes[0]
        super().__init__(
            f"{len(outcomes)} shard(s) failed, first shard {first.shard}: {first.error}"
        )


@dataclass(frozen=True)
class ShardedRun:
    """A sharded generation session: the usual summary plus what each shard did."""

    summary: RunSummary
    n_shards: int
    outcomes: tuple[ShardOutcome, ...]

    @property
    def failed(self) -> list[ShardOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def made(self) -> list[str]:
        """Ids generated in this session (not taken from a shard file)."""
        return sorted(i for o in self.outcomes for i in o.made)

    def shard_report(self) -> list[dict[str, Any]]:
        return [
            {"shard": o.shard, "made": len(o.made), "reused": len(o.reused), "error": o.error,
             "worker": o.worker}
            for o in sorted(self.outcomes, key=lambda o: o.shard)
        ]  # fmt: skip


def generation_shards(
    prepared: PreparedRun, n_shards: int, root: Path | str
) -> list[GenerateShard]:
    """The pending jobs of a prepared run, grouped by shard (shards with no job are left out)."""
    run_id = prepared.run.id
    groups = split_by_shard(prepared.pending, (j.id for j in prepared.pending), n_shards)
    return [
        GenerateShard(
            run_id,
            shard,
            n_shards,
            str(shard_path(root, run_id, "generate", shard, n_shards)),
            tuple(jobs),
        )
        for shard, jobs in groups.items()
    ]


def generate_sharded(
    store: Store,
    prepared: PreparedRun,
    executor: Executor,
    *,
    n_shards: int = DEFAULT_SHARDS,
    root: Path | str,
    on_shard: Callable[[ShardOutcome], None] | None = None,
) -> ShardedRun:
    """Run a prepared run's pending jobs shard by shard and record each shard as it ends."""
    from studio.generate.events import RunSummary

    started = time.monotonic()
    run_id = prepared.run.id
    tasks = generation_shards(prepared, n_shards, root)
    outcomes: list[ShardOutcome] = []
    counts = {"ok": 0, "error": 0, "cancelled": 0}
    tokens = [0, 0]
    cost: float | None = None
    store.set_run_status(run_id, "running")
    status = "interrupted"  # unless the loop below ends: Ctrl+C, a crash
    try:
        settings = prepared.plan.spec.settings
        for outcome in executor.generate(tasks, prepared.routes, settings):
            outcomes.append(outcome)
            if outcome.generations:
                store.record_generations(outcome.generations)
            for g in outcome.generations:
                counts[g.status] += 1
                tokens[0] += g.prompt_tokens or 0
                tokens[1] += g.completion_tokens or 0
                if g.cost_usd is not None:
                    cost = (cost or 0.0) + g.cost_usd
            if on_shard is not None:
                on_shard(outcome)
        # As RunSession decides, plus: a shard that raised leaves the run failed (resumable).
        some_ok = counts["ok"] or prepared.skipped or not counts["error"]
        status = "done" if some_ok and all(o.ok for o in outcomes) else "failed"
    finally:
        store.set_run_status(run_id, status)
    summary = RunSummary(
        run_id=run_id,
        n_jobs=len(prepared.plan.jobs),
        ok=counts["ok"],
        error=counts["error"],
        cancelled=counts["cancelled"],
        skipped=prepared.skipped,
        prompt_tokens=tokens[0],
        completion_tokens=tokens[1],
        cost_usd=cost,
        elapsed_s=time.monotonic() - started,
    )
    return ShardedRun(summary, n_shards, tuple(sorted(outcomes, key=lambda o: o.shard)))


def score_run_sharded(
    store: Store,
    run_id: str,
    executor: Executor,
    *,
    n_shards: int = DEFAULT_SHARDS,
    root: Path | str,
    language: str | None = None,
) -> RunScores:
    """``studio.scoring.score_run`` with the per-text scoring mapped over shards.

    Per-text scores are computed by the executor; the set metrics (which need every text of
    the run at once) are computed here, as in a local scoring. Raises ShardsFailedError,
    storing nothing, when any shard failed: a rerun scores only what the shard files lack.
    """
    from studio.metrics.scorer import TextScore
    from studio.scoring import METRICS_VERSION, NothingToScoreError, save_scores

    run = store.get_run(run_id)
    gens = [g for g in store.generations(run.id, status="ok") if g.text and g.text.strip()]
    if not gens:
        raise NothingToScoreError(f"run {run.id} has no generated text to score")
    groups = split_by_shard(gens, (g.id for g in gens), n_shards)
    tasks = [
        ScoreShard(
            run.id,
            shard,
            n_shards,
            str(shard_path(root, run.id, "score", shard, n_shards)),
            tuple((g.id, g.text or "") for g in members),
            language,
            METRICS_VERSION,
        )
        for shard, members in groups.items()
    ]
    outcomes = list(executor.score(tasks))
    failures = [o for o in outcomes if not o.ok]
    if failures:
        raise ShardsFailedError(sorted(failures, key=lambda o: o.shard))
    by_id = {row[0]: row for o in outcomes for row in o.scores}
    scores = [TextScore(by_id[g.id][1], by_id[g.id][2]) for g in gens]
    return save_scores(store, run, gens, scores)


def default_shard_root(db_path: Path) -> Path:
    """Shard files live beside the database, under ``shards/``, unless told otherwise."""
    return db_path.parent / "shards"
