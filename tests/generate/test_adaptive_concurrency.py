"""End to end: a burst of 429s lowers the concurrency the server sees, and it grows back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from studio.generate import RunSession, RunSettings, RunSpec, prepare_run
from studio.generate.config import ModelConfig
from studio.store import Store

if TYPE_CHECKING:
    from studio.library import Library
    from tests.generate.loopback import LoopbackServer


async def test_a_burst_of_429s_halves_the_requests_in_flight_at_the_server(
    tmp_path: Path, library: Library, loopback: LoopbackServer, model_name: str
) -> None:
    ceiling = 8
    loopback.script(model_name, *["429:0"] * ceiling)  # the first wave is refused
    loopback.behaviours[model_name].latency = 0.15
    spec = RunSpec(
        personas=("college",),
        topics=("physics/mechanics/newtons-laws",),
        styles=("story",),
        models=(model_name,),
        samples=40,
        max_tokens=32,
        api_base=loopback.base_url,
        settings=RunSettings(concurrency=ceiling, timeout=10, max_attempts=4,
                             backoff_base=0.01, stream=False),
    )  # fmt: skip
    store = Store(tmp_path / "s.db")
    summary = await RunSession(store, prepare_run(store, library, spec, ModelConfig())).run()
    assert summary.ok == 40 and summary.error == 0

    seen = loopback.requests_for(model_name)
    first, after = seen[:ceiling], seen[ceiling:]
    assert [s.action for s in first] == ["429:0"] * ceiling
    assert max(s.in_flight for s in first) == ceiling  # it started at the ceiling
    # One halving for the whole burst (they were all in flight at once): 4 slots, then one
    # more per window of successes. (+1: the server counts a request as served until its
    # handler returns, which can be just after the client has sent the next one.)
    assert max(s.in_flight for s in after[:8]) <= ceiling // 2 + 1
    assert max(s.in_flight for s in after) > ceiling // 2 + 1  # and it grew back
