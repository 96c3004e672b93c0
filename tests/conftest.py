"""Fixtures shared by every test: an isolated studio home, library copies, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHIPPED_LIBRARY = REPO / "personas"

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True)
def isolated_studio_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the user's data dir, database or library from a test."""
    home = tmp_path / "studio-home"
    monkeypatch.setenv("STUDIO_HOME", str(home))
    for name in ("STUDIO_DB", "STUDIO_LIBRARY"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped library."""
    target = tmp_path / "personas"
    shutil.copytree(SHIPPED_LIBRARY, target)
    return target


@pytest.fixture
def run_cli(tmp_path: Path) -> CliRunner:
    """Run ``studio`` in a subprocess the way a user does, from ``tmp_path`` by default."""

    def run(
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "studio", *args],
            cwd=cwd or tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
