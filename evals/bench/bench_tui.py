"""DESIGN 6, the two TUI rows: cold start to first frame, and frame gaps while 4 models stream.

Cold start: one subprocess per repeat, timed from just before the interpreter is spawned to
the Runs screen's first refresh (headless, 120x40) on an empty database. The reference, in
the same run, is a bare Textual app with Header, Input, DataTable and Footer timed the same
way. Also timed: the run list populated from a temp copy of ``sample_runs/studio.db``.
Times are ``time.monotonic()``, which is one clock across processes on Linux and macOS.

Frame gaps: the Preview screen streams 1 sample from each of the 4 offline models, paced at
5 ms per chunk (``STUDIO_OFFLINE_PACE_MS=5``; with the per-chunk work of litellm's stream
wrapper that is 100-115 chunks/s per pane here, printed; ``BENCH_PACE_MS`` overrides). A 5 ms
interval timer on the app records the time between its ticks from a run's first streamed
chunk to the first tick that sees every sample finished (state, numbers and scores shown); a
late tick is a frame the UI loop could not have drawn. The reference is the same app, idle on the
same screen, measured the same way.

    uv run python evals/bench/bench_tui.py [--repeats 7] [--stream-repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("litellm", "scipy")
SIZE = (120, 40)
TICK_S = 0.005
STREAM_MODELS = ("offline/default", "offline/fast", "offline/slow", "offline/instant")


# -- children: each prints "<monotonic time> <heavy modules imported>" and exits -------------


def _report(app: Any) -> None:
    heavy = [name for name in HEAVY if name in sys.modules]
    print(f"{time.monotonic():.6f} {','.join(heavy) or '-'}", flush=True)
    app.exit()


def child_bare() -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Footer, Header, Input

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Input()
            yield DataTable()
            yield Footer()

        def on_mount(self) -> None:
            self.call_after_refresh(_report, self)

    Bare().run(headless=True, size=SIZE)


def child_studio(db: str, library: str, wait_for_runs: bool) -> None:
    from studio.tui.app import StudioApp
    from studio.tui.screens.runs import RunsLoaded, RunsScreen

    class TimedRuns(RunsScreen):
        # Textual calls RunsScreen's own handlers as well; these only add the report.
        def on_mount(self) -> None:
            if not wait_for_runs:
                self.call_after_refresh(_report, self.app)

        def on_runs_loaded(self, message: RunsLoaded) -> None:
            if wait_for_runs:
                self.call_after_refresh(_report, self.app)

    class TimedApp(StudioApp):
        MODES: ClassVar[dict[str, Any]] = {**StudioApp.MODES, "runs": TimedRuns}

    TimedApp(db_path=db, library_dir=library).run(headless=True, size=SIZE)


# -- cold start -------------------------------------------------------------------------------


def spawn(*args: str) -> tuple[float, str]:
    """Seconds from spawning a child to its report, and the heavy modules it had imported."""
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=REPO,
    ).stdout
    stamp, heavy = out.strip().splitlines()[-1].split()
    return float(stamp) - start, "" if heavy == "-" else heavy


def cold_start(repeats: int, tmp: Path) -> None:
    empty = tmp / "empty.db"
    sample = tmp / "sample.db"
    shutil.copyfile(REPO / "sample_runs" / "studio.db", sample)
    library = str(REPO / "personas")
    bare: list[float] = []
    ours: list[float] = []
    populated: list[float] = []
    heavy: set[str] = set()
    spawn("bare")  # warm the file cache and bytecode for both sides
    spawn("studio", str(empty), library, "frame")
    for _ in range(repeats):
        bare.append(spawn("bare")[0])
        seconds, loaded = spawn("studio", str(empty), library, "frame")
        ours.append(seconds)
        heavy.update(filter(None, loaded.split(",")))
        seconds, loaded = spawn("studio", str(sample), library, "runs")
        populated.append(seconds)
        heavy.update(filter(None, loaded.split(",")))
    ref, us = statistics.median(bare), statistics.median(ours)
    print(f"cold start to first frame, {SIZE[0]}x{SIZE[1]} headless, median of {repeats}:")
    print(f"  bare Textual app (Header/Input/DataTable/Footer): {ref:.3f} s")
    print(f"  studio, Runs screen on an empty database:         {us:.3f} s"
          f"  (min {min(ours):.3f}, max {max(ours):.3f})")  # fmt: skip
    print(f"  ratio studio / bare: {us / ref:.2f}x; target <= 0.5 s: "
          f"{'met' if us <= 0.5 else 'NOT met'}")  # fmt: skip
    print(f"  litellm/scipy imported: {', '.join(sorted(heavy)) or 'neither'}")
    print(f"  run list populated from a copy of sample_runs/studio.db: "
          f"{statistics.median(populated):.3f} s")  # fmt: skip


# -- frame gaps -------------------------------------------------------------------------------


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def describe(label: str, gaps: list[float]) -> str:
    values = sorted(gaps)
    return (
        f"  {label}: median {statistics.median(values) * 1000:5.1f} ms · "
        f"p99 {percentile(values, 0.99) * 1000:5.1f} ms · max {values[-1] * 1000:5.1f} ms "
        f"({len(values)} ticks)"
    )


async def settle(app: Any, pilot: Any) -> None:
    from textual.worker import WorkerCancelled

    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()


async def measure_gaps(tmp: Path, idle_s: float, stream_repeats: int) -> None:
    from textual.widgets import Input, SelectionList

    from studio.tui.app import StudioApp
    from studio.tui.screens.preview import PreviewScreen

    app = StudioApp(db_path=tmp / "stream.db", library_dir=REPO / "personas", start_mode="preview")
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PreviewScreen)
        models = screen.query_one("#pv-models", SelectionList)
        for model in STREAM_MODELS:
            models.select(model)
        screen.query_one("#pv-n", Input).value = "1"
        screen.query_one("#pv-max-tokens", Input).value = "1500"
        await pilot.pause()

        gaps: list[float] = []
        recording = [False]
        last = [time.perf_counter()]
        deltas = [0]

        streaming_panes = [False]  # set while a run's samples stream (not during idle)
        windows: list[float] = []
        window_start = [0.0]

        def tick() -> None:
            now = time.perf_counter()
            if recording[0]:
                gaps.append(now - last[0])
                # The window ends at the first tick that sees no sample streaming any more.
                if streaming_panes[0] and not any(
                    p.state in ("waiting", "streaming") for p in screen.panes.values()
                ):
                    recording[0] = streaming_panes[0] = False
                    windows.append(now - window_start[0])
            last[0] = now

        app.set_interval(TICK_S, tick)
        recording[0] = True
        await asyncio.sleep(idle_s)
        recording[0] = False
        idle = list(gaps)
        gaps.clear()

        forward = screen.on_run_event

        def counting(event: Any) -> None:
            if type(event).__name__ == "JobDelta":
                deltas[0] += 1
                if not recording[0] and not streaming_panes[0]:
                    recording[0] = streaming_panes[0] = True
                    window_start[0] = time.perf_counter()
            forward(event)

        screen.on_run_event = counting  # type: ignore[method-assign]
        streamed: list[float] = []
        runs: list[str] = []
        for _ in range(stream_repeats):
            gaps.clear()
            recording[0] = False
            previous = screen.preview_worker
            await pilot.press("ctrl+j")
            # Until the key is handled, preview_worker is still the last run's finished worker.
            while screen.preview_worker is previous:
                await asyncio.sleep(0.01)
            while screen.preview_worker is None or not screen.preview_worker.is_finished:
                await asyncio.sleep(0.05)
            await settle(app, pilot)  # the samples' scoring workers, before the next run
            while recording[0]:
                await asyncio.sleep(0.05)
            streamed += gaps
            runs.append(describe(f"  run {len(runs) + 1}, {windows[-1]:.1f} s streaming", gaps))
        chunk_rate = deltas[0] / len(STREAM_MODELS) / max(sum(windows), 1e-9)

    print(f"frame gaps, 160x50, {TICK_S * 1000:.0f} ms timer (target: no gap over 50 ms):")
    print(describe(f"idle Preview screen, {idle_s:.0f} s   ", idle))
    print(describe(f"4 panes streaming, {stream_repeats} runs", streamed))
    print("\n".join(runs))
    print(f"  {deltas[0]} chunks, about {chunk_rate:.0f} chunks/s per pane; "
          f"max gap streaming / idle: {max(streamed) / max(idle):.1f}x; target "
          f"{'met' if max(streamed) <= 0.05 else 'NOT met'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--stream-repeats", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    parser.add_argument("--only", choices=("start", "gaps"), help="run one of the two parts")
    args = parser.parse_args()
    os.environ["STUDIO_OFFLINE_PACE_MS"] = os.environ.get("BENCH_PACE_MS", "5")
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if args.only != "gaps":
            cold_start(args.repeats, tmp)
        if args.only != "start":
            asyncio.run(measure_gaps(tmp, args.idle_seconds, args.stream_repeats))


if __name__ == "__main__":
    # The cold-start children run this file again: --child bare | studio DB LIBRARY frame|runs
    _CHILD = sys.argv[2] if len(sys.argv) > 2 and sys.argv[1] == "--child" else ""
    if _CHILD == "bare":
        child_bare()
    elif _CHILD == "studio":
        child_studio(sys.argv[3], sys.argv[4], wait_for_runs=sys.argv[5] == "runs")
    else:
        main()
