"""``--executor`` and ``--shards`` on the command line, run as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CliRunner

GRID = ["-p", "college", "-t", "physics/mechanics/newtons-laws", "-s", "story"]


@pytest.mark.parametrize(
    "args",
    [
        ["generate", *GRID, "--executor", "ray"],
        ["score", "--run", "nosuchrun", "--executor", "ray"],
    ],
)
def test_ray_without_the_extra_fails_before_anything_runs(tmp_path: Path, args: list[str]) -> None:
    # ``ray`` made unimportable, as in an install without the extra.
    code = (
        "import sys\n"
        "sys.modules['ray'] = None\n"
        "from studio.cli import main\n"
        f"main(['--db', 'studio.db', *{args!r}])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "uv sync --extra ray" in lines[0] and "synth-studio[ray]" in lines[0]
    assert not (tmp_path / "studio.db").exists()  # nothing ran, not even the store


def test_sharded_generate_then_score_on_the_local_executor(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    db = tmp_path / "s.db"
    made = run_cli(
        "--db", str(db), "generate", *GRID, "-m", "offline/instant", "-n", "8",
        "--max-tokens", "100", "--shards", "3", "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["counts"]["ok"] == 8 and summary["status"] == "done"
    assert sum(s["made"] for s in summary["shards"]) == 8
    files = list((tmp_path / "shards" / summary["run_id"] / "generate").glob("*.parquet"))
    assert len(files) == len(summary["shards"])

    scored = run_cli(
        "--db", str(db), "score", "--run", summary["run_id"], "--shards", "2", "--json",
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    report = json.loads(scored.stdout.splitlines()[-1])
    assert report["groups"][0]["n_texts"] == 8
    assert len(list((tmp_path / "shards" / summary["run_id"] / "score").glob("*.parquet"))) == 2


def test_executor_is_for_stored_runs_only(run_cli: CliRunner, tmp_path: Path) -> None:
    texts = tmp_path / "t.jsonl"
    texts.write_text('{"text": "hello there"}\n', encoding="utf-8")
    result = run_cli("score", str(texts), "--shards", "2")
    assert result.returncode == 2
    assert "--run" in result.stderr
