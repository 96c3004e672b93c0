"""Screenshots of the main screens at a fixed size, compared with the accepted SVGs.

Update them after a deliberate change with ``pytest tests/tui/test_snapshots.py
--snapshot-update`` and look at the new files before committing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.tui.app import StudioApp
from tests.tui.conftest import settle

if TYPE_CHECKING:
    from textual.pilot import Pilot

SIZE = (120, 40)


async def _settle(pilot: Pilot[Any]) -> None:
    await settle(pilot.app, pilot)


def test_runs_screen(
    snap_compare: Any, db_with_runs: tuple[Path, list[str]], library_copy: Path
) -> None:
    db_path, _ = db_with_runs
    app = StudioApp(db_path=db_path, library_dir=library_copy)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_empty_database(snap_compare: Any, tmp_path: Path, library_copy: Path) -> None:
    app = StudioApp(db_path=tmp_path / "empty.db", library_dir=library_copy)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_run_detail(
    snap_compare: Any, db_with_runs: tuple[Path, list[str]], library_copy: Path
) -> None:
    db_path, _ = db_with_runs
    app = StudioApp(db_path=db_path, library_dir=library_copy)

    async def open_run(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_run)


def test_persona_editor(snap_compare: Any, tmp_path: Path, library_copy: Path) -> None:
    app = StudioApp(db_path=tmp_path / "studio.db", library_dir=library_copy, start_mode="library")
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_style_editor(snap_compare: Any, tmp_path: Path, library_copy: Path) -> None:
    app = StudioApp(db_path=tmp_path / "studio.db", library_dir=library_copy, start_mode="library")

    async def show_styles(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        pilot.app.screen.show_tab("styles")  # type: ignore[attr-defined]
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=show_styles)


def test_preview_setup(snap_compare: Any, tmp_path: Path, library_copy: Path) -> None:
    app = StudioApp(db_path=tmp_path / "studio.db", library_dir=library_copy, start_mode="preview")
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)
