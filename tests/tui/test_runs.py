"""Runs screen: the table, the filter, full-text search, a run's detail and comparing two."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Markdown

from studio.tui.app import StudioApp
from studio.tui.screens.compare import CompareScreen
from studio.tui.screens.run_detail import RunDetailScreen
from tests.tui.conftest import settle

SIZE = (120, 40)


async def test_empty_database_says_what_to_do(tmp_path: Path, library_copy: Path) -> None:
    app = StudioApp(db_path=tmp_path / "empty.db", library_dir=library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        empty = app.screen.query_one("#runs-empty", Markdown)
        assert empty.display and not empty.has_class("-hidden")
        assert "No runs yet" in empty.source
        # The suggested commands must be ones that work: a topic path, not a tree id.
        assert "--topic physics/mechanics/newtons-laws" in empty.source
        assert "studio --db sample_runs/studio.db" in empty.source
        assert app.screen.query_one("#runs-table").has_class("-hidden")
    assert (tmp_path / "empty.db").exists()


async def test_table_lists_runs_from_the_database(
    db_with_runs: tuple[Path, list[str]], library_copy: Path
) -> None:
    db_path, run_ids = db_with_runs
    app = StudioApp(db_path=db_path, library_dir=library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("#runs-table", DataTable)
        assert table.row_count == 2
        # Newest first by default.
        assert [row.key.value for row in table.ordered_rows] == [run_ids[1], run_ids[0]]
        assert table.get_row(run_ids[0])[1] == "optics-plain"
        assert table.get_row(run_ids[0])[3] == "3/0/0"

        app.screen.query_one("#runs-filter", Input).value = "plain"
        await pilot.pause()
        assert [row.key.value for row in table.ordered_rows] == [run_ids[0]]
        await pilot.press("escape")
        await pilot.pause()
        assert table.row_count == 2


async def test_sort_by_clicking_a_header(
    db_with_runs: tuple[Path, list[str]], library_copy: Path
) -> None:
    db_path, run_ids = db_with_runs
    app = StudioApp(db_path=db_path, library_dir=library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        table.post_message(
            DataTable.HeaderSelected(table, table.ordered_columns[1].key, 1, label=None)  # type: ignore[arg-type]
        )
        await pilot.pause()
        assert screen.sort_column == "name"  # type: ignore[attr-defined]
        assert [row.key.value for row in table.ordered_rows] == run_ids


async def test_full_text_search_finds_texts_and_opens_their_run(
    db_with_runs: tuple[Path, list[str]], library_copy: Path
) -> None:
    db_path, run_ids = db_with_runs
    app = StudioApp(db_path=db_path, library_dir=library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+f")
        await pilot.press(*"upon a time")
        await settle(app, pilot)
        hits = app.screen.query_one("#runs-hits", DataTable)
        assert not hits.has_class("-hidden")
        assert hits.row_count == 3
        assert {hits.get_row_at(i)[0] for i in range(3)} == {run_ids[1]}
        await pilot.press("enter")  # focus the hits
        await pilot.press("enter")  # open the highlighted hit
        await settle(app, pilot)
        assert isinstance(app.screen, RunDetailScreen)
        assert app.screen.run_id == run_ids[1]


async def test_run_detail_shows_texts_and_metrics(
    db_with_runs: tuple[Path, list[str]], library_copy: Path
) -> None:
    db_path, run_ids = db_with_runs
    app = StudioApp(db_path=db_path, library_dir=library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        gens = screen.query_one("#run-gens", DataTable)
        assert gens.row_count == 3
        assert screen.data is not None
        assert screen.data.run.id == run_ids[1]
        # Stored without scores: opening the run scores it through studio.scoring.
        assert len(screen.data.text_metrics) == 3
        assert {row["group_by"] for row in screen.data.run_metrics} >= {"all", "model"}
        assert "Once upon a time" in str(screen.query_one("#run-text").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "RunsScreen"
    from studio.store import Store

    with Store(db_path) as store:
        assert len(store.text_metrics(run_ids[1])) == 3


async def test_mark_two_runs_and_compare(
    db_with_runs: tuple[Path, list[str]], library_copy: Path
) -> None:
    db_path, run_ids = db_with_runs
    app = StudioApp(db_path=db_path, library_dir=library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("space", "down", "space")
        await pilot.pause()
        assert sorted(app.screen.marked) == sorted(run_ids)  # type: ignore[attr-defined]
        await pilot.press("c")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert screen.comparison is not None
        names = {row.metric for row in screen.comparison.per_text}
        assert "n_words" in names
        table = screen.query_one("#cmp-table", DataTable)
        assert table.row_count == len(screen.comparison.per_text)
        # Run B repeats its opening: the set metric shows it.
        story = next(i for i, label in enumerate(screen.comparison.labels) if "story" in label)
        assert screen.comparison.sets[story]["opening_diversity"] < 1.0
        assert screen.comparison.sets[1 - story]["opening_diversity"] == 1.0


async def test_an_unreadable_database_is_reported_not_raised(
    tmp_path: Path, library_copy: Path
) -> None:
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not an SQLite file at all" * 100)
    app = StudioApp(db_path=bad, library_dir=library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        status = str(app.screen.query_one("#runs-status").render())
        assert "DatabaseError" in status
        assert app.is_running
