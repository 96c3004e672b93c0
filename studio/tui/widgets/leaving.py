"""Shared by the editors: ask before unsaved changes are left behind, and list file errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    from textual.widget import Widget
    from textual.widgets import Static

    from studio.library import LibraryError


def confirm_leave(
    widget: Widget,
    dirty: bool,
    name: str,
    save: Callable[[], bool],
    proceed: Callable[[], object],
) -> None:
    """Call ``proceed`` at once when nothing is unsaved, else ask: save, discard or stay."""
    if not dirty:
        proceed()
        return
    from studio.tui.screens.dialogs import ConfirmScreen

    def answered(choice: str | None) -> None:
        if (choice == "save" and save()) or choice == "discard":
            proceed()

    widget.app.push_screen(
        ConfirmScreen(
            f"{name} has unsaved changes.",
            [("save", "Save"), ("discard", "Discard"), ("cancel", "Stay")],
        ),
        answered,
    )


def show_errors(target: Static, errors: list[LibraryError]) -> None:
    """``line N: field: message`` per error, in the error panel under an editor."""
    text = Text()
    for index, error in enumerate(errors):
        if index:
            text.append("\n")
        where = f"line {error.line}: " if error.line else ""
        text.append(f"{where}{error.field}: ", style="bold")
        text.append(error.message)
    target.update(text)
    target.set_class(not errors, "-hidden")
