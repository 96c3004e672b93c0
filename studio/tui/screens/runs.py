"""Runs: every stored run in a sortable, filterable table, plus full-text search over texts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Markdown, Static

from studio.tui import display

if TYPE_CHECKING:
    from collections.abc import Iterable

    from studio.store import Generation, Run
    from studio.tui.app import StudioApp

EMPTY_HELP = """\
## No runs yet

This database has no runs. A run is a set of texts generated from personas × topics × styles
× models, stored here with their tokens, cost and scores.

1. **F2 Library**: look at the personas, topic trees and style templates; edit them.
2. **F3 Preview**: pick a persona, a topic, a style and up to 4 models, and press **ctrl+j**
   to stream samples side by side (`offline/default` needs no network). Each preview is
   stored as a run and shows up here.
3. Or from a shell: `studio generate --persona college --topic physics/mechanics/newtons-laws
   --style textbook-academic --model offline/default -n 5`
4. Or look around the shipped sample runs: `studio --db sample_runs/studio.db`

Press **ctrl+p** for every action, **F1** for help.
"""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("mark", " "),
    ("name", "Run"),
    ("status", "Status"),
    ("texts", "OK/err/cancel"),
    ("tokens", "Tokens"),
    ("cost", "Cost"),
    ("models", "Models"),
    ("created", "Created"),
    ("id", "Id"),
)


class RunsLoaded(Message):
    def __init__(self, runs: list[Run]) -> None:
        super().__init__()
        self.runs = runs


class RunsFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class SearchDone(Message):
    def __init__(self, query: str, hits: list[Generation], error: str = "") -> None:
        super().__init__()
        self.query = query
        self.hits = hits
        self.error = error


def spec_list(run: Run, key: str) -> list[str]:
    """A list from a run's spec (``models``, ``personas``...), whatever shape it was stored in."""
    value = run.spec.get(key) or []
    if isinstance(value, str):
        return [value]
    return [str(v.get("id", v)) if isinstance(v, dict) else str(v) for v in value]


def run_row(run: Run, marked: bool) -> tuple[Any, ...]:
    return (
        "●" if marked else " ",
        run.name or run.id,
        run.status,
        f"{run.n_ok}/{run.n_error}/{run.n_cancelled}",
        run.prompt_tokens + run.completion_tokens,
        run.cost_usd if run.cost_usd is not None else -1.0,
        ", ".join(spec_list(run, "models")),
        display.day(run.created_at),
        run.id,
    )


def run_matches(run: Run, needle: str) -> bool:
    if not needle:
        return True
    hay = " ".join(
        [
            run.id,
            run.name,
            run.status,
            *spec_list(run, "models"),
            *spec_list(run, "personas"),
            *spec_list(run, "styles"),
        ]
    ).lower()
    return all(part in hay for part in needle.lower().split())


