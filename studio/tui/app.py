"""The studio app: three modes (Library, Preview, Runs) over one library folder and one database.

Start-up stays under half a second because this module imports only Textual and our own light
modules. The library (ruamel.yaml, jinja2) loads in a thread worker that posts
``LibraryLoaded``; the database opens inside the first thread worker that needs it; litellm and
scipy load only when a preview runs or two runs are compared.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import var

from studio.tui.data import StoreHandle

if TYPE_CHECKING:
    from textual.screen import Screen

    from studio.library import Library
    from studio.tui.screens.library import LibraryScreen


def _library_screen() -> Screen[Any]:
    from studio.tui.screens.library import LibraryScreen

    return LibraryScreen()


def _preview_screen() -> Screen[Any]:
    from studio.tui.screens.preview import PreviewScreen

    return PreviewScreen()


def _runs_screen() -> Screen[Any]:
    from studio.tui.screens.runs import RunsScreen

    return RunsScreen()


def _export_screen() -> Screen[Any]:
    from studio.tui.screens.export import ExportScreen

    return ExportScreen()


class LibraryLoaded(Message):
    """The library folder was (re)loaded in a worker."""

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library


class LibraryFailed(Message):
    """The library folder could not be read at all."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class StudioApp(App[None]):
    """Synth Studio in the terminal."""

    TITLE = "Synth Studio"
    CSS_PATH = Path(__file__).parent / "studio.tcss"  # absolute, so subclasses find it too
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "library": _library_screen,
        "preview": _preview_screen,
        "runs": _runs_screen,
        "export": _export_screen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Help", id="app.help"),
        Binding("f2", "switch_mode('library')", "Library", id="app.library"),
        Binding("f3", "switch_mode('preview')", "Preview", id="app.preview"),
        Binding("f4", "switch_mode('runs')", "Runs", id="app.runs"),
        Binding("f5", "switch_mode('export')", "Export", id="app.export"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True, id="app.quit"),
    ]

    library: var[Library | None] = var(None, always_update=True)
    """The loaded library; screens watch it. None until the first load finishes."""

    library_error: var[str] = var("")

    def __init__(
        self,
        db_path: Path | str,
        library_dir: Path | str,
        *,
        start_mode: str = "runs",
        keymap_path: Path | None = None,
        notice: str | None = None,
    ) -> None:
        super().__init__()
        self.notice = notice
        self.db_path = Path(db_path)
        self.library_dir = Path(library_dir)
        self.store = StoreHandle(self.db_path)
        self.start_mode = start_mode
        self.keymap_path = keymap_path or _default_keymap_path()
        self.library_screen: LibraryScreen | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._apply_keymap()
        self.switch_mode(self.start_mode)
        if self.notice:
            self.notify(self.notice, title="Welcome", timeout=12)
        # Load after the first frame is drawn: the loader's imports would compete for the GIL.
        self.call_after_refresh(self.reload_library)

    def on_unmount(self) -> None:
        self.store.close()

    def _apply_keymap(self) -> None:
        """Remap keys by binding id from ``keymap.toml`` (``[keys]`` table: id = "key")."""
        path = self.keymap_path
        if path is None or not path.is_file():
            return
        try:
            keys = tomllib.loads(path.read_text(encoding="utf-8")).get("keys", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            self.notify(f"{path}: {exc}", title="keymap not loaded", severity="warning")
            return
        self.set_keymap({str(k): str(v) for k, v in keys.items()})

    # -- the library ---------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="library")
    def reload_library(self) -> None:
        """Load (or reload) the library folder off the UI thread."""
        from studio.library import load_library

        try:
            library = load_library(self.library_dir)
        except OSError as exc:
            self.post_message(LibraryFailed(f"{self.library_dir}: {exc}"))
            return
        self.post_message(LibraryLoaded(library))

    def on_library_loaded(self, message: LibraryLoaded) -> None:
        self.library_error = ""
        self.library = message.library

    def on_library_failed(self, message: LibraryFailed) -> None:
        self.library_error = message.error
        self.notify(message.error, title="library not loaded", severity="error")

    # -- actions -------------------------------------------------------------------------------

    def action_help(self) -> None:
        from studio.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_quit(self) -> None:
        """Quit, after asking when a library editor has unsaved changes."""
        unsaved = self.library_screen.unsaved() if self.library_screen is not None else []
        if not unsaved:
            self.exit()
            return
        from studio.tui.screens.dialogs import ConfirmScreen

        def answered(choice: str | None) -> None:
            if choice == "discard" or (
                choice == "save" and self.library_screen and self.library_screen.save_all()
            ):
                self.exit()

        self.push_screen(
            ConfirmScreen(
                "The library has unsaved changes.",
                [("save", "Save and quit"), ("discard", "Quit without saving"), ("cancel", "Stay")],
            ),
            answered,
        )

    def goto(self, mode: str, then: Callable[[Screen[Any]], None] | None = None) -> None:
        """Switch to ``mode`` and, once its screen is up, call ``then`` with it."""

        async def switch() -> None:
            await self.switch_mode(mode)
            if then is not None:
                then(self.screen)

        self.run_worker(switch(), group="goto", exclusive=True)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The palette: every action, namespaced, from the app and the screen in front."""
        yield SystemCommand("go: library", "Personas, topic trees and styles", self._go("library"))
        yield SystemCommand("go: preview", "Try models side by side", self._go("preview"))
        yield SystemCommand("go: runs", "Browse, search and compare runs", self._go("runs"))
        yield SystemCommand("go: export", "Mix runs and files into a dataset", self._go("export"))
        yield SystemCommand("app: help", "Keys and how this screen works", self.action_help)
        yield SystemCommand("library: reload", "Read the library folder again", self.reload_library)
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            yield from commands()
        for command in super().get_system_commands(screen):
            yield command._replace(title=f"app: {command.title.lower()}")

    def _go(self, mode: str) -> Callable[[], None]:
        return lambda: self.goto(mode)


def _default_keymap_path() -> Path | None:
    home = os.environ.get("STUDIO_HOME")
    return Path(home).expanduser() / "keymap.toml" if home else None
