"""Open the Textual app from the command line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.cli.context import StudioContext


def open_tui(ctx: StudioContext) -> None:
    from studio.tui.app import StudioApp

    StudioApp(db_path=ctx.db_path, library_dir=ctx.library_dir).run()
