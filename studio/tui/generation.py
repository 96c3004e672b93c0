"""The Preview screen's bridge to ``studio.generate``: plan, run, route events, flag samples.

Nothing here imports ``studio.generate`` (or litellm, numpy) at module level. The run goes in
a thread worker owned by the Preview screen, on that thread's own event loop
(``run_preview_threaded``), so the runner, litellm's per-chunk stream handling and our
accounting never hold up the UI loop. Events are gathered in order on the runner's loop and
handed to the UI in one batch every ~50 ms (``EventBatcher``); the planning and every SQLite
write go to threads. Escape calls ``Runner.cancel_threadsafe()``, which records what had
streamed as cancelled generations.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.generate import Job, PreparedRun, RunSummary
    from studio.library import Library
    from studio.store import Generation
    from studio.tui.data import StoreHandle


def generation_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("studio.generate") is not None


@dataclass(frozen=True)
class PreviewRequest:
    personas: tuple[str, ...]
    topic: str
    style: str
    models: tuple[str, ...]
    samples: int = 2
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int = 0
    api_base: str | None = None


BATCH_SECONDS = 0.05


@dataclass
class PreviewCallbacks:
    """What the run tells the screen, from the runner's thread.

    Each call blocks until the UI loop has run it (``App.call_from_thread``), so the screen
    sees the plan, then the event batches in order, then the end. ``abandoned`` says the
    worker was cancelled (the screen or app is going): the run is cancelled and the UI is
    told nothing more.
    """

    planned: Callable[[PreparedRun], Any]
    events: Callable[[list[Any]], None]
    finished: Callable[[RunSummary | None, str], None]
    abandoned: Callable[[], bool] = lambda: False


class EventBatcher:
    """Runner events gathered on the runner's loop and handed over in order every ~50 ms.

    ``add`` is the runner's ``on_event``: it only appends. ``pump`` hands each batch to
    ``deliver`` in a helper thread (it blocks until the UI has taken it), one batch at a time,
    so the runner's loop keeps streaming meanwhile and batches never overtake each other.
    """

    def __init__(
        self, deliver: Callable[[list[Any]], None], interval: float = BATCH_SECONDS
    ) -> None:
        self._deliver = deliver
        self._interval = interval
        self._events: list[Any] = []

    def add(self, event: Any) -> None:
        self._events.append(event)

    async def flush(self) -> None:
        if self._events:
            batch, self._events = self._events, []
            await asyncio.to_thread(self._deliver, batch)

    async def pump(self, done: asyncio.Event, tick: Callable[[], None] | None = None) -> None:
        """Deliver every ``interval`` until ``done`` is set, then deliver what is left."""
        while not done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), self._interval)
            if tick is not None:
                tick()
            await self.flush()
        # ``done`` may have been set while the last batch was being delivered.
        await self.flush()


def spec_for(request: PreviewRequest) -> Any:
    from studio.generate import RunSpec

    return RunSpec(
        personas=request.personas,
        topics=(request.topic,),
        styles=(request.style,),
        models=request.models,
        samples=request.samples,
        temperature=request.temperature,
        top_p=request.top_p,
        max_tokens=request.max_tokens,
        seed=request.seed,
        api_base=request.api_base,
        name=f"preview: {request.style} × {request.topic.rsplit('/', 1)[-1]}",
    )


@dataclass
class PreviewRun:
    """One preview in flight: the runner to cancel and the writes to wait for."""

    request: PreviewRequest
    runner: Any = None
    run_id: str = ""
    writes: list[asyncio.Future[None]] = field(default_factory=list)
    cancel_requested: bool = False

    dropped: set[str] = field(default_factory=set)

    def cancel(self) -> None:
        """Cancel from the UI thread; the runner runs on its own thread and loop."""
        self.cancel_requested = True
        if self.runner is not None:
            self.runner.cancel_threadsafe()

    def cancel_jobs(self, job_ids: list[str]) -> None:
        """Cancel some samples from the UI thread; the others stream on."""
        self.dropped.update(job_ids)
        if self.runner is not None:
            self.runner.cancel_jobs_threadsafe(job_ids)


def run_preview_threaded(
    preview: PreviewRun, library: Library, store: StoreHandle, callbacks: PreviewCallbacks
) -> None:
    """``run_preview`` on a new event loop in the calling (worker) thread."""
    asyncio.run(run_preview(preview, library, store, callbacks))


async def run_preview(
    preview: PreviewRun, library: Library, store: StoreHandle, callbacks: PreviewCallbacks
) -> None:
    """Plan and run ``preview.request`` into the store, reporting through ``callbacks``."""
    from studio.generate import ConfigError, ModelError, Runner, prepare_run
    from studio.prompts import PromptError

    spec = spec_for(preview.request)

    def prepare() -> PreparedRun:
        with store.use() as db:
            return prepare_run(db, library, spec)

    try:
        prepared = await asyncio.to_thread(prepare)
    except (ModelError, ConfigError, PromptError, KeyError, ValueError) as exc:
        if not callbacks.abandoned():
            callbacks.finished(None, f"{type(exc).__name__}: {exc}")
        return
    preview.run_id = prepared.run.id
    if callbacks.abandoned():
        preview.cancel_requested = True
    else:
        await asyncio.to_thread(callbacks.planned, prepared)

    def write(generation: Generation) -> None:
        with store.use() as db:
            db.record_generation(generation)

    def set_status(status: str) -> None:
        with store.use() as db:
            db.set_run_status(prepared.run.id, status)

    def sink(generation: Generation) -> None:
        # SQLite commits go to a thread; the store's lock keeps them one at a time.
        preview.writes.append(asyncio.ensure_future(asyncio.to_thread(write, generation)))

    def deliver(batch: list[Any]) -> None:
        if not callbacks.abandoned():
            callbacks.events(batch)

    def check_abandoned() -> None:
        if callbacks.abandoned():
            runner.cancel()

    batcher = EventBatcher(deliver)
    runner = Runner(
        prepared.pending,
        prepared.routes,
        prepared.plan.spec.settings,
        run_id=prepared.run.id,
        sink=sink,
        on_event=batcher.add,
        skipped=prepared.skipped,
    )
    preview.runner = runner
    if preview.cancel_requested:
        runner.cancel()
    elif preview.dropped:
        runner.cancel_jobs_threadsafe(list(preview.dropped))
    await asyncio.to_thread(set_status, "running")
    summary: RunSummary | None = None
    status = "failed"
    done = asyncio.Event()
    pump = asyncio.create_task(batcher.pump(done, check_abandoned))
    try:
        summary = await runner.run()
        if summary.cancelled or runner.cancelled:
            status = "interrupted"
        elif summary.ok or not summary.error:
            status = "done"
    finally:
        done.set()
        try:
            await pump
        finally:
            await asyncio.gather(*preview.writes)
            await asyncio.to_thread(set_status, status)
    if not callbacks.abandoned():
        callbacks.finished(summary, "")


class FullCollections:
    """Keep the cyclic collector to its young generations while samples stream.

    Streaming allocates fast, and every few hundred ms the collector ran a full pass over the
    app's heap: 40-300 ms with the GIL held, the longest frame gaps measured in
    ``evals/bench/bench_tui.py``. Young collections (a few ms) still run, so short-lived
    cycles are freed; the rest waits for ``resume``, which the screen calls once the last
    sample has finished and its scores are shown, and which collects at once, while nothing
    streams, rather than at a moment the collector picks. Textual pauses the collector during
    smooth scrolling for the same reason.
    """

    def __init__(self) -> None:
        self._saved: tuple[int, int, int] | None = None

    @property
    def paused(self) -> bool:
        return self._saved is not None

    def pause(self) -> None:
        if self._saved is None:
            self._saved = young, middle, _old = gc.get_threshold()
            gc.set_threshold(young, middle, 1_000_000)

    def resume(self, collect: bool = True) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None
            if collect:
                gc.collect()


def job_title(job: Job, several_personas: bool) -> str:
    persona = f"{job.prompt.persona_id} · " if several_personas else ""
    return f"{persona}sample {job.sample_index + 1}"


def sample_flags(texts: dict[str, str]) -> tuple[dict[str, int], dict[str, str]]:
    """Near-duplicate clusters (MinHash LSH) and shared five-word openings among samples.

    Returns ``{job id: cluster number}`` for texts in a cluster of two or more, and
    ``{job id: opening}`` for texts whose opening another sample shares.
    """
    from studio.metrics.minhash import MinHasher, near_duplicate_clusters

    ids = [job_id for job_id, text in texts.items() if text.strip()]
    near: dict[str, int] = {}
    if len(ids) >= 2:
        labels = near_duplicate_clusters(MinHasher().signatures([texts[i] for i in ids]))
        sizes: dict[int, int] = {}
        for label in labels.tolist():
            sizes[label] = sizes.get(label, 0) + 1
        numbers: dict[int, int] = {}
        for job_id, label in zip(ids, labels.tolist(), strict=True):
            if sizes[label] > 1:
                near[job_id] = numbers.setdefault(label, len(numbers) + 1)
    openings: dict[str, list[str]] = {}
    for job_id in ids:
        opening = " ".join(texts[job_id].split()[:5])
        openings.setdefault(opening, []).append(job_id)
    shared = {
        job_id: opening
        for opening, members in openings.items()
        if len(members) > 1
        for job_id in members
    }
    return near, shared