class RunsTable(DataTable[Any]):
    """The runs table; vim keys live here, not on the screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="runs.down"),
        Binding("k", "cursor_up", "Up", show=False, id="runs.up"),
        Binding("space", "screen.mark", "Mark", id="runs.mark"),
        Binding("s", "screen.sort", "Sort", id="runs.sort"),
    ]


class RunsScreen(Screen[None]):
    """The run list. Opens a run's detail and compares two marked runs."""

    TITLE = "Runs"
    HELP = (
        "Every run in the database, newest first. Type in **Filter** to narrow by name, id, "
        "status, model or persona. **Search texts** runs a full-text search over every "
        "generated text. **enter** opens a run; **space** marks up to two runs and **c** "
        "compares them; **s** cycles the sort column (or click a header)."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="runs.filter"),
        Binding("ctrl+f", "focus_search", "Search", id="runs.search"),
        Binding("c", "compare", "Compare", id="runs.compare"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="runs.refresh"),
        Binding("escape", "clear", "Clear", show=False, id="runs.clear"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []
        self.marked: list[str] = []
        self.sort_column = "created"
        self.sort_reverse = True

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="runs-bar"):
            yield Input(placeholder="Filter runs (name, id, status, model)", id="runs-filter")
            yield Input(placeholder="Search texts (full text)", id="runs-search")
        with Vertical(id="runs-body"):
            yield Markdown(EMPTY_HELP, id="runs-empty", classes="-hidden")
            yield RunsTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="runs-hits-title", classes="-hidden section-title")
            yield DataTable(id="runs-hits", cursor_type="row", classes="-hidden")
        yield Static("Loading runs…", id="runs-status", classes="status-line")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        hits = self.query_one("#runs-hits", DataTable)
        for key, label in (("run", "Run"), ("persona", "Persona"), ("model", "Model"),
                           ("status", "Status"), ("text", "Text")):  # fmt: skip
            hits.add_column(label, key=key)
        table.focus()

    def on_screen_resume(self) -> None:
        self.call_after_refresh(self.load_runs)

    # -- loading -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="runs-load")
    def load_runs(self) -> None:
        import sqlite3

        from studio.store import SchemaTooNewError

        try:
            with self.studio.store.use() as store:
                runs = store.list_runs(limit=5000)
        except (sqlite3.Error, SchemaTooNewError, OSError) as exc:
            self.post_message(RunsFailed(f"{self.studio.db_path}: {type(exc).__name__}: {exc}"))
            return
        self.post_message(RunsLoaded(runs))

    def on_runs_failed(self, message: RunsFailed) -> None:
        self.query_one("#runs-status", Static).update(message.error)
        self.notify(message.error, title="database not readable", severity="error")

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        self.runs = message.runs
        known = {run.id for run in self.runs}
        self.marked = [run_id for run_id in self.marked if run_id in known]
        self.query_one("#runs-empty").set_class(bool(self.runs), "-hidden")
        self.query_one("#runs-table").set_class(not self.runs, "-hidden")
        self.fill_table()
        if self.runs and (self.focused is None or not self.focused.display):
            self.query_one("#runs-table").focus()

    def fill_table(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        needle = self.query_one("#runs-filter", Input).value.strip()
        selected = self._cursor_run_id()
        table.clear()
        shown = self._sorted([run for run in self.runs if run_matches(run, needle)])
        for run in shown:
            row = list(run_row(run, run.id in self.marked))
            row[4] = display.count(row[4])
            row[5] = display.cost(run.cost_usd)
            table.add_row(*row, key=run.id)
        if selected is not None and selected in {run.id for run in shown}:
            table.move_cursor(row=table.get_row_index(selected))
        self._status(len(shown))

    def _status(self, shown: int) -> None:
        parts = [f"{shown} of {len(self.runs)} runs"]
        if self.marked:
            parts.append(f"marked: {', '.join(self.marked)}")
        parts.append(f"sorted by {self.sort_column}{' ↓' if self.sort_reverse else ' ↑'}")
        self.query_one("#runs-status", Static).update(" · ".join(parts))

    def _sorted(self, runs: list[Run]) -> list[Run]:
        """Sort on the raw values (numbers as numbers), not on the formatted cells."""
        index = [k for k, _ in COLUMNS].index(self.sort_column)
        return sorted(runs, key=lambda run: run_row(run, False)[index], reverse=self.sort_reverse)

    def _cursor_run_id(self) -> str | None:
        table = self.query_one("#runs-table", DataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(row_key.value)

    # -- events --------------------------------------------------------------------------------

    @on(Input.Changed, "#runs-filter")
    def _filter_changed(self) -> None:
        self.fill_table()

    @on(Input.Submitted, "#runs-filter")
    def _filter_submitted(self) -> None:
        self.query_one("#runs-table").focus()

    @on(Input.Changed, "#runs-search")
    def _search_changed(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if not query:
            self._show_hits(False)
            return
        self.search_texts(query)

    @on(Input.Submitted, "#runs-search")
    def _search_submitted(self) -> None:
        hits = self.query_one("#runs-hits", DataTable)
        if hits.row_count:
            hits.focus()

    @work(thread=True, exclusive=True, group="runs-search")
    def search_texts(self, query: str) -> None:
        try:
            with self.studio.store.use() as store:
                hits = store.search(query, limit=200)
        except Exception as exc:  # an FTS syntax error must reach the screen, not the log
            self.post_message(SearchDone(query, [], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SearchDone(query, hits))

    def on_search_done(self, message: SearchDone) -> None:
        if message.query != self.query_one("#runs-search", Input).value.strip():
            return
        hits = self.query_one("#runs-hits", DataTable)
        hits.clear()
        for gen in message.hits:
            hits.add_row(
                gen.run_id,
                gen.persona_id or "",
                gen.model,
                gen.status,
                display.snippet(gen.text, 80),
                key=f"{gen.run_id}\x00{gen.id}",
            )
        title = message.error or f"{len(message.hits)} texts match “{message.query}”"
        self.query_one("#runs-hits-title", Static).update(title)
        self._show_hits(True)

    def _show_hits(self, shown: bool) -> None:
        self.query_one("#runs-hits").set_class(not shown, "-hidden")
        self.query_one("#runs-hits-title").set_class(not shown, "-hidden")

    @on(DataTable.RowSelected, "#runs-table")
    def _open_run(self, event: DataTable.RowSelected) -> None:
        self.open_run(str(event.row_key.value))

    @on(DataTable.RowSelected, "#runs-hits")
    def _open_hit(self, event: DataTable.RowSelected) -> None:
        run_id, gen_id = str(event.row_key.value).split("\x00", 1)
        self.open_run(run_id, gen_id)

    @on(DataTable.HeaderSelected, "#runs-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        column = str(event.column_key.value)
        if column == "mark":
            return
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, column in ("created", "tokens", "cost")
        self.fill_table()

    # -- actions -------------------------------------------------------------------------------

    def open_run(self, run_id: str, generation_id: str | None = None) -> None:
        from studio.tui.screens.run_detail import RunDetailScreen

        self.app.push_screen(RunDetailScreen(run_id, generation_id))

    def action_focus_filter(self) -> None:
        self.query_one("#runs-filter").focus()

    def action_focus_search(self) -> None:
        self.query_one("#runs-search").focus()

    def action_refresh(self) -> None:
        self.load_runs()

    def action_clear(self) -> None:
        for selector in ("#runs-filter", "#runs-search"):
            self.query_one(selector, Input).value = ""
        self.query_one("#runs-table").focus()

    def action_sort(self) -> None:
        keys = [k for k, _ in COLUMNS if k != "mark"]
        self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self.sort_reverse = self.sort_column in ("created", "tokens", "cost")
        self.fill_table()

    def action_mark(self) -> None:
        run_id = self._cursor_run_id()
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked = [*self.marked, run_id][-2:]
        self.fill_table()

    def action_compare(self) -> None:
        if len(self.marked) != 2:
            self.notify("Mark two runs with space, then press c.", title="run: compare")
            return
        from studio.tui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(self.marked[0], self.marked[1]))

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("run: open", "Open the run under the cursor", self._open_cursor)
        yield SystemCommand("run: mark", "Mark the run under the cursor", self.action_mark)
        yield SystemCommand("run: compare", "Compare the two marked runs", self.action_compare)
        yield SystemCommand("run: filter", "Filter the runs table", self.action_focus_filter)
        yield SystemCommand("run: search texts", "Full-text search", self.action_focus_search)
        yield SystemCommand("run: sort", "Sort by the next column", self.action_sort)
        yield SystemCommand("run: refresh", "Reload the runs from the database", self.load_runs)

    def _open_cursor(self) -> None:
        run_id = self._cursor_run_id()
        if run_id is not None:
            self.open_run(run_id)
