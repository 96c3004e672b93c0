"""The runner: jobs in, generations out, with our concurrency, retries and cancellation.

One ``Runner`` executes a list of jobs on one event loop. Per provider it keeps an adaptive
concurrency limit and an optional rpm/tpm bucket; every call has an explicit timeout; failed
attempts are retried by ``RetryPolicy``. Each generation goes to the sink (the store) the
moment it ends, so a crash loses at most the calls in flight. ``cancel()`` stops the run:
jobs in flight and jobs not started are recorded as ``cancelled`` and finished ones stay.

Watchers subscribe with ``events()`` (an async iterator) or an ``on_event`` callback; see
``studio.generate.events`` for what they receive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from studio.generate.accounting import (
    cost_usd,
    estimate_completion_tokens,
    estimate_prompt_tokens,
)
from studio.generate.errors import CallError, FailureKind
from studio.generate.events import (
    Event,
    JobDelta,
    JobFailed,
    JobFinished,
    JobStarted,
    RunFinished,
    RunSummary,
)
from studio.generate.limits import AdaptiveLimit, RateBucket
from studio.generate.redact import Redactor
from studio.generate.retry import RetryPolicy
from studio.generate.spec import Job, RunSettings
from studio.generate.transport import CallRequest, CallResult, DirectTransport, Transport
from studio.store.db import now_iso
from studio.store.records import Generation

if TYPE_CHECKING:
    from studio.generate.config import ModelRoute

Sink = Callable[[Generation], None]
log = logging.getLogger("studio.generate.runner")


class _Provider:
    """Concurrency, rate budget and feeding gate shared by the routes of one provider."""

    def __init__(self, ceiling: int, rpm: float | None, tpm: float | None) -> None:
        self.limit = AdaptiveLimit(ceiling)
        self.bucket = RateBucket(rpm, tpm)


class Runner:
    def __init__(
        self,
        jobs: Sequence[Job],
        routes: Mapping[str, ModelRoute],
        settings: RunSettings | None = None,
        *,
        run_id: str = "",
        sink: Sink | None = None,
        on_event: Callable[[Event], None] | None = None,
        redactor: Redactor | None = None,
        skipped: int = 0,
    ) -> None:
        self.jobs = list(jobs)
        self.routes = dict(routes)
        self.settings = settings or RunSettings()
        self.run_id = run_id
        self._sink = sink
        self._on_event = on_event
        self._redact = redactor or Redactor.from_environment(
            [r.api_key_env for r in self.routes.values() if r.api_key_env]
        )
        self._skipped = skipped
        self._policy = RetryPolicy(
            max_attempts=self.settings.max_attempts,
            backoff_base=self.settings.backoff_base,
            backoff_cap=self.settings.backoff_cap,
            retry_after_cap=self.settings.retry_after_cap,
        )
        self._queues: list[asyncio.Queue[Event | None]] = []
        self._recorded: dict[str, Generation] = {}
        self._partials: dict[str, list[str]] = {}
        self._attempts: dict[str, int] = defaultdict(int)
        self._tasks: set[asyncio.Task[None]] = set()
        self._calls: dict[asyncio.Task[None], list[Job]] = {}
        self._dropped: set[str] = set()  # jobs cancelled one by one (``cancel_jobs``)
        self._main: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._cancelled = False
        self._providers: dict[str, _Provider] = {}
        self._transports: dict[str, Transport] = {}
        # Prompt.hash re-serialises the messages on every access; jobs share few prompts.
        self._prompt_info: dict[int, tuple[str, list[dict[str, str]]]] = {}
        self.results: list[Generation] = []

    # -- watching -------------------------------------------------------------------------------

    def events(self) -> AsyncIterator[Event]:
        """Everything the run reports from now on, ending with ``RunFinished``."""
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._queues.append(queue)

        async def iterate() -> AsyncIterator[Event]:
            while True:
                event = await queue.get()
                if event is None:
                    return
                yield event

        return iterate()

    def _emit(self, event: Event) -> None:
        if self._on_event is not None:
            self._on_event(event)
        for queue in self._queues:
            queue.put_nowait(event)

    # -- control --------------------------------------------------------------------------------

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        """Stop: in-flight and unstarted jobs become ``cancelled``. Call on the run's loop."""
        if self._cancelled:
            return
        self._cancelled = True
        if self._main is not None:
            self._main.cancel()

    def cancel_threadsafe(self) -> None:
        """``cancel()`` from another thread (a UI thread or a signal handler elsewhere)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.cancel)
        else:
            self._cancelled = True

    def cancel_jobs(self, job_ids: Iterable[str]) -> None:
        """Cancel some jobs and let the others run on. Call on the run's loop.

        Each job not yet recorded is recorded at once as ``cancelled``, keeping the text it
        had streamed. A call whose jobs are all cancelled is stopped; one that still serves
        other samples (``n_per_call`` > 1) runs on and its answer for these jobs is dropped.
        """
        wanted = {job.id for job in self.jobs} & set(job_ids)
        fresh = wanted - self._recorded.keys()
        if not fresh:
            return
        self._dropped |= fresh
        for job in self.jobs:
            if job.id in fresh:
                self._record(
                    self._cancelled_record(job, "cancelled by the user before it finished")
                )
        for task, group in list(self._calls.items()):
            if all(job.id in self._recorded for job in group):
                task.cancel()

    def cancel_jobs_threadsafe(self, job_ids: Iterable[str]) -> None:
        """``cancel_jobs()`` from another thread; before the run starts, the jobs are skipped."""
        ids = list(job_ids)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.cancel_jobs, ids)
        else:
            self._dropped.update(ids)

    # -- running --------------------------------------------------------------------------------

    async def run(self) -> RunSummary:
        started = time.monotonic()
        self._loop = asyncio.get_running_loop()
        try:
            await self._prepare_transports()
            if not self._cancelled:
                self._main = asyncio.create_task(self._run_all())
                try:
                    await self._main
                except asyncio.CancelledError:
                    if not self._cancelled:
                        raise  # our caller was cancelled, not us: propagate after cleanup
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            self._record_cancelled()
            for transport in self._transports.values():
                await transport.close()
        summary = self._summary(time.monotonic() - started)
        self._emit(RunFinished(summary))
        for queue in self._queues:
            queue.put_nowait(None)
        return summary

    async def _prepare_transports(self) -> None:
        mode = self.settings.transport
        needs_litellm = any(
            not (mode != "litellm" and r.openai_compatible) for r in self.routes.values()
        )
        if needs_litellm:
            from studio.generate.gateway import load_litellm, redact_in_logs

            # The import takes ~3 s: keep it off the loop, which may be drawing a UI.
            await asyncio.to_thread(load_litellm)
            redact_in_logs(route.api_key() for route in self.routes.values())
            from studio.generate.transport import LiteLLMTransport

            self._transports["litellm"] = LiteLLMTransport(self._redact)
        if mode != "litellm" and any(r.openai_compatible for r in self.routes.values()):
            self._transports["direct"] = DirectTransport(self._redact)

    def _transport_for(self, route: ModelRoute) -> Transport:
        if route.openai_compatible and "direct" in self._transports:
            return self._transports["direct"]
        return self._transports["litellm"]

    def _provider_for(self, route: ModelRoute) -> _Provider:
        found = self._providers.get(route.provider)
        if found is None:
            ceiling = route.max_concurrency or self.settings.concurrency
            found = _Provider(
                ceiling, route.rpm or self.settings.rpm, route.tpm or self.settings.tpm
            )
            self._providers[route.provider] = found
        return found

    def _prompt_of(self, job: Job) -> tuple[str, list[dict[str, str]]]:
        """(hash, messages) of the job's prompt, computed once per prompt."""
        key = id(job.prompt)
        found = self._prompt_info.get(key)
        if found is None:
            found = (job.prompt.hash, job.prompt.message_dicts())
            self._prompt_info[key] = found
        return found

    def _groups(self) -> dict[str, list[list[Job]]]:
        """Calls per provider, in plan order; with ``n_per_call`` > 1, runs of samples share one."""
        per_provider: dict[str, list[list[Job]]] = defaultdict(list)
        size = max(1, self.settings.n_per_call)
        current: list[Job] = []
        for job in self.jobs:
            if current and (
                len(current) >= size
                or job.model != current[0].model
                or self._prompt_of(job)[0] != self._prompt_of(current[0])[0]
                or job.params != current[0].params
                or job.sample_index != current[-1].sample_index + 1
            ):
                per_provider[self.routes[current[0].model].provider].append(current)
                current = []
            current.append(job)
        if current:
            per_provider[self.routes[current[0].model].provider].append(current)
        return per_provider

    async def _run_all(self) -> None:
        feeders = [
            self._feed(self._provider_for(self.routes[calls[0][0].model]), calls)
            for calls in self._groups().values()
        ]
        await asyncio.gather(*feeders)

    async def _feed(self, provider: _Provider, calls: list[list[Job]]) -> None:
        """Start calls as slots allow, keeping a bounded number of tasks alive."""
        gate = asyncio.Semaphore(provider.limit.ceiling * 2)
        pending: set[asyncio.Task[None]] = set()
        for group in calls:
            await gate.acquire()
            if all(job.id in self._dropped for job in group):
                gate.release()
                continue
            task = asyncio.create_task(self._run_call(provider, group))
            pending.add(task)
            self._tasks.add(task)
            self._calls[task] = group

            def done(t: asyncio.Task[None]) -> None:
                gate.release()
                self._tasks.discard(t)
                self._calls.pop(t, None)

            task.add_done_callback(done)
        if pending:
            await asyncio.gather(*pending)

    async def _run_call(self, provider: _Provider, group: list[Job]) -> None:
        try:
            await self._call_until_done(provider, group)
        except asyncio.CancelledError:
            if self._cancelled or not all(job.id in self._dropped for job in group):
                raise
            # cancel_jobs() stopped this call: its jobs are recorded; the run goes on.

    async def _call_until_done(self, provider: _Provider, group: list[Job]) -> None:
        remaining = [job for job in group if job.id not in self._dropped]
        attempt = 0
        while remaining:
            first = remaining[0]
            route = self.routes[first.model]
            attempt += 1
            for job in remaining:
                self._attempts[job.id] = attempt
                self._emit(JobStarted(job.id, job.model, attempt))
            n = len(remaining)
            stream = self.settings.stream and n == 1
            request = CallRequest(
                route=route,
                messages=self._prompt_of(first)[1],
                params=first.request_params,
                n=n,
                stream=stream,
                timeout=self.settings.timeout,
            )
            on_delta = self._delta_sink(first) if stream else None
            estimate = estimate_prompt_tokens(request.messages) if provider.bucket.tpm else 0
            await provider.bucket.acquire(estimate * n)
            began = time.monotonic()
            result: CallResult | None = None
            error: CallError | None = None
            async with provider.limit.slot() as epoch:
                try:
                    result = await self._transport_for(route).call(request, on_delta)
                except CallError as exc:
                    error = exc
                except Exception as exc:  # a bug or an unforeseen library error: record it
                    message = self._redact(" ".join(str(exc).split())[:500])
                    error = CallError(FailureKind.OTHER, message, type(exc).__name__)
            latency = time.monotonic() - began
            if result is not None:
                provider.limit.succeeded()
                done = self._finish(remaining, route, request, result, attempt, latency)
                provider.bucket.spend_tokens(sum(int(g.completion_tokens or 0) for g in done))
                remaining = remaining[len(done) :]
                attempt = 0
                continue
            assert error is not None
            if error.kind is FailureKind.RATE_LIMIT:
                provider.limit.throttled(epoch)
            retry = self._policy.should_retry(error, attempt)
            delay = self._policy.delay(error, attempt) if retry else 0.0
            log.warning(
                "%s attempt %d on %s failed: %s: %s%s", first.id[:12], attempt, first.model,
                error.error_class, error.message, f"; retrying in {delay:.2f}s" if retry else "",
            )  # fmt: skip
            for job in remaining:
                self._emit(JobFailed(job.id, job.model, attempt, error.error_class,
                                     error.message, retry, delay))  # fmt: skip
            if not retry:
                for job in remaining:
                    self._record(self._failed(job, error, attempt, latency))
                return
            for job in remaining:
                self._partials.pop(job.id, None)
            await asyncio.sleep(delay)
            remaining = [job for job in remaining if job.id not in self._dropped]

    def _delta_sink(self, job: Job) -> Callable[[str], None]:
        parts = self._partials.setdefault(job.id, [])
        parts.clear()

        def on_delta(text: str) -> None:
            parts.append(text)
            if self._queues or self._on_event is not None:
                self._emit(JobDelta(job.id, text))

        return on_delta

    def _finish(
        self,
        jobs: list[Job],
        route: ModelRoute,
        request: CallRequest,
        result: CallResult,
        attempt: int,
        latency: float,
    ) -> list[Generation]:
        """Record one generation per returned choice; a server may return fewer than asked."""
        made: list[Generation] = []
        choices = result.choices[: len(jobs)]
        n = len(choices)
        estimated = result.prompt_tokens is None or result.completion_tokens is None or n > 1
        prompt_total = result.prompt_tokens
        if prompt_total is None:
            prompt_total = estimate_prompt_tokens(request.messages)
        counts: list[int]
        if result.completion_tokens is not None and n == 1:
            counts = [result.completion_tokens]
        else:
            counts = [estimate_completion_tokens(c.text) for c in choices]
            counted = sum(counts, 0)
            if result.completion_tokens is not None and counted:
                # Usage covers all choices at once: share it out in proportion to each text.
                scale = result.completion_tokens / counted
                counts = [round(c * scale) for c in counts]
        for i, (job, choice) in enumerate(zip(jobs, choices, strict=False)):
            prompt_tokens = prompt_total // n + (prompt_total % n if i == 0 else 0)
            generation = self._generation(
                job,
                status="ok",
                text=choice.text,
                finish_reason=choice.finish_reason,
                prompt_tokens=prompt_tokens,
                completion_tokens=counts[i],
                tokens_estimated=estimated,
                cost=cost_usd(route, prompt_tokens, counts[i]),
                latency=latency,
                ttft=result.ttft_s,
                attempts=attempt,
            )
            self._record(generation)
            made.append(generation)
        return made

    def _failed(self, job: Job, error: CallError, attempt: int, latency: float) -> Generation:
        return self._generation(
            job,
            status="error",
            text=error.partial or None,
            error_class=error.error_class,
            error_message=error.message,
            latency=latency,
            attempts=attempt,
        )

    def _generation(
        self,
        job: Job,
        *,
        status: str,
        text: str | None = None,
        finish_reason: str | None = None,
        error_class: str | None = None,
        error_message: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        tokens_estimated: bool = False,
        cost: float | None = None,
        latency: float | None = None,
        ttft: float | None = None,
        attempts: int = 1,
    ) -> Generation:
        return Generation(
            id=job.id,
            run_id=self.run_id,
            prompt_hash=self._prompt_of(job)[0],
            persona_id=job.prompt.persona_id,
            topic_path=job.prompt.topic_path,
            style_id=job.prompt.style_id,
            model=job.model,
            sample_index=job.sample_index,
            params=job.request_params,
            status=status,
            text=text,
            finish_reason=finish_reason,
            error_class=error_class,
            error_message=None if error_message is None else self._redact(error_message),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            tokens_estimated=tokens_estimated,
            cost_usd=cost,
            latency_ms=None if latency is None else round(latency * 1000, 3),
            ttft_ms=None if ttft is None else round(ttft * 1000, 3),
            attempts=max(1, attempts),
            created_at=now_iso(),
        )

    def _record(self, generation: Generation) -> None:
        if generation.id in self._recorded:
            return
        self._recorded[generation.id] = generation
        self.results.append(generation)
        if self._sink is not None:
            self._sink(generation)
        self._emit(JobFinished(generation))

    def _record_cancelled(self) -> None:
        """Every job without a record (in flight or never started) is recorded as cancelled."""
        for job in self.jobs:
            if job.id in self._recorded:
                continue
            self._record(
                self._cancelled_record(job, "the run was interrupted before this job finished")
            )

    def _cancelled_record(self, job: Job, why: str) -> Generation:
        """A ``cancelled`` generation keeping whatever text the job had streamed."""
        return self._generation(
            job,
            status="cancelled",
            text="".join(self._partials.get(job.id, ())) or None,
            error_class="Cancelled",
            error_message=why,
            attempts=self._attempts.get(job.id, 0),
        )

    def _summary(self, elapsed: float) -> RunSummary:
        counts = {"ok": 0, "error": 0, "cancelled": 0}
        prompt = completion = 0
        cost: float | None = None
        for g in self._recorded.values():
            counts[g.status] += 1
            prompt += g.prompt_tokens or 0
            completion += g.completion_tokens or 0
            if g.cost_usd is not None:
                cost = (cost or 0.0) + g.cost_usd
        return RunSummary(
            run_id=self.run_id,
            n_jobs=len(self.jobs) + self._skipped,
            ok=counts["ok"],
            error=counts["error"],
            cancelled=counts["cancelled"],
            skipped=self._skipped,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost,
            elapsed_s=elapsed,
        )


async def generate_batch_async(
    jobs: Sequence[Job],
    routes: Mapping[str, ModelRoute],
    settings: RunSettings | None = None,
    *,
    run_id: str = "",
) -> list[Generation]:
    """Generate ``jobs`` and return their records, sorted by id. No store, no global state."""
    runner = Runner(jobs, routes, settings, run_id=run_id)
    await runner.run()
    return sorted(runner.results, key=lambda g: g.id)


def generate_batch(
    jobs: Sequence[Job],
    routes: Mapping[str, ModelRoute],
    settings: RunSettings | None = None,
    *,
    run_id: str = "",
) -> list[Generation]:
    """The pure batch function an executor (local or Ray) maps over shards of jobs."""
    return asyncio.run(generate_batch_async(jobs, routes, settings, run_id=run_id))
