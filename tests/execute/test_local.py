"""The local executor end to end on the offline model: shards, Parquet files, the store."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from studio.execute import (
    LocalExecutor,
    generate_sharded,
    score_run_sharded,
    shard_of,
    shard_path,
    split_by_shard,
)
from studio.execute.shards import read_generations, read_scores, write_generations
from studio.execute.work import FailOnce
from studio.generate.session import RunSession, prepare_resume, prepare_run
from studio.scoring import METRICS_VERSION, score_run
from tests.execute.conftest import comparable, offline_spec

if TYPE_CHECKING:
    from studio.library import Library
    from studio.store import Store


def test_shard_of_reads_the_id_prefix() -> None:
    job_id = "00000000000000ff" + "e" * 48
    assert shard_of(job_id, 1) == 0
    assert shard_of(job_id, 16) == 0xFF % 16
    assert shard_of(job_id, 7) == 0xFF % 7
    groups = split_by_shard(["a", "b"], ["0" * 64, "f" * 64], 2)
    assert groups == {0: ["a"], 1: ["b"]}


def test_local_sharded_run_matches_an_unsharded_one(
    tmp_path: Path, store: Store, library: Library
) -> None:
    spec = offline_spec()
    plain = prepare_run(store, library, spec)
    asyncio.run(RunSession(store, plain).run())
    sharded = prepare_run(store, library, spec)
    result = generate_sharded(store, sharded, LocalExecutor(), n_shards=4, root=tmp_path / "sh")
    assert result.summary.ok == 24 and not result.failed
    assert store.get_run(sharded.run.id).status == "done"
    assert store.get_run(sharded.run.id).n_ok == 24
    a = [g for g in comparable(store.generations(plain.run.id))]
    b = [g for g in comparable(store.generations(sharded.run.id))]
    # Same jobs, same texts; only the run id differs.
    assert [x[:1] + x[2:] for x in a] == [x[:1] + x[2:] for x in b]
    files = sorted((tmp_path / "sh" / sharded.run.id / "generate").glob("*.parquet"))
    assert len(files) == len(result.outcomes) and len(files) <= 4
    in_files = [g for f in files for g in read_generations(f)]
    assert sorted(g.id for g in in_files) == sorted(g.id for g in store.generations(sharded.run.id))
    for f in files:
        shard = int(f.name.split("-")[1])
        assert all(shard_of(g.id, 4) == shard for g in read_generations(f))


def test_rerun_after_a_failed_shard_generates_only_its_ids(
    tmp_path: Path, store: Store, library: Library
) -> None:
    prepared = prepare_run(store, library, offline_spec())
    executor = LocalExecutor(hook=FailOnce(shard=1, marker=str(tmp_path / "failed-once")))
    first = generate_sharded(store, prepared, executor, n_shards=3, root=tmp_path / "sh")
    assert [o.shard for o in first.failed] == [1]
    assert "injected failure" in (first.failed[0].error or "")
    run = store.get_run(prepared.run.id)
    assert run.status == "failed"
    missing = {j.id for j in prepared.plan.jobs if shard_of(j.id, 3) == 1}
    assert missing and run.n_ok == 24 - len(missing)

    again = prepare_resume(store, prepared.run.id)
    second = generate_sharded(store, again, executor, n_shards=3, root=tmp_path / "sh")
    assert set(second.made) == missing
    run = store.get_run(prepared.run.id)
    assert (run.status, run.n_ok, run.n_error) == ("done", 24, 0)


def test_a_partial_shard_file_is_reused_not_regenerated(
    tmp_path: Path, store: Store, library: Library
) -> None:
    prepared = prepare_run(store, library, offline_spec())
    root = tmp_path / "sh"
    # An earlier worker wrote part of shard 0 and then the driver died before recording it.
    donor = prepare_run(store, library, offline_spec())
    generate_sharded(store, donor, LocalExecutor(), n_shards=2, root=tmp_path / "donor")
    done = read_generations(shard_path(tmp_path / "donor", donor.run.id, "generate", 0, 2))
    partial = [
        g.__class__(**{**g.__dict__, "run_id": prepared.run.id}) for g in done[: len(done) // 2]
    ]
    write_generations(shard_path(root, prepared.run.id, "generate", 0, 2), partial)

    result = generate_sharded(store, prepared, LocalExecutor(), n_shards=2, root=root)
    reused = {i for o in result.outcomes for i in o.reused}
    assert reused == {g.id for g in partial}
    assert set(result.made) == {j.id for j in prepared.plan.jobs} - reused
    assert store.get_run(prepared.run.id).n_ok == 24


def test_sharded_scoring_matches_local_scoring(
    tmp_path: Path, store: Store, library: Library
) -> None:
    prepared = prepare_run(store, library, offline_spec(samples=6))
    generate_sharded(store, prepared, LocalExecutor(), n_shards=3, root=tmp_path / "sh")
    run_id = prepared.run.id
    local = score_run(store, run_id)
    local_texts = store.text_metrics(run_id)
    sharded = score_run_sharded(store, run_id, LocalExecutor(), n_shards=3, root=tmp_path / "sh")
    assert store.text_metrics(run_id) == local_texts
    assert sharded.rows == local.rows
    files = sorted((tmp_path / "sh" / run_id / "score").glob("*.parquet"))
    assert sum(len(read_scores(f, METRICS_VERSION)) for f in files) == 12
