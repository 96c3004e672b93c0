"""sample_runs/ is what the shipped suites produce on the offline model, and is not stale."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.conftest import CliRunner

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_runs"


def test_committed_sample_runs_are_not_stale(tmp_path: Path) -> None:
    """Rebuild into a temporary folder: the summary must match the committed one exactly."""
    out = tmp_path / "rebuilt"
    subprocess.run(
        [sys.executable, str(REPO / "evals" / "build_sample_runs.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    rebuilt = json.loads((out / "summary.json").read_text("utf-8"))
    committed = json.loads((SAMPLES / "summary.json").read_text("utf-8"))
    assert rebuilt == committed, (
        "sample_runs/ is stale: run `uv run python evals/build_sample_runs.py` and commit it"
    )
    assert all(suite["passed"] for suite in committed["suites"])


def test_sample_database_opens_with_scored_runs(run_cli: CliRunner) -> None:
    runs = json.loads(run_cli("--db", str(SAMPLES / "studio.db"), "runs", "list", "--json").stdout)
    assert sorted(r["name"] for r in runs) == [
        "eval: audiences",
        "eval: chinese-textbooks",
        "eval: regression",
    ]
    assert all(r["status"] == "done" and r["counts"]["error"] == 0 for r in runs)


def test_sample_mixture_manifest_matches_its_shards() -> None:
    manifest = json.loads((SAMPLES / "mixture" / "manifest.json").read_text("utf-8"))
    total = 0
    for shard in manifest["shards"]:
        data = (SAMPLES / "mixture" / shard["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        total += len(data.splitlines())
    assert total == manifest["totals"]["docs"] > 0
    assert {s["name"] for s in manifest["sources"]} == {"textbooks-en", "textbooks-zh", "web"}


def test_first_start_begins_with_a_copy_of_the_sample_runs(tmp_path: Path) -> None:
    from studio.paths import seed_first_start
    from studio.store import Store

    db = tmp_path / "home" / "studio.db"
    assert seed_first_start(db) is True
    with Store(db) as store:
        assert len(store.list_runs()) == 3
    # Never again once the database exists, and never over someone's data.
    db.write_bytes(b"not a copy")
    assert seed_first_start(db) is False
    assert db.read_bytes() == b"not a copy"
    assert (SAMPLES / "studio.db").read_bytes()[:16] == b"SQLite format 3\x00"
