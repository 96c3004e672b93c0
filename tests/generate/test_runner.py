"""The runner as the TUI uses it: the event stream, cancellation, and the pure batch function."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from studio.generate import (
    JobDelta,
    JobFinished,
    JobStarted,
    RunFinished,
    RunSession,
    RunSettings,
    RunSpec,
    generate_batch,
    plan,
    prepare_resume,
    prepare_run,
)
from studio.generate.config import ModelConfig, resolve_model
from studio.store import Store

if TYPE_CHECKING:
    from studio.generate.events import Event
    from studio.library import Library
    from tests.generate.loopback import LoopbackServer

GRID = {
    "personas": ("college",),
    "topics": ("physics/mechanics/newtons-laws",),
    "styles": ("story",),
}


async def test_event_stream_per_job_and_text_matches_store(
    tmp_path: Path, library: Library
) -> None:
    spec = RunSpec(**GRID, models=("offline/fast",), samples=3, max_tokens=80)
    store = Store(tmp_path / "s.db")
    session = RunSession(store, prepare_run(store, library, spec, ModelConfig()))
    seen: list[Event] = []

    async def watch() -> None:
        async for event in session.events():
            seen.append(event)

    watcher = asyncio.create_task(watch())
    summary = await session.run()
    await asyncio.wait_for(watcher, 30)
    assert isinstance(seen[-1], RunFinished) and seen[-1].summary == summary
    per_job: dict[str, list[Event]] = defaultdict(list)
    for event in seen[:-1]:
        job_id = event.generation.id if isinstance(event, JobFinished) else event.job_id  # type: ignore[union-attr]
        per_job[job_id].append(event)
    stored = {g.id: g for g in store.generations(session.run_id)}
    assert set(per_job) == set(stored) and len(stored) == 3
    for job_id, events in per_job.items():
        assert isinstance(events[0], JobStarted) and isinstance(events[-1], JobFinished)
        deltas = "".join(e.text for e in events if isinstance(e, JobDelta))
        assert deltas == stored[job_id].text
        assert stored[job_id].ttft_ms is not None


async def test_cancel_keeps_finished_and_records_the_rest_with_partial_text(
    tmp_path: Path, library: Library, loopback: LoopbackServer, model_name: str
) -> None:
    loopback.script(model_name, chunk_delay=0.05, words=20)
    spec = RunSpec(
        **GRID,
        models=(model_name,),
        samples=6,
        api_base=loopback.base_url,
        settings=RunSettings(concurrency=2, timeout=30),
    )
    store = Store(tmp_path / "s.db")
    deltas_after_first: dict[str, int] = defaultdict(int)
    finished: list[str] = []

    def on_event(event: Event) -> None:
        if isinstance(event, JobFinished) and event.generation.status == "ok":
            finished.append(event.generation.id)
        if finished and isinstance(event, JobDelta):
            deltas_after_first[event.job_id] += 1
            if deltas_after_first[event.job_id] >= 2:
                session.cancel()  # a job is mid-stream now

    session = RunSession(store, prepare_run(store, library, spec, ModelConfig()), on_event=on_event)
    summary = await session.run()
    run = store.get_run(session.run_id)
    assert run.status == "interrupted"
    assert summary.ok >= 1 and summary.ok + summary.cancelled == 6 and summary.error == 0
    cancelled = store.generations(session.run_id, status="cancelled")
    assert any(g.text for g in cancelled)  # the one cut mid-stream kept what it had
    assert {g.id for g in store.generations(session.run_id, status="ok")} >= set(finished)
    # Resume plans exactly the cancelled ones.
    again = prepare_resume(store, session.run_id, ModelConfig())
    assert {j.id for j in again.pending} == {g.id for g in cancelled}
    await RunSession(store, again).run()
    assert store.get_run(session.run_id).n_ok == 6


async def test_cancel_one_job_keeps_its_partial_text_and_the_others_finish(
    tmp_path: Path, library: Library, loopback: LoopbackServer, model_name: str
) -> None:
    loopback.script(model_name, chunk_delay=0.03, words=30)
    spec = RunSpec(
        **GRID,
        models=(model_name,),
        samples=3,
        api_base=loopback.base_url,
        settings=RunSettings(concurrency=3, timeout=30),
    )
    store = Store(tmp_path / "s.db")
    deltas: dict[str, int] = defaultdict(int)
    target: list[str] = []

    def on_event(event: Event) -> None:
        if isinstance(event, JobDelta):
            deltas[event.job_id] += 1
            if not target and deltas[event.job_id] >= 3:
                target.append(event.job_id)
                session.runner.cancel_jobs([event.job_id])  # this one, mid-stream

    session = RunSession(store, prepare_run(store, library, spec, ModelConfig()), on_event=on_event)
    summary = await session.run()
    assert summary.ok == 2 and summary.cancelled == 1 and summary.error == 0
    by_id = {g.id: g for g in store.generations(session.run_id)}
    cut = by_id[target[0]]
    assert cut.status == "cancelled" and cut.error_message == (
        "cancelled by the user before it finished"
    )
    others = [g for g in by_id.values() if g.id != target[0]]
    assert all(g.status == "ok" and g.text and g.text.rstrip().endswith(".") for g in others), [
        (g.status, g.text) for g in others
    ]
    full = len(others[0].text.split())  # type: ignore[union-attr]
    assert cut.text and 0 < len(cut.text.split()) < full  # what had streamed, no more
    # Cancelling a finished job, an unknown id or the same job again changes nothing.
    session.runner.cancel_jobs([others[0].id, "nope", target[0]])
    assert store.generations(session.run_id, status="ok")[0].status == "ok"


async def test_jobs_cancelled_before_they_start_are_never_sent(
    tmp_path: Path, library: Library, loopback: LoopbackServer, model_name: str
) -> None:
    loopback.script(model_name, chunk_delay=0.0, words=5)
    spec = RunSpec(
        **GRID,
        models=(model_name,),
        samples=4,
        api_base=loopback.base_url,
        settings=RunSettings(concurrency=1, timeout=30),
    )
    store = Store(tmp_path / "s.db")
    prepared = prepare_run(store, library, spec, ModelConfig())
    dropped = [job.id for job in prepared.pending[2:]]
    session = RunSession(store, prepared)
    session.runner.cancel_jobs_threadsafe(dropped)  # before the run has a loop
    before = len(loopback.requests_for(model_name))
    summary = await session.run()
    assert summary.ok == 2 and summary.cancelled == 2
    assert len(loopback.requests_for(model_name)) - before == 2
    assert {g.id for g in store.generations(session.run_id, status="cancelled")} == set(dropped)


def test_generate_batch_is_pure_and_deterministic(library: Library) -> None:
    spec = RunSpec(**GRID, models=("offline/instant",), samples=4, temperature=1.0, seed=9)
    jobs = plan(spec, library).jobs
    routes = {"offline/instant": resolve_model("offline/instant", ModelConfig())}
    first = generate_batch(jobs, routes, RunSettings(concurrency=2))
    second = generate_batch(jobs[::-1], routes, RunSettings(concurrency=3, stream=False))
    assert [g.id for g in first] == sorted(j.id for j in jobs) == [g.id for g in second]
    assert [g.text for g in first] == [g.text for g in second]
    assert all(g.status == "ok" for g in first)
