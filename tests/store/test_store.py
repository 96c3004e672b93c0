"""The SQLite store: schema, migrations, WAL, counters, search."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from studio.prompts import Message, Prompt
from studio.store import (
    SCHEMA_VERSION,
    Generation,
    RunNotFoundError,
    SchemaTooNewError,
    Store,
    resolve_db_path,
)

PROMPT = Prompt(
    (Message("user", "Write about forces."),), "college", "physics/forces", "story", "en"
)


def _generation(store: Store, run_id: str, job: str, **changes: object) -> Generation:
    store.save_prompt(PROMPT)
    base = Generation(
        id=job,
        run_id=run_id,
        prompt_hash=PROMPT.hash,
        model="offline/default",
        sample_index=0,
        params={"temperature": 0.7},
        status="ok",
        persona_id="college",
        topic_path="physics/forces",
        style_id="story",
        text="A force is a push or a pull.",
        prompt_tokens=10,
        completion_tokens=8,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_new_database_is_wal_with_schema_and_tables(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "runs",
        "prompts",
        "generations",
        "text_metrics",
        "run_metrics",
        "mixtures",
        "generations_fts",
    } <= tables
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"runs_created_at", "generations_run_status"} <= indexes


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    with Store(path) as store:
        run = store.create_run({"k": 1})
    with Store(path) as store:
        assert store.get_run(run.id).spec == {"k": 1}


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer than this studio"):
        Store(path)


def test_counters_follow_replaced_generations(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        run = store.create_run({}, n_jobs=2)
        store.record_generation(
            _generation(
                store,
                run.id,
                "j1",
                status="error",
                text=None,
                error_class="RateLimit",
                prompt_tokens=None,
                completion_tokens=None,
            )
        )
        assert (store.get_run(run.id).n_error, store.get_run(run.id).n_ok) == (1, 0)
        store.record_generation(_generation(store, run.id, "j1", cost_usd=0.002, attempts=2))
        store.record_generation(_generation(store, run.id, "j2", cost_usd=None))
        summary = store.get_run(run.id)
        assert (summary.n_ok, summary.n_error, summary.n_cancelled) == (2, 0, 0)
        assert summary.prompt_tokens == 20 and summary.completion_tokens == 16
        assert summary.cost_usd == pytest.approx(0.002)
        assert store.done_job_ids(run.id) == {"j1", "j2"}
        first, _ = store.generations(run.id)
        assert first.id == "j1" and first.attempts == 2 and first.params == {"temperature": 0.7}


def test_unknown_cost_stays_null(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        run = store.create_run({})
        store.record_generation(_generation(store, run.id, "j1", cost_usd=None))
        assert store.get_run(run.id).cost_usd is None
        assert store.generations(run.id)[0].cost_usd is None


def test_committed_generation_is_visible_to_another_connection(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    writer = Store(path)
    run = writer.create_run({})
    writer.record_generation(_generation(writer, run.id, "j1"))
    # No close(): a killed process never gets to close; the commit must already be durable.
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM generations").fetchone()[0] == 1


def test_run_lookup_by_prefix(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        a = store.create_run({}, run_id="20260101-000000-aaaa", name="first")
        store.create_run({}, run_id="20260101-000000-aabb", name="second")
        assert store.get_run("20260101-000000-aaa").id == a.id
        with pytest.raises(RunNotFoundError, match="ambiguous"):
            store.get_run("20260101-000000-aa")
        with pytest.raises(RunNotFoundError, match="no run"):
            store.get_run("nope")
        assert [r.name for r in store.list_runs()] == ["second", "first"]
        assert [r.name for r in store.list_runs(search="sec")] == ["second"]


def test_full_text_search_any_script(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        run = store.create_run({})
        store.record_generation(_generation(store, run.id, "en", text="Once upon a time, a ball."))
        store.record_generation(
            _generation(store, run.id, "zh", text="牛顿第二定律说明力等于质量乘以加速度。")
        )
        assert [g.id for g in store.search("upon a time")] == ["en"]
        assert [g.id for g in store.search("第二定律")] == ["zh"]
        assert [g.id for g in store.search("力学")] == []
        assert [g.id for g in store.search("质量")] == ["zh"]  # two characters: scan
        assert store.search("ball", run_id="other") == []


def test_metrics_round_trip(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        run = store.create_run({})
        store.record_generation(_generation(store, run.id, "j1"))
        store.save_text_metrics(
            [(run.id, "j1", {"n_words": 7}, {"c4": {"keep": True, "reason": None}})], "1"
        )
        assert store.text_metrics(run.id)["j1"]["metrics"] == {"n_words": 7}
        store.save_run_metrics(run.id, [("all", "all", 1, {"distinct_1": 1.0})], "1")
        assert store.run_metrics(run.id)[0]["metrics"] == {"distinct_1": 1.0}


def test_db_path_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "home"))
    assert resolve_db_path() == tmp_path / "home" / "studio.db"
    monkeypatch.setenv("STUDIO_DB", str(tmp_path / "env.db"))
    assert resolve_db_path() == tmp_path / "env.db"
    assert resolve_db_path(str(tmp_path / "flag.db")) == tmp_path / "flag.db"
