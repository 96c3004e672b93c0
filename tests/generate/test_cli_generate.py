"""`studio generate` as a user runs it: a subprocess, offline and against the loopback server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tests.generate.loopback import LoopbackServer

REPO = Path(__file__).resolve().parents[2]
GRID = ["-p", "college", "-t", "physics/mechanics/newtons-laws", "-s", "story"]
CliRunner = Callable[..., subprocess.CompletedProcess[str]]


def studio_env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "STUDIO_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200", **extra}


def read_run(db: Path) -> dict[str, Any] | None:
    """The newest run's counters, read-only, while another process may be writing."""
    if not db.exists():
        return None
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute(
            "SELECT id, status, n_jobs, n_ok, n_error, n_cancelled FROM runs"
            " ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    except sqlite3.OperationalError:  # the schema is still being created
        return None
    finally:
        conn.close()
    if row is None:
        return None
    keys = ("id", "status", "n_jobs", "n_ok", "n_error", "n_cancelled")
    return dict(zip(keys, row, strict=True))


def generations(db: Path, run_id: str) -> list[tuple[str, str, str | None, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(
            "SELECT id, status, text, created_at FROM generations WHERE run_id = ? ORDER BY id",
            (run_id,),
        ).fetchall()
    finally:
        conn.close()


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_offline_generate_twenty_and_show(run_cli: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    done = run_cli(
        "--db",
        str(db),
        "generate",
        *GRID,
        "--model",
        "offline/fast",
        "-n",
        "20",
        "--max-tokens",
        "200",
        "--json",
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["counts"] == {"ok": 20, "error": 0, "cancelled": 0}
    assert summary["status"] == "done"
    shown = run_cli("--db", str(db), "runs", "show", summary["run_id"], "--json")
    assert shown.returncode == 0, shown.stderr
    gens = json.loads(shown.stdout)["generations"]
    assert len({g["id"] for g in gens}) == 20
    assert all(g["text"] and g["model"] == "offline/fast" for g in gens)
    assert len({g["text"] for g in gens}) == 20  # one seed per sample
    assert all(g["cost_usd"] == 0.0 and g["completion_tokens"] <= 200 for g in gens)


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ("nosuchprovider/x", "unknown provider"),
        ("openai/gpt-99-nonexistent", "unknown model"),
        ("openai/gpt-4o-mini", "OPENAI_API_KEY"),
    ],
)
def test_unknown_model_fails_before_the_run(
    run_cli: CliRunner, tmp_path: Path, model: str, needle: str
) -> None:
    db = tmp_path / "s.db"
    env = {"OPENAI_API_KEY": ""}
    done = run_cli("--db", str(db), "generate", *GRID, "--model", model, env=env)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0], done.stderr
    listed = run_cli("--db", str(db), "runs", "list", "--json")
    assert json.loads(listed.stdout) == []


def start_generate(tmp_path: Path, args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "--db", str(tmp_path / "s.db"), "generate", *args],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("how", "transport"),
    [(signal.SIGINT, "litellm"), (signal.SIGKILL, "auto")],
    ids=["sigint-litellm", "sigkill-direct"],
)
def test_resume_after_interrupt_loses_and_duplicates_nothing(
    tmp_path: Path, loopback: LoopbackServer, model_name: str, how: signal.Signals, transport: str
) -> None:
    db = tmp_path / "s.db"
    total = 10
    loopback.script(model_name, chunk_delay=0.04, words=20)  # ~1 s per generation
    env = studio_env(tmp_path / "home")
    args = [
        *GRID,
        "--model",
        model_name,
        "--api-base",
        loopback.base_url,
        "-n",
        str(total),
        "--concurrency",
        "2",
        "--transport",
        transport,
        "--json",
    ]
    proc = start_generate(tmp_path, args, env)
    try:
        wait_for(lambda: (read_run(db) or {}).get("n_ok", 0) >= 3, 120, "3 finished generations")
        proc.send_signal(how)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    run = read_run(db)
    assert run is not None
    before = {g[0]: g for g in generations(db, run["id"]) if g[1] == "ok"}
    assert len(before) >= 3
    if how is signal.SIGINT:
        assert proc.returncode == 130, stderr
        assert run["status"] == "interrupted"
        assert run["n_ok"] + run["n_cancelled"] == total and run["n_error"] == 0
        assert "--resume" in stderr
    else:
        assert proc.returncode == -signal.SIGKILL
        assert run["n_cancelled"] == 0 and run["status"] == "running"
    requests_before = len(loopback.requests_for(model_name))

    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "studio",
            "--db",
            str(db),
            "generate",
            "--resume",
            run["id"][:15],
            "--transport",
            transport,
            "--json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["run_id"] == run["id"]
    assert summary["counts"] == {"ok": total, "error": 0, "cancelled": 0}
    assert summary["session"]["skipped"] == len(before)
    after = generations(db, run["id"])
    assert len(after) == total == len({g[0] for g in after})
    assert all(g[1] == "ok" and g[2] for g in after)
    # Finished generations were kept as they were, and only the missing ones were asked for.
    for gen_id, old in before.items():
        assert next(g for g in after if g[0] == gen_id) == old
    assert len(loopback.requests_for(model_name)) - requests_before == total - len(before)


def test_help_and_engine_import_leave_litellm_alone(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from studio.cli import main\n"
        "for args in (['--help'], ['generate', '--help'], ['models', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "import studio.generate\n"
        "print('LITELLM', 'litellm' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=studio_env(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "--resume" in done.stdout and "--api-base" in done.stdout
    assert done.stdout.strip().endswith("LITELLM False")
