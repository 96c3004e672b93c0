"""Executors map the shard work of ``studio.execute.work`` over shards.

``LocalExecutor`` (the default) runs shards one after another in this process. ``RayExecutor``
(``studio.execute.ray_executor``, the optional ``ray`` extra) runs them on a Ray cluster. Both
yield one ``ShardOutcome`` per shard as it ends; a shard that raises becomes an outcome with
``error`` set, so the other shards still finish and the driver can tell the user which failed.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from studio.execute.work import (
    GenerateShard,
    ScoreShard,
    ShardHook,
    ShardOutcome,
    failed,
    generate_shard,
    score_shard,
)

if TYPE_CHECKING:
    from studio.generate.config import ModelRoute
    from studio.generate.spec import RunSettings

EXECUTORS = ("local", "ray")
RAY_MISSING = (
    "--executor ray needs the optional ray extra: run `uv sync --extra ray` "
    "(or `pip install 'synth-studio[ray]'`)"
)


class RayUnavailableError(RuntimeError):
    """``ray`` is not installed."""


class Executor(Protocol):
    name: str

    def generate(
        self,
        shards: Sequence[GenerateShard],
        routes: Mapping[str, ModelRoute],
        settings: RunSettings,
    ) -> Iterator[ShardOutcome]: ...

    def score(self, shards: Sequence[ScoreShard]) -> Iterator[ShardOutcome]: ...

    def close(self) -> None: ...


def ray_available() -> bool:
    """Whether ``ray`` can be imported, found without importing it (which takes seconds)."""
    if "ray" in sys.modules:
        return sys.modules["ray"] is not None
    try:
        return importlib.util.find_spec("ray") is not None
    except (ImportError, ValueError):
        return False


class LocalExecutor:
    """Shards one after another in this process, each with the run's own concurrency."""

    name = "local"

    def __init__(self, *, hook: ShardHook | None = None) -> None:
        self.hook = hook

    def generate(
        self,
        shards: Sequence[GenerateShard],
        routes: Mapping[str, ModelRoute],
        settings: RunSettings,
    ) -> Iterator[ShardOutcome]:
        for task in shards:
            try:
                yield generate_shard(task, routes, settings, hook=self.hook)
            except Exception as exc:  # reported to the driver, which tells the user
                yield failed("generate", task.shard, exc, "local")

    def score(self, shards: Sequence[ScoreShard]) -> Iterator[ShardOutcome]:
        from studio.scoring import build_scorer

        scorer = build_scorer()
        for task in shards:
            try:
                yield score_shard(task, scorer, hook=self.hook)
            except Exception as exc:
                yield failed("score", task.shard, exc, "local")

    def close(self) -> None:
        pass

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(
    name: str,
    *,
    hook: ShardHook | None = None,
    workers: int | None = None,
    address: str | None = None,
) -> Executor:
    """The executor called ``name``; ``ray`` raises RayUnavailableError without the extra."""
    if name == "local":
        return LocalExecutor(hook=hook)
    if name == "ray":
        if not ray_available():
            raise RayUnavailableError(RAY_MISSING)
        from studio.execute.ray_executor import RayExecutor

        return RayExecutor(hook=hook, workers=workers, address=address)
    raise ValueError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
