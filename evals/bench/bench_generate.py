"""Generation throughput against raw aiohttp on the same loopback server (DESIGN 6).

A loopback OpenAI-compatible server (tests/generate/loopback.py) runs in its own process and
answers every request after 200 ms. With K requests in flight the ideal is K / 0.2 s. Each
client sends the same non-streaming chat request, in the same run:

- ``raw aiohttp``: one shared session, a semaphore, ``json.loads`` of the body: the reference;
- ``litellm``: ``litellm.acompletion`` alone, ``max_retries=0``, a semaphore;
- ``studio direct``: our Runner on the direct path (the default for OpenAI-compatible
  servers), building every Generation record (tokens, cost, events) but storing none;
- ``studio direct+db``: the same, committing each generation to SQLite as it finishes
  (through ``StoreWriter``'s thread, as ``studio generate`` does);
- ``studio litellm``: our Runner forced through litellm.

Prints requests/s (median of repeats) and each client's ratio to raw aiohttp. Target: studio
direct >= 75% of raw aiohttp at 128 in flight.

    uv run python evals/bench/bench_generate.py [--quick] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.library import Library

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

LATENCY = 0.2
Client = Callable[[str, int, int], Callable[[], Awaitable[None]]]
MODEL = "bench-model"


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.generate.loopback", str(LATENCY)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    base = proc.stdout.readline().strip()
    if not base.startswith("http"):
        proc.kill()
        raise RuntimeError("loopback server did not start")
    return proc, base


@functools.cache
def library() -> Library:
    from studio.library import load_library

    return load_library(REPO / "personas")


def messages() -> list[dict[str, str]]:
    from studio.generate.spec import RunSpec, plan

    spec = RunSpec(
        personas=("college",),
        topics=("physics/mechanics/newtons-laws",),
        styles=("textbook-academic",),
        models=(MODEL,),
    )
    return plan(spec, library()).prompts[0].message_dicts()


async def raw_aiohttp(base: str, n: int, in_flight: int) -> None:
    import aiohttp

    body = json.dumps({"model": MODEL, "messages": messages(), "max_tokens": 64, "seed": 1})
    gate = asyncio.Semaphore(in_flight)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one() -> None:
            async with (
                gate,
                session.post(
                    f"{base}/chat/completions",
                    data=body,
                    headers={"Content-Type": "application/json"},
                ) as resp,
            ):
                data = json.loads(await resp.read())
                assert data["choices"][0]["message"]["content"]

        await asyncio.gather(*(one() for _ in range(n)))


async def litellm_alone(base: str, n: int, in_flight: int) -> None:
    from studio.generate.gateway import load_litellm

    litellm = load_litellm()
    msgs = messages()
    gate = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with gate:
            response = await litellm.acompletion(
                model=f"openai/{MODEL}",
                messages=msgs,
                api_base=base,
                api_key="no-key",
                max_tokens=64,
                seed=1,
                timeout=60,
                max_retries=0,
            )
            assert response.choices[0].message.content

    await asyncio.gather(*(one() for _ in range(n)))


def studio_client(transport: str, with_db: bool) -> Client:
    """Our Runner; planning (job ids for every sample) happens before the clock starts."""

    def prepare(base: str, n: int, in_flight: int) -> Callable[[], Awaitable[None]]:
        from studio.generate.config import ModelConfig
        from studio.generate.runner import Runner
        from studio.generate.session import resolve_routes
        from studio.generate.spec import RunSettings, RunSpec, plan
        from studio.generate.writer import StoreWriter
        from studio.store import Store

        settings = RunSettings(concurrency=in_flight, stream=False, timeout=60, transport=transport)
        spec = RunSpec(
            personas=("college",),
            topics=("physics/mechanics/newtons-laws",),
            styles=("textbook-academic",),
            models=(MODEL,),
            samples=n,
            max_tokens=64,
            seed=1,
            api_base=base,
            settings=settings,
        )
        planned = plan(spec, library())
        routes = resolve_routes(spec, ModelConfig())

        async def run() -> None:
            store = None
            sink = None
            run_id = "bench"
            if with_db:
                folder = tempfile.mkdtemp(prefix="bench-generate-")
                store = Store(Path(folder) / "bench.db")
                run_id = store.create_run(planned.spec_record(), n_jobs=len(planned.jobs)).id
                for prompt in planned.prompts:
                    store.save_prompt(prompt)
                writer = StoreWriter(store.path)
                sink = writer
            runner = Runner(planned.jobs, routes, settings, run_id=run_id, sink=sink)
            summary = await runner.run()
            assert summary.ok == n, summary
            if store is not None:
                await asyncio.to_thread(writer.close)
                assert store.get_run(run_id).n_ok == n
                store.close()

        return run

    return prepare


def unprepared(
    client: Callable[[str, int, int], Awaitable[None]],
) -> Client:
    def prepare(base: str, n: int, in_flight: int) -> Callable[[], Awaitable[None]]:
        return lambda: client(base, n, in_flight)

    return prepare


CLIENTS: dict[str, Client] = {
    "raw aiohttp": unprepared(raw_aiohttp),
    "litellm": unprepared(litellm_alone),
    "studio direct": studio_client("direct", with_db=False),
    "studio direct+db": studio_client("direct", with_db=True),
    "studio litellm": studio_client("litellm", with_db=False),
}


def measure(client: Client, base: str, n: int, k: int, reps: int) -> float:
    rates = []
    for _ in range(reps):
        run = client(base, n, k)
        start = time.perf_counter()
        asyncio.run(run())
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--levels", default="8,32,128")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    from studio.generate.gateway import load_litellm

    load_litellm()  # import once, outside every timing
    library()
    proc, base = start_server()
    results: dict[str, dict[int, float]] = {}
    try:
        levels = [int(x) for x in args.levels.split(",")]
        names = [c.strip() for c in args.clients.split(",")]
        for k in levels:
            # Enough requests for ~15 latency rounds at full concurrency.
            n = k * (6 if args.quick else 15)
            for name in names:
                asyncio.run(CLIENTS[name](base, min(n, 2 * k), k)())  # warm-up
                results.setdefault(name, {})[k] = measure(CLIENTS[name], base, n, k, repeats)
                print(f"  {name:18s} in flight {k:4d}: {results[name][k]:7.1f} req/s", flush=True)
    finally:
        proc.kill()
        proc.wait()
    print()
    header = (
        "client              " + "".join(f"{k:>10d}" for k in levels) + "   (req/s; ratio to raw)"
    )
    print(header)
    print("ideal               " + "".join(f"{k / LATENCY:10.0f}" for k in levels))
    raw = results.get("raw aiohttp", {})
    for name, row in results.items():
        cells = "".join(
            f"{row[k]:6.0f}{'' if not raw else f' {row[k] / raw[k]:3.0%}'}" for k in levels
        )
        print(f"{name:20s}{cells}")
    if raw and "studio direct" in results:
        ratio = results["studio direct"][levels[-1]] / raw[levels[-1]]
        verdict = "meets" if ratio >= 0.75 else "misses"
        print(
            f"\nstudio direct at {levels[-1]} in flight: {ratio:.0%} of raw aiohttp"
            f" ({verdict} the 75% target)"
        )


if __name__ == "__main__":
    main()
