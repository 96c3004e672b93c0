"""Open the Textual app from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.cli.context import StudioContext


def open_tui(ctx: StudioContext, *, seeded: bool = False) -> None:
    from studio.tui.app import StudioApp

    notice = (
        f"First start: {ctx.db_path} begins with the sample runs (sample_runs/), "
        "so there is something to look at."
        if seeded
        else None
    )
    StudioApp(db_path=ctx.db_path, library_dir=ctx.library_dir, notice=notice).run()
