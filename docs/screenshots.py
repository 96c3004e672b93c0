"""Drive the real studio app with Pilot and save SVG screenshots of its main screens.

Runs on temp copies of ``sample_runs/studio.db`` and ``personas/`` (the committed files are
never written) and saves into ``docs/screenshots/``:

    uv run python docs/screenshots.py

Everything but the preview is deterministic: the sample runs carry fixed timestamps and the
cursor does not blink. The preview streams from the offline models, so its run id, latencies
and elapsed time differ from one run of this script to the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
SIZE = (140, 44)
PREVIEW_MODELS = ("offline/default", "offline/fast", "offline/instant")


async def settle(app: Any, pilot: Any) -> None:
    from textual.worker import WorkerCancelled

    for _ in range(3):
        with contextlib.suppress(WorkerCancelled):
            await app.workers.wait_for_complete()
        await pilot.pause()


async def take(tmp: Path) -> list[str]:
    from textual.widgets import Input, SelectionList

    from studio.tui.app import StudioApp
    from studio.tui.screens.library import LibraryScreen
    from studio.tui.screens.preview import PreviewScreen

    saved: list[str] = []
    app = StudioApp(db_path=tmp / "studio.db", library_dir=tmp / "personas")

    def shot(name: str) -> None:
        app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
        saved.append(f"{name}.svg")

    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        shot("runs")

        await pilot.press("space", "down", "down", "space", "c")  # two English suites
        await settle(app, pilot)
        shot("compare")
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("enter")
        await settle(app, pilot)
        shot("run-detail-texts")
        await pilot.press("m")
        await settle(app, pilot)
        shot("run-detail-metrics")
        await pilot.press("escape")
        await settle(app, pilot)

        await pilot.press("f2")
        await settle(app, pilot)
        library = app.screen
        assert isinstance(library, LibraryScreen)
        shot("library-personas")
        for tab in ("topics", "styles"):
            library.show_tab(tab)
            await settle(app, pilot)
            shot(f"library-{tab}")

        await pilot.press("f3")
        await settle(app, pilot)
        preview = app.screen
        assert isinstance(preview, PreviewScreen)
        models = preview.query_one("#pv-models", SelectionList)
        for model in PREVIEW_MODELS:
            models.select(model)
        preview.query_one("#pv-n", Input).value = "1"
        preview.query_one("#pv-max-tokens", Input).value = "300"
        await pilot.pause()
        await pilot.press("ctrl+j")
        while preview.preview_worker is None or not preview.preview_worker.is_finished:
            await pilot.pause(0.1)
        await settle(app, pilot)
        shot("preview")
    return saved


def main() -> None:
    from textual.widgets import Input, TextArea

    # Screenshots that do not change from one run to the next: no blinking cursor.
    Input.cursor_blink._default = False
    TextArea.cursor_blink._default = False
    os.environ["TEXTUAL_ANIMATIONS"] = "none"
    os.environ["STUDIO_OFFLINE_PACE_MS"] = "2"
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        shutil.copyfile(REPO / "sample_runs" / "studio.db", tmp / "studio.db")
        shutil.copytree(REPO / "personas", tmp / "personas")
        for saved in asyncio.run(take(tmp)):
            print(OUT.relative_to(REPO) / saved)


if __name__ == "__main__":
    main()
