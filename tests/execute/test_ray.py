"""The Ray executor against the local one: same generations, same scores, same resume.

Skipped without the ``ray`` extra. One Ray instance serves the whole module: starting and
stopping one costs seconds (DESIGN 7).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Set before ray is imported (importorskip imports it): see studio.execute.ray_executor.connect.
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
pytest.importorskip("ray")

from studio.execute import (
    LocalExecutor,
    generate_sharded,
    score_run_sharded,
    shard_of,
    shard_path,
)
from studio.execute.ray_executor import RayExecutor
from studio.execute.shards import read_generations, write_generations
from studio.execute.work import FailOnce
from studio.generate.session import prepare_resume, prepare_run
from studio.store import Store
from tests.execute.conftest import comparable, offline_spec

if TYPE_CHECKING:
    from studio.library import Library

N_SHARDS = 4


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    executor = RayExecutor(workers=2)
    yield executor
    executor.close()


def without_run_id(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [row[:1] + row[2:] for row in rows]


def test_ray_and_local_make_the_same_generations_and_scores(
    tmp_path: Path, ray_executor: RayExecutor, library: Library
) -> None:
    spec = offline_spec()
    with Store(tmp_path / "local.db") as local, Store(tmp_path / "ray.db") as remote:
        on_local = prepare_run(local, library, spec)
        on_ray = prepare_run(remote, library, spec)
        a = generate_sharded(local, on_local, LocalExecutor(), n_shards=N_SHARDS, root=tmp_path)
        b = generate_sharded(remote, on_ray, ray_executor, n_shards=N_SHARDS, root=tmp_path)
        assert not a.failed and not b.failed
        assert {o.worker for o in b.outcomes} != {"local"}
        assert b.made == a.made and len(a.made) == 24
        gens_local = comparable(local.generations(on_local.run.id))
        gens_ray = comparable(remote.generations(on_ray.run.id))
        assert without_run_id(gens_ray) == without_run_id(gens_local)

        # Scoring compared on the very same run: set metrics read the texts in store order.
        run_id = on_ray.run.id
        sa = score_run_sharded(remote, run_id, LocalExecutor(), n_shards=3, root=tmp_path / "a")
        texts_local = remote.text_metrics(run_id)
        sb = score_run_sharded(remote, run_id, ray_executor, n_shards=3, root=tmp_path / "b")
        assert remote.text_metrics(run_id) == texts_local
        assert sb.rows == sa.rows
        assert sorted(texts_local) == sorted(g.id for g in remote.generations(run_id))


def test_ray_rerun_after_a_failed_shard_generates_only_the_missing_ids(
    tmp_path: Path, ray_executor: RayExecutor, library: Library
) -> None:
    failing = RayExecutor(hook=FailOnce(shard=2, marker=str(tmp_path / "failed-once")), workers=2)
    with Store(tmp_path / "studio.db") as store:
        prepared = prepare_run(store, library, offline_spec())
        first = generate_sharded(store, prepared, failing, n_shards=N_SHARDS, root=tmp_path)
        assert [o.shard for o in first.failed] == [2]
        assert "injected failure in shard 2" in (first.failed[0].error or "")
        missing = {j.id for j in prepared.plan.jobs if shard_of(j.id, N_SHARDS) == 2}
        run = store.get_run(prepared.run.id)
        assert run.status == "failed" and run.n_ok == 24 - len(missing)

        again = prepare_resume(store, prepared.run.id)
        assert {j.id for j in again.pending} == missing
        second = generate_sharded(store, again, failing, n_shards=N_SHARDS, root=tmp_path)
        failing.close()
        assert not second.failed and set(second.made) == missing
        run = store.get_run(prepared.run.id)
        assert (run.status, run.n_ok, run.n_error) == ("done", 24, 0)


def test_ray_workers_reuse_a_partial_shard_file(
    tmp_path: Path, ray_executor: RayExecutor, library: Library
) -> None:
    with Store(tmp_path / "studio.db") as store:
        donor = prepare_run(store, library, offline_spec())
        generate_sharded(store, donor, LocalExecutor(), n_shards=1, root=tmp_path / "donor")
        done = read_generations(shard_path(tmp_path / "donor", donor.run.id, "generate", 0, 1))

        prepared = prepare_run(store, library, offline_spec())
        # A worker wrote a third of the run before the driver died: no row reached SQLite.
        partial = [g.__class__(**{**g.__dict__, "run_id": prepared.run.id}) for g in done[::3]]
        for shard in range(N_SHARDS):
            rows = [g for g in partial if shard_of(g.id, N_SHARDS) == shard]
            path = shard_path(tmp_path, prepared.run.id, "generate", shard, N_SHARDS)
            write_generations(path, rows)
        result = generate_sharded(store, prepared, ray_executor, n_shards=N_SHARDS, root=tmp_path)
        reused = {i for o in result.outcomes for i in o.reused}
        assert reused == {g.id for g in partial}
        assert set(result.made) == {j.id for j in prepared.plan.jobs} - reused
        assert store.get_run(prepared.run.id).n_ok == 24
