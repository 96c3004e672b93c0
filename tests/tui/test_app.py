"""The app's conventions: namespaced palette commands, help, remappable keys."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

from textual.binding import Binding

import studio.tui
from studio.tui.app import StudioApp
from studio.tui.screens.help import HelpScreen
from tests.tui.conftest import settle

SIZE = (120, 40)


async def test_palette_offers_namespaced_commands_per_screen(
    tmp_path: Path, library_copy: Path
) -> None:
    app = StudioApp(db_path=tmp_path / "studio.db", library_dir=library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        runs_titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"run: compare", "run: search texts", "go: library", "app: quit"} <= runs_titles
        assert all(":" in title for title in runs_titles)
        await pilot.press("f2")
        await settle(app, pilot)
        library_titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"persona: new", "topic: add", "topic: move", "style: edit"} <= library_titles
        assert "run: compare" not in library_titles


async def test_f1_opens_help_for_the_screen_and_escape_closes_it(
    tmp_path: Path, library_copy: Path
) -> None:
    app = StudioApp(db_path=tmp_path / "studio.db", library_dir=library_copy, start_mode="library")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.about.__class__.__name__ == "LibraryScreen"
        assert "ctrl+s" in app.screen._text()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "LibraryScreen"


async def test_keys_remap_by_binding_id(tmp_path: Path, library_copy: Path) -> None:
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('[keys]\n"app.library" = "f6"\n', encoding="utf-8")
    app = StudioApp(db_path=tmp_path / "studio.db", library_dir=library_copy, keymap_path=keymap)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        assert app.current_mode == "library"


def test_every_binding_of_ours_has_an_id() -> None:
    checked = 0
    for module_info in pkgutil.walk_packages(studio.tui.__path__, "studio.tui."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for binding in cls.__dict__.get("BINDINGS", []):
                assert isinstance(binding, Binding) and binding.id, (cls, binding)
                checked += 1
    assert checked > 20
