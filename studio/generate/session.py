"""A run against the store: validate, plan, record, execute, resume.

This is what the CLI and the TUI call. ``prepare_run`` checks every model before anything is
written (an unknown model fails here with a one-line ``ModelError``), renders the prompts,
creates the run and stores its prompts. ``prepare_resume`` rebuilds a stored run's jobs from
its stored prompts and keeps only those without a successful generation. ``RunSession`` then
executes them, committing each generation as it ends.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from studio.generate.config import ModelConfig, ModelRoute, load_config, resolve_model
from studio.generate.runner import Runner
from studio.generate.spec import Job, Plan, RunSpec, plan, replan
from studio.generate.writer import StoreWriter

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from studio.generate.events import Event, RunSummary
    from studio.library import Library
    from studio.store import Run, Store


@dataclass(frozen=True)
class PreparedRun:
    run: Run
    plan: Plan
    routes: dict[str, ModelRoute]
    pending: tuple[Job, ...]

    @property
    def skipped(self) -> int:
        return len(self.plan.jobs) - len(self.pending)


def resolve_routes(spec: RunSpec, config: ModelConfig | None = None) -> dict[str, ModelRoute]:
    """Route every model of the spec; the first unknown one raises ModelError."""
    config = config if config is not None else load_config()
    return {
        model: resolve_model(model, config, api_base=spec.api_base, api_key_env=spec.api_key_env)
        for model in spec.models
    }


def prepare_run(
    store: Store, library: Library, spec: RunSpec, config: ModelConfig | None = None
) -> PreparedRun:
    if not spec.models:
        raise ValueError("a run needs at least one model")
    routes = resolve_routes(spec, config)
    planned = plan(spec, library)
    run = store.create_run(
        planned.spec_record(), name=spec.name, seed=spec.seed, n_jobs=len(planned.jobs)
    )
    for prompt in planned.prompts:
        store.save_prompt(prompt)
    return PreparedRun(run, planned, routes, planned.jobs)


def prepare_resume(
    store: Store,
    run_id: str,
    config: ModelConfig | None = None,
    **settings: object,
) -> PreparedRun:
    """The stored run's missing jobs. ``settings`` override how it runs (not what it makes)."""
    run = store.get_run(run_id)
    planned = replan(run.spec, store.prompt_messages)
    if settings:
        planned = Plan(planned.spec.with_settings(**settings), planned.prompts, planned.jobs)
    routes = resolve_routes(planned.spec, config)
    done = store.done_job_ids(run.id)
    pending = tuple(job for job in planned.jobs if job.id not in done)
    return PreparedRun(run, planned, routes, pending)


class RunSession:
    """Executes a prepared run into the store. Build, subscribe to ``events()``, await ``run()``."""

    def __init__(
        self,
        store: Store,
        prepared: PreparedRun,
        *,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        self.store = store
        self.prepared = prepared
        # Commits go to a thread of their own unless the database lives only in this
        # connection (":memory:"), which another thread cannot open.
        in_memory = str(store.path) == ":memory:"
        self._writer = None if in_memory else StoreWriter(store.path)
        self.runner = Runner(
            prepared.pending,
            prepared.routes,
            prepared.plan.spec.settings,
            run_id=prepared.run.id,
            sink=store.record_generation if self._writer is None else self._writer,
            on_event=on_event,
            skipped=prepared.skipped,
        )

    @property
    def run_id(self) -> str:
        return self.prepared.run.id

    def events(self) -> AsyncIterator[Event]:
        return self.runner.events()

    def cancel(self) -> None:
        self.runner.cancel()

    def cancel_threadsafe(self) -> None:
        self.runner.cancel_threadsafe()

    async def run(self) -> RunSummary:
        self.store.set_run_status(self.run_id, "running")
        status = "failed"
        try:
            summary = await self.runner.run()
            if summary.cancelled:
                status = "interrupted"
            elif summary.ok or summary.skipped or not summary.error:
                status = "done"
            return summary
        finally:
            if self._writer is not None:
                # Off the loop: the last batch may take a moment to commit.
                await asyncio.to_thread(self._writer.close)
            if self.runner.cancelled:
                status = "interrupted"
            self.store.set_run_status(self.run_id, status)
