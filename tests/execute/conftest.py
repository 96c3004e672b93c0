"""Fixtures for the executors: the shipped library, a small offline spec, a store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.generate.spec import RunSettings, RunSpec
from studio.library import Library, load_library
from studio.store import Generation, Store

REPO = Path(__file__).resolve().parents[2]
# Comparable across executors: what a generation is, not when or how fast it was made.
SAME = ("id", "run_id", "prompt_hash", "persona_id", "topic_path", "style_id", "model",
        "sample_index", "params", "status", "text", "finish_reason", "prompt_tokens",
        "completion_tokens", "cost_usd")  # fmt: skip


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(REPO / "personas")


def offline_spec(samples: int = 12, **changes: object) -> RunSpec:
    spec = RunSpec(
        personas=("college",),
        topics=("physics/mechanics/newtons-laws",),
        styles=("story", "textbook-academic"),
        models=("offline/instant",),
        samples=samples,
        max_tokens=120,
        seed=7,
        settings=RunSettings(concurrency=8),
    )
    return spec if not changes else RunSpec(**{**spec.__dict__, **changes})  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "studio.db") as s:
        yield s


def comparable(gens: list[Generation]) -> list[tuple[object, ...]]:
    return [tuple(getattr(g, k) for k in SAME) for g in sorted(gens, key=lambda g: g.id)]
