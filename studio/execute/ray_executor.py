"""The Ray executor (optional extra ``ray``): shards on a Ray cluster, ours or a running one.

Generation runs in async actors, one per group of shards, each running our own ``Runner``
(adaptive concurrency, retries, rate limits) on its event loop: one shard at a time per actor,
so the calls in flight are at most actors x ``--concurrency``. ``ray.data.llm`` is not used: its
HTTP processor sent one request at a time here (DESIGN 7). Scoring runs as one Ray task per
shard. Ray is imported only when this executor is built: it costs seconds and ~450 MB.

Without ``RAY_ADDRESS`` (or ``address=``) a local Ray instance is started with a small object
store and no dashboard; with it, the executor joins that cluster. Shard files must then live
on storage every node sees (``--shard-dir``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from studio.execute.work import (
    GenerateShard,
    ScoreShard,
    ShardHook,
    ShardOutcome,
    failed,
    generate_shard_async,
    score_shard,
)

if TYPE_CHECKING:
    from studio.generate.config import ModelRoute
    from studio.generate.spec import RunSettings
    from studio.metrics.scorer import TextScorer

OBJECT_STORE_BYTES = 100 * 1024 * 1024


def connect(address: str | None = None) -> tuple[Any, bool]:
    """(the ray module, whether we started it). Joins a running session when there is one."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Under `uv run`, Ray would start every worker with `uv run` in a copy of the working
    # directory, which syncs the project without the `ray` extra: workers then cannot import
    # ray and the actors are never scheduled. Workers use this interpreter instead.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    import ray

    if ray.is_initialized():
        return ray, False
    address = address or os.environ.get("RAY_ADDRESS") or None
    # Workers print to their own logs: on the driver's stdout they would corrupt --json.
    common: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        ray.init(address=address, **common)
    else:
        ray.init(object_store_memory=OBJECT_STORE_BYTES, include_dashboard=False, **common)
    return ray, True


class GenerationWorker:
    """An async actor: shards of jobs in, generations out, on one event loop."""

    def __init__(self) -> None:
        self.name = f"ray:{os.uname().nodename}:{os.getpid()}"

    async def generate(
        self,
        task: GenerateShard,
        routes: Mapping[str, ModelRoute],
        settings: RunSettings,
        hook: ShardHook | None,
    ) -> ShardOutcome:
        return await generate_shard_async(task, routes, settings, hook=hook, worker=self.name)


@lru_cache(maxsize=1)
def _worker_scorer() -> TextScorer:
    """One scorer per Ray worker process, kept for the shards it scores next."""
    from studio.scoring import build_scorer

    return build_scorer()


def _score_task(task: ScoreShard, hook: ShardHook | None) -> ShardOutcome:
    worker = f"ray:{os.uname().nodename}:{os.getpid()}"
    return score_shard(task, _worker_scorer(), hook=hook, worker=worker)


class RayExecutor:
    """Shards on Ray. ``workers``: generation actors (default: the cluster's CPU count)."""

    name = "ray"

    def __init__(
        self,
        *,
        hook: ShardHook | None = None,
        workers: int | None = None,
        address: str | None = None,
    ) -> None:
        self.hook = hook
        self._ray, self._started = connect(address)
        cpus = int(self._ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, workers or cpus)
        self._actors: list[Any] = []
        self._score_remote = self._ray.remote(_score_task)

    def _pool(self, size: int) -> list[Any]:
        """At least ``size`` actors (up to ``workers``), kept for later runs of this executor."""
        wanted = min(size, self.workers)
        if len(self._actors) < wanted:
            # Generation waits on the network, not the CPU: a fraction of a CPU each lets
            # scoring tasks be scheduled beside the actors on a small machine.
            actor_class = self._ray.remote(num_cpus=0.25, max_concurrency=1)(GenerationWorker)
            self._actors += [actor_class.remote() for _ in range(wanted - len(self._actors))]
        return self._actors[:wanted]

    def _collect(self, refs: dict[Any, tuple[str, int]]) -> Iterator[ShardOutcome]:
        pending = list(refs)
        while pending:
            done, pending = self._ray.wait(pending, num_returns=1)
            for ref in done:
                stage, shard = refs[ref]
                try:
                    yield self._ray.get(ref)
                except Exception as exc:  # RayTaskError wraps the worker's: report the shard
                    cause = getattr(exc, "cause", None)
                    yield failed(stage, shard, cause if cause is not None else exc, "ray")

    def generate(
        self,
        shards: Sequence[GenerateShard],
        routes: Mapping[str, ModelRoute],
        settings: RunSettings,
    ) -> Iterator[ShardOutcome]:
        if not shards:
            return iter(())
        actors = self._pool(len(shards))
        routes = dict(routes)
        refs = {
            actors[i % len(actors)].generate.remote(task, routes, settings, self.hook): (
                "generate",
                task.shard,
            )
            for i, task in enumerate(shards)
        }
        return self._collect(refs)

    def score(self, shards: Sequence[ScoreShard]) -> Iterator[ShardOutcome]:
        refs = {
            self._score_remote.remote(task, self.hook): ("score", task.shard) for task in shards
        }
        return self._collect(refs)

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        if self._started:
            self._ray.shutdown()
            self._started = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
