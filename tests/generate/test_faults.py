"""Faults from a real (loopback) OpenAI-compatible server, through litellm and the direct path.

Each fault is injected on the first attempt; the test checks the retry that followed (what
the server saw) and the stored record (status, attempts, text).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from studio.generate.config import ModelConfig
from studio.generate.events import JobFailed
from studio.generate.session import RunSession, prepare_run
from studio.generate.spec import RunSettings, RunSpec
from studio.store import Generation, Store
from tests.generate.loopback import LoopbackServer, answer_text

if TYPE_CHECKING:
    from studio.library import Library

TRANSPORTS = ["litellm", "direct"]


async def run_one(
    tmp_path: Path,
    library: Library,
    server: LoopbackServer,
    model: str,
    settings: RunSettings,
    *,
    samples: int = 1,
    n_per_call: int = 1,
    temperature: float | None = 0.5,
    failures: list[JobFailed] | None = None,
) -> tuple[Store, list[Generation]]:
    spec = RunSpec(
        personas=("college",),
        topics=("physics/mechanics/newtons-laws",),
        styles=("story",),
        models=(model,),
        samples=samples,
        temperature=temperature,
        max_tokens=64,
        seed=40,
        api_base=server.base_url,
        settings=RunSettings(**{**settings.as_dict(), "n_per_call": n_per_call}),
    )
    store = Store(tmp_path / "studio.db")
    prepared = prepare_run(store, library, spec, ModelConfig())

    def on_event(event: object) -> None:
        if failures is not None and isinstance(event, JobFailed):
            failures.append(event)

    await RunSession(store, prepared, on_event=on_event).run()
    return store, store.generations(prepared.run.id)


def settings_for(base: RunSettings, transport: str, stream: bool) -> RunSettings:
    return RunSettings(**{**base.as_dict(), "transport": transport, "stream": stream})


RETRIED = ["429:0", "500", "503", "hang", "malformed", "cut"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "plain"])
@pytest.mark.parametrize("fault", RETRIED)
async def test_fault_is_retried_and_the_answer_stored(
    tmp_path: Path,
    library: Library,
    loopback: LoopbackServer,
    model_name: str,
    fast_settings: RunSettings,
    transport: str,
    stream: bool,
    fault: str,
) -> None:
    loopback.script(model_name, fault)
    settings = settings_for(fast_settings, transport, stream)
    if fault == "hang":
        settings = RunSettings(**{**settings.as_dict(), "timeout": 1.0})
    failures: list[JobFailed] = []
    store, generations = await run_one(
        tmp_path, library, loopback, model_name, settings, failures=failures
    )
    seen = loopback.requests_for(model_name)
    assert [s.action for s in seen] == [fault, "ok"]
    (failure,) = failures
    assert failure.will_retry and failure.attempt == 1
    expected = {"429:0": "RateLimit", "hang": "Timeout"}.get(fault)
    if expected:
        assert expected in failure.error_class
    (generation,) = generations
    assert generation.status == "ok", generation.error_message
    assert generation.attempts == 2
    assert generation.finish_reason == "stop"
    assert generation.text is not None
    assert generation.text.strip() == answer_text(seen[-1].body, 0, 12).strip()
    run = store.get_run(generation.run_id)
    assert (run.n_ok, run.n_error, run.status) == (1, 0, "done")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_stream_that_stalls_after_its_first_chunks_times_out_and_is_retried(
    tmp_path: Path,
    library: Library,
    loopback: LoopbackServer,
    model_name: str,
    fast_settings: RunSettings,
    transport: str,
) -> None:
    loopback.script(model_name, "stall")
    settings = RunSettings(**{**settings_for(fast_settings, transport, True).as_dict(),
                              "timeout": 1.0})  # fmt: skip
    failures: list[JobFailed] = []
    _, (generation,) = await run_one(
        tmp_path, library, loopback, model_name, settings, failures=failures
    )
    (failure,) = failures
    assert failure.will_retry and "Timeout" in failure.error_class
    seen = loopback.requests_for(model_name)
    assert [s.action for s in seen] == ["stall", "ok"]
    # The retry's text alone is stored, not the stalled attempt's first chunks glued to it.
    assert (generation.status, generation.attempts) == ("ok", 2)
    assert generation.text is not None
    assert generation.text.strip() == answer_text(seen[-1].body, 0, 12).strip()


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_stream_ending_without_done_is_a_complete_answer(
    tmp_path: Path,
    library: Library,
    loopback: LoopbackServer,
    model_name: str,
    fast_settings: RunSettings,
    transport: str,
) -> None:
    loopback.script(model_name, "nodone")
    settings = settings_for(fast_settings, transport, True)
    _, (generation,) = await run_one(tmp_path, library, loopback, model_name, settings)
    assert len(loopback.requests_for(model_name)) == 1
    assert (generation.status, generation.attempts, generation.finish_reason) == ("ok", 1, "stop")
    assert generation.prompt_tokens == 11 and not generation.tokens_estimated
    assert generation.ttft_ms is not None and generation.latency_ms is not None
    assert generation.cost_usd is None  # a custom server's price is unknown, not 0


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("fault", ["400", "401"])
async def test_client_errors_are_never_retried(
    tmp_path: Path,
    library: Library,
    loopback: LoopbackServer,
    model_name: str,
    fast_settings: RunSettings,
    transport: str,
    fault: str,
) -> None:
    loopback.script(model_name, fault)
    settings = settings_for(fast_settings, transport, True)
    store, (generation,) = await run_one(tmp_path, library, loopback, model_name, settings)
    assert len(loopback.requests_for(model_name)) == 1
    assert generation.status == "error"
    assert generation.attempts == 1
    assert generation.error_class
    assert fault in (generation.error_message or "") or "rror" in (generation.error_message or "")
    assert store.get_run(generation.run_id).status == "failed"


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_gives_up_after_max_attempts(
    tmp_path: Path,
    library: Library,
    loopback: LoopbackServer,
    model_name: str,
    fast_settings: RunSettings,
    transport: str,
) -> None:
    loopback.script(model_name, *["500"] * 10)
    settings = settings_for(fast_settings, transport, True)
    _, (generation,) = await run_one(tmp_path, library, loopback, model_name, settings)
    assert len(loopback.requests_for(model_name)) == settings.max_attempts
    assert (generation.status, generation.attempts) == ("error", settings.max_attempts)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_retry_after_is_honoured_up_to_its_cap(
    tmp_path: Path,
    library: Library,
    loopback: LoopbackServer,
    model_name: str,
    fast_settings: RunSettings,
    transport: str,
) -> None:
    loopback.script(model_name, "429:1", "429:600")
    settings = RunSettings(
        **{**settings_for(fast_settings, transport, True).as_dict(), "retry_after_cap": 1.5}
    )
    _, (generation,) = await run_one(tmp_path, library, loopback, model_name, settings)
    seen = loopback.requests_for(model_name)
    assert [s.action for s in seen] == ["429:1", "429:600", "ok"]
    assert generation.status == "ok" and generation.attempts == 3
    assert seen[1].at - seen[0].at >= 0.95  # waited the 1 s the server asked for
    assert seen[2].at - seen[1].at >= 1.45  # and 600 s was capped at 1.5 s (not waited)
    assert seen[2].at - seen[1].at < 60


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_n_seed_and_temperature_reach_the_server(
    tmp_path: Path,
    library: Library,
    loopback: LoopbackServer,
    model_name: str,
    fast_settings: RunSettings,
    transport: str,
) -> None:
    settings = settings_for(fast_settings, transport, True)
    _, generations = await run_one(
        tmp_path,
        library,
        loopback,
        model_name,
        settings,
        samples=4,
        n_per_call=2,
        temperature=0.8,
    )
    bodies = sorted((s.body for s in loopback.requests_for(model_name)), key=lambda b: b["seed"])
    assert [(b.get("n"), b["seed"], b["temperature"]) for b in bodies] == [
        (2, 40, 0.8),
        (2, 42, 0.8),
    ]
    assert all(b["max_tokens"] == 64 for b in bodies)
    by_sample = {g.sample_index: g for g in generations}
    assert sorted(by_sample) == [0, 1, 2, 3]
    assert all(g.status == "ok" for g in generations)
    # Choice i of the call with seed s belongs to sample s - run seed + i.
    assert by_sample[1].text is not None and "choice=1" in by_sample[1].text
    assert by_sample[2].text is not None and "seed=42" in by_sample[2].text
    assert all(g.tokens_estimated for g in generations)  # usage shared out across choices


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "plain"])
async def test_missing_usage_falls_back_to_tiktoken_marked_estimated(
    tmp_path: Path,
    library: Library,
    loopback: LoopbackServer,
    model_name: str,
    fast_settings: RunSettings,
    transport: str,
    stream: bool,
) -> None:
    from studio.tokens import count_tokens

    loopback.script(model_name, "nousage")
    settings = settings_for(fast_settings, transport, stream)
    _, (generation,) = await run_one(tmp_path, library, loopback, model_name, settings)
    assert generation.status == "ok" and generation.tokens_estimated
    assert generation.text is not None
    assert generation.completion_tokens == count_tokens(generation.text)
    assert generation.prompt_tokens and generation.prompt_tokens > 100  # the whole prompt
