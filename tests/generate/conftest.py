"""Fixtures for generation tests: the loopback server, the library, routes, a store."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.generate.config import ModelConfig, ModelRoute, resolve_model
from studio.generate.spec import RunSettings
from studio.library import Library, load_library
from tests.generate.loopback import LoopbackServer

REPO = Path(__file__).resolve().parents[2]
_names = itertools.count()


@pytest.fixture(scope="session")
def loopback() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """A model name of this test's own, so server scripts never leak between tests."""
    return f"m{next(_names)}-{request.node.name[:40]}"


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library(REPO / "personas")


@pytest.fixture
def fast_settings() -> RunSettings:
    """Short timeouts and backoff so fault tests finish quickly, even on a loaded machine."""
    return RunSettings(
        concurrency=4,
        timeout=2.0,
        max_attempts=4,
        backoff_base=0.01,
        backoff_cap=0.05,
        retry_after_cap=5.0,
    )


def loopback_route(server: LoopbackServer, model: str, key_env: str | None = None) -> ModelRoute:
    return resolve_model(model, ModelConfig(), api_base=server.base_url, api_key_env=key_env)
