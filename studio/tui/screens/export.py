"""Export: build a mixture recipe from stored runs and files, watch its proportions, export it.

A thin face over ``studio.mix``: the form edits a ``RecipeDraft``; a thread worker checks it
through ``parse_recipe`` (so the screen runs exactly what the saved file would), the supply of
each source is counted once per source in thread workers (cached by ``supply_key``), and the
bars come from ``plan_mixture`` (the export's own ``token_targets``). The export runs in a thread
worker; escape stops it only before it starts writing (``cancellable``).
"""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    Markdown,
    OptionList,
    ProgressBar,
    Select,
    SelectionList,
    Static,
)

from studio.tui.widgets.mixture_bars import MixtureBars

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.app import ComposeResult

    from studio.mix.draft import RecipeDraft, SourceDraft
    from studio.mix.plan import SourcePlan, SourceSupply
    from studio.mix.recipe import Recipe, Source
    from studio.store import Run
    from studio.tui.app import StudioApp

EMPTY_HINT = (
    "No sources yet. **ctrl+n** adds stored generations (pick runs, filter by persona, style, "
    "model or topic), **ctrl+f** adds a JSONL or Parquet file."
)

GATES_HINT = "dup_line_frac: <= 0.3, fineweb: keep"

# Recipe-level inputs: widget id -> RecipeDraft field.
RECIPE_INPUTS = {
    "ex-name": "name",
    "ex-seed": "seed",
    "ex-budget": "budget_tokens",
    "ex-near": "near_threshold",
    "ex-ngram": "ngram",
    "ex-shard-docs": "shard_docs",
}
# Source inputs holding plain text: widget id -> SourceDraft field.
SOURCE_INPUTS = {"ex-src-name": "name", "ex-src-path": "path", "ex-src-field": "text_field"}
# Source inputs holding comma-separated lists.
SOURCE_LISTS = {
    "ex-src-personas": "personas",
    "ex-src-styles": "styles",
    "ex-src-models": "models",
    "ex-src-topics": "topics",
}


# -- messages from the workers ---------------------------------------------------------------------


class DraftChecked(Message):
    def __init__(
        self, version: int, recipe: Recipe | None, errors: list[str], keys: dict[str, Any]
    ) -> None:
        super().__init__()
        self.version = version
        self.recipe = recipe
        self.errors = errors
        self.keys = keys


class SupplyMeasured(Message):
    def __init__(self, key: Any, supply: SourceSupply | None, error: str = "") -> None:
        super().__init__()
        self.key = key
        self.supply = supply
        self.error = error


class ExportRunsLoaded(Message):
    def __init__(self, runs: list[Run], error: str = "") -> None:
        super().__init__()
        self.runs = runs
        self.error = error


class ExportProgress(Message):
    def __init__(self, stage: str, done: int, total: int) -> None:
        super().__init__()
        self.stage = stage
        self.done = done
        self.total = total


class ExportFinished(Message):
    def __init__(
        self,
        manifest: dict[str, Any] | None,
        out_dir: Path,
        error: str = "",
        cancelled: bool = False,
    ) -> None:
        super().__init__()
        self.manifest = manifest
        self.out_dir = out_dir
        self.error = error
        self.cancelled = cancelled


class RecipeFileDone(Message):
    """A recipe file was saved or opened (``draft`` set), or it has problems (``errors``)."""

    def __init__(
        self, action: str, path: Path, draft: RecipeDraft | None, errors: list[str]
    ) -> None:
        super().__init__()
        self.action = action
        self.path = path
        self.draft = draft
        self.errors = errors


def _error_lines(exc: Exception, with_place: bool) -> list[str]:
    """A recipe error as lines: ``file:line: field: message`` for a file, ``field: message``
    for the form (whose line numbers belong to YAML the user never saw)."""
    from studio.library.errors import LibraryFileError

    if isinstance(exc, LibraryFileError):
        if with_place:
            return [str(e) for e in exc.errors]
        return [f"{e.field}: {e.message}" if e.field != "-" else e.message for e in exc.errors]
    return [f"{type(exc).__name__}: {exc}"]


def manifest_summary(manifest: dict[str, Any], out_dir: Path) -> Group:
    """The manifest as the person who asked for it reads it: asked, delivered, removed."""
    table = Table(box=None, padding=(0, 1), header_style="bold")
    for column in ("source", "read", "asked tok", "docs", "tokens", "deficit"):
        table.add_column(column, justify="left" if column == "source" else "right")
    for s in manifest["sources"]:
        table.add_row(
            s["name"],
            f"{s['read_docs']:,}",
            "all" if s["asked_tokens"] is None else f"{s['asked_tokens']:,}",
            f"{s['delivered_docs']:,}",
            f"{s['delivered_tokens']:,}",
            Text(f"⚠ {s['deficit_tokens']:,}", style="bold") if s["deficit_tokens"] else "",
        )
    totals = manifest["totals"]
    head = Text.assemble(
        (f"Wrote {totals['docs']:,} documents, {totals['tokens']:,} tokens", "bold"),
        f" in {totals['shards']} shard(s) to {out_dir}",
    )
    removed = Text()
    for stage in manifest["stages"]:
        if stage["removed"]:
            reasons = ", ".join(f"{k} ×{v}" for k, v in stage["reasons"].items())
            removed.append(f"{stage['stage']}", "bold")
            removed.append(
                f" removed {stage['removed']:,} ({stage['removed_tokens']:,} tok): {reasons}\n"
            )
    return Group(head, Text(), table, Text(), removed or Text("Nothing was removed."))


class SourceList(OptionList):
    """The recipe's sources; delete removes the one under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="export.sources_down"),
        Binding("k", "cursor_up", "Up", show=False, id="export.sources_up"),
        Binding("delete", "screen.remove_source", "Remove source", id="export.remove_source"),
    ]


class ExportScreen(Screen[None]):
    """Sources and weights on the left; settings, live proportions and the export on the right."""

    TITLE = "Export"
    CSS_PATH = Path(__file__).parent.parent / "export.tcss"
    HELP = (
        "Build a training mixture. **ctrl+n** adds stored generations (tick runs; optionally "
        "filter by persona, style, model or topic subtree), **ctrl+f** adds a JSONL/Parquet "
        "file with its text field. Give each source a **weight** (a share of the budget) or a "
        "**tokens** target, and gates such as `dup_line_frac: <= 0.3, fineweb: keep`.\n\n"
        "The bars show each source's share of the budget: █ what it can give, ▒ what it lacks "
        "(counted before dedup and gates, so the export may find it shorter still). "
        "**ctrl+j** exports into the output folder (relative to the recipe's folder); "
        "**escape** stops an export before it starts writing. **ctrl+s** saves the recipe file, "
        "**ctrl+o** opens the one named in *Recipe file*. Paths are relative to the recipe's "
        "folder. See docs/recipes.md for the format."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j", "run_export", "Export", id="export.run"),
        Binding("alt+enter", "run_export", "Export", show=False, id="export.run_alt"),
        Binding("escape", "cancel_export", "Cancel", id="export.cancel"),
        Binding("ctrl+s", "save_recipe", "Save", id="export.save"),
        Binding("ctrl+o", "open_recipe", "Open", id="export.open"),
        Binding("ctrl+n", "add_source('stored')", "Add runs", id="export.add_stored"),
        Binding("ctrl+f", "add_source('file')", "Add file", id="export.add_file"),
        Binding("ctrl+r", "recount", "Recount", show=False, id="export.recount"),
    ]

    def __init__(self) -> None:
        from studio.mix.draft import RecipeDraft

        super().__init__()
        self.draft = RecipeDraft(near_threshold="0.8")
        self.current: int | None = None
        self.recipe: Recipe | None = None
        self.errors: list[str] = []  # the form's, from the recipe checker
        self.notes: list[str] = []  # a recipe file that did not open or save, a failed export
        self.version = 0
        self.keys: dict[str, Any] = {}
        self.supply: dict[Any, SourceSupply] = {}
        self.supply_errors: dict[Any, str] = {}
        self.counting: set[Any] = set()
        self.runs: list[Run] = []
        self.exporting = False
        self.stage = ""
        self.manifest: dict[str, Any] | None = None
        self.plans: list[SourcePlan] = []
        self._stop = threading.Event()

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        d = self.draft
        yield Header()
        with Horizontal(id="ex-files"):
            yield Label("Recipe file")
            yield Input(str(Path.cwd() / "recipe.yaml"), id="ex-recipe-path")
            yield Label("Output folder")
            yield Input(placeholder="exports/<name>", id="ex-out")
        with Horizontal(id="ex-body"):
            with Vertical(id="ex-left"):
                yield Static("Sources", classes="section-title")
                yield SourceList(id="ex-sources")
                with VerticalScroll(id="ex-source-form", classes="-hidden"):
                    yield Static("", id="ex-src-kind")
                    yield Label("Name")
                    yield Input(id="ex-src-name")
                    with Vertical(id="ex-stored"):
                        yield Label("Runs")
                        yield SelectionList[str](id="ex-src-runs")
                        for wid, field in SOURCE_LISTS.items():
                            yield Label(field.capitalize())
                            hint = "any, or a path: its subtree" if field == "topics" else "any"
                            yield Input(placeholder=hint, id=wid)
                    with Vertical(id="ex-file"):
                        yield Label("File (JSONL or Parquet)")
                        yield Input(placeholder="relative to the recipe's folder", id="ex-src-path")
                        yield Label("Text field")
                        yield Input("text", id="ex-src-field")
                    with Horizontal(classes="ex-row"):
                        yield Select(
                            [("weight", "weight"), ("tokens", "tokens")],
                            value="weight",
                            allow_blank=False,
                            id="ex-src-amount",
                        )
                        yield Input(id="ex-src-amount-value")
                        yield Label("upsample ≤")
                        yield Input(placeholder="1", id="ex-src-upsample")
                    yield Label("Gates")
                    yield Input(
                        placeholder="dup_line_frac: <= 0.3, fineweb: keep", id="ex-src-gates"
                    )
            with Vertical(id="ex-right"):
                with Horizontal(classes="ex-row"):
                    yield Label("Name")
                    yield Input(d.name, id="ex-name")
                    yield Label("Seed")
                    yield Input(d.seed, id="ex-seed")
                    yield Label("Budget tok")
                    yield Input(d.budget_tokens, placeholder="largest", id="ex-budget")
                with Horizontal(classes="ex-row"):
                    yield Checkbox("exact dedup", d.exact, id="ex-exact")
                    yield Label("near ≥")
                    yield Input(d.near_threshold, placeholder="off", id="ex-near")
                    yield Label("Decontaminate")
                    yield Input(placeholder="bench.jsonl, …", id="ex-decon")
                    yield Label("n")
                    yield Input(d.ngram, id="ex-ngram")
                with Horizontal(classes="ex-row"):
                    yield Label("Format")
                    yield Select(
                        [("jsonl", "jsonl"), ("parquet", "parquet")],
                        value=d.format,
                        allow_blank=False,
                        id="ex-format",
                    )
                    yield Select(
                        [("plain", "none"), ("gzip", "gzip")],
                        value=d.compression,
                        allow_blank=False,
                        id="ex-compression",
                    )
                    yield Label("shard docs")
                    yield Input(d.shard_docs, id="ex-shard-docs")
                yield Static("Proportions", classes="section-title")
                yield Markdown(EMPTY_HINT, id="ex-empty")
                yield MixtureBars("", id="ex-bars")
                yield Static("", id="ex-errors", classes="-hidden")
                with Horizontal(id="ex-run", classes="-hidden"):
                    yield Label("", id="ex-stage")
                    yield ProgressBar(show_eta=False, id="ex-progress")
                with VerticalScroll(id="ex-summary-box", classes="-hidden"):
                    yield Static("", id="ex-summary")
        yield Static("", id="ex-status", classes="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.load_runs()
        self.recheck()

    def on_screen_resume(self) -> None:
        self.load_runs()

    # -- the form <-> the draft ----------------------------------------------------------------

    def _source(self) -> SourceDraft | None:
        if self.current is None or self.current >= len(self.draft.sources):
            return None
        return self.draft.sources[self.current]

    def _read_form(self) -> None:
        """Copy every widget's value into the draft."""
        from studio.mix.draft import parse_gates, split_list

        d = self.draft
        for wid, name in RECIPE_INPUTS.items():
            setattr(d, name, self.query_one(f"#{wid}", Input).value)
        d.exact = self.query_one("#ex-exact", Checkbox).value
        d.decontaminate = split_list(self.query_one("#ex-decon", Input).value)
        d.format = str(self.query_one("#ex-format", Select).value)
        d.compression = str(self.query_one("#ex-compression", Select).value)
        source = self._source()
        if source is None:
            return
        for wid, name in SOURCE_INPUTS.items():
            setattr(source, name, self.query_one(f"#{wid}", Input).value)
        for wid, name in SOURCE_LISTS.items():
            setattr(source, name, split_list(self.query_one(f"#{wid}", Input).value))
        source.runs = [str(r) for r in self.query_one("#ex-src-runs", SelectionList).selected]
        source.amount = str(self.query_one("#ex-src-amount", Select).value)
        value = self.query_one("#ex-src-amount-value", Input).value
        if source.amount == "tokens":
            source.tokens = value
        else:
            source.weight = value
        source.upsample = self.query_one("#ex-src-upsample", Input).value
        source.gates = parse_gates(self.query_one("#ex-src-gates", Input).value)

    def _fill_form(self) -> None:
        """Show the draft in the widgets, without their change events echoing back."""

        d = self.draft
        with self.prevent(Input.Changed, Checkbox.Changed, Select.Changed):
            for wid, name in RECIPE_INPUTS.items():
                self.query_one(f"#{wid}", Input).value = getattr(d, name)
            self.query_one("#ex-exact", Checkbox).value = d.exact
            self.query_one("#ex-decon", Input).value = ", ".join(d.decontaminate)
            self.query_one("#ex-format", Select).value = d.format
            self.query_one("#ex-compression", Select).value = d.compression
        self._fill_sources()
        self._fill_source()

    def _fill_sources(self) -> None:
        sources = self.query_one("#ex-sources", SourceList)
        with self.prevent(OptionList.OptionHighlighted):
            sources.set_options(self._source_label(s) for s in self.draft.sources)
            sources.highlighted = self.current
        self.query_one("#ex-empty").set_class(bool(self.draft.sources), "-hidden")
        self.query_one("#ex-bars").set_class(not self.draft.sources, "-hidden")

    @staticmethod
    def _source_label(source: SourceDraft) -> str:
        icon = "▤" if source.external else "◆"
        amount = f"w {source.weight}" if source.amount == "weight" else f"{source.tokens} tok"
        return f"{icon} {source.name}  ({amount})"

    def _fill_source(self) -> None:
        from studio.mix.draft import format_gates

        source = self._source()
        form = self.query_one("#ex-source-form")
        form.set_class(source is None, "-hidden")
        if source is None:
            return
        with self.prevent(Input.Changed, Select.Changed, SelectionList.SelectedChanged):
            kind = "External file" if source.external else "Stored generations"
            self.query_one("#ex-src-kind", Static).update(kind)
            self.query_one("#ex-stored").set_class(source.external, "-hidden")
            self.query_one("#ex-file").set_class(not source.external, "-hidden")
            for wid, name in SOURCE_INPUTS.items():
                self.query_one(f"#{wid}", Input).value = getattr(source, name)
            for wid, name in SOURCE_LISTS.items():
                self.query_one(f"#{wid}", Input).value = ", ".join(getattr(source, name))
            self._fill_runs(source)
            self.query_one("#ex-src-amount", Select).value = source.amount
            amount = source.tokens if source.amount == "tokens" else source.weight
            self.query_one("#ex-src-amount-value", Input).value = amount
            self.query_one("#ex-src-upsample", Input).value = source.upsample
            self.query_one("#ex-src-gates", Input).value = format_gates(source.gates)

    def _fill_runs(self, source: SourceDraft) -> None:
        runs = self.query_one("#ex-src-runs", SelectionList)
        known = [(f"{r.name or r.id}  {r.id}  ({r.n_ok} ok)", r.id) for r in self.runs]
        ids = {r.id for r in self.runs}
        # A run named in an opened recipe (or by a prefix) that this database does not list.
        extra = [(f"{run}  (not in this database)", run) for run in source.runs if run not in ids]
        with self.prevent(SelectionList.SelectedChanged):
            runs.clear_options()
            runs.add_options(
                [(label, value, value in source.runs) for label, value in [*known, *extra]]
            )

    # -- events --------------------------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _form_changed(self, event: Message) -> None:
        widget = getattr(event, "control", None) or getattr(event, "selection_list", None)
        if widget is not None and widget.id in ("ex-recipe-path", "ex-out"):
            if widget.id == "ex-recipe-path":
                self.recheck()  # relative paths follow the recipe's folder
            return
        self._read_form()
        self.notes = []
        source = self._source()
        if source is not None and self.current is not None:
            sources = self.query_one("#ex-sources", SourceList)
            sources.replace_option_prompt_at_index(self.current, self._source_label(source))
        self.recheck()

    @on(OptionList.OptionHighlighted, "#ex-sources")
    def _source_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index == self.current:
            return
        self.current = event.option_index
        self._fill_source()

    # -- checking and counting -----------------------------------------------------------------

    def recipe_path(self) -> Path:
        text = self.query_one("#ex-recipe-path", Input).value.strip()
        return Path(text or "recipe.yaml").expanduser().absolute()

    def out_dir(self) -> Path:
        text = self.query_one("#ex-out", Input).value.strip()
        base = self.recipe_path().parent
        if not text:
            return base / "exports" / (self.draft.name.strip() or "mixture")
        return (base / Path(text).expanduser()).absolute()

    def recheck(self) -> None:
        self.version += 1
        self.check_draft(self.version, copy.deepcopy(self.draft), self.recipe_path())

    @work(thread=True, exclusive=True, group="export-check")
    def check_draft(self, version: int, draft: RecipeDraft, path: Path) -> None:
        from studio.mix import RecipeError
        from studio.mix.plan import supply_key

        if not draft.sources:
            self.post_message(DraftChecked(version, None, [], {}))
            return
        try:
            recipe = draft.check(path)
        except RecipeError as exc:
            self.post_message(DraftChecked(version, None, _error_lines(exc, False), {}))
            return
        # Stored sources read the recipe's own database when it names one, as the export does.
        db = str(recipe.db) if recipe.db else None
        keys = {
            s.name: (None if s.external else db, supply_key(s, recipe.tokenizer))
            for s in recipe.sources
        }
        self.post_message(DraftChecked(version, recipe, [], keys))

    def on_draft_checked(self, message: DraftChecked) -> None:
        if message.version != self.version:
            return
        self.recipe = message.recipe
        self.errors = message.errors
        self.keys = message.keys
        self._show_errors()
        if self.recipe is not None:
            for source in self.recipe.sources:
                key = self.keys[source.name]
                if key in self.supply or key in self.supply_errors or key in self.counting:
                    continue
                self.counting.add(key)
                self.measure(source, key, self.recipe.tokenizer, self.recipe.db)
        self.show_plan()

    @work(thread=True, group="export-measure")
    def measure(self, source: Source, key: Any, tokenizer: str, db: Path | None) -> None:
        """Count one source's documents and tokens (the texts are read under the store lock,
        counted outside it)."""
        from studio.mix.plan import count_supply, read_texts

        try:
            if source.external:
                texts, problems = read_texts(source, None)
            elif db is not None and db != self.studio.db_path.absolute():
                from studio.store import Store

                with Store(db) as store:
                    texts, problems = read_texts(source, store)
            else:
                with self.studio.store.use() as store:
                    texts, problems = read_texts(source, store)
            supply = count_supply(texts, problems, tokenizer)
        except Exception as exc:  # a missing run or an unreadable file belongs on the screen
            self.post_message(SupplyMeasured(key, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(SupplyMeasured(key, supply))

    def on_supply_measured(self, message: SupplyMeasured) -> None:
        self.counting.discard(message.key)
        if message.supply is not None:
            self.supply[message.key] = message.supply
        else:
            self.supply_errors[message.key] = message.error
        self.show_plan()

    def show_plan(self) -> None:
        from studio.mix.plan import plan_mixture

        bars = self.query_one("#ex-bars", MixtureBars)
        if self.recipe is None:
            if self.draft.sources:
                bars.update("Fix the recipe to see its proportions.")
            self._status()
            return
        keys = self.keys
        supply = {n: self.supply[k] for n, k in keys.items() if k in self.supply}
        problems = {n: self.supply_errors[k] for n, k in keys.items() if k in self.supply_errors}
        counting = {n for n, k in keys.items() if k in self.counting}
        self.plans = plan_mixture(self.recipe, supply)
        bars.show(
            self.plans, counting=counting, problems=problems, budget=self.recipe.budget_tokens
        )
        self._status()

    def _show_errors(self, notes: list[str] | None = None) -> None:
        if notes is not None:
            self.notes = notes
        errors = [*self.notes, *self.errors]
        box = self.query_one("#ex-errors", Static)
        box.update("\n".join(f"✗ {e}" for e in errors))
        box.set_class(not errors, "-hidden")

    def _status(self, text: str = "") -> None:
        if not text:
            n = len(self.draft.sources)
            state = "ready" if self.recipe is not None else "has problems" if self.errors else ""
            text = f"{n} source(s) · recipe {state} · output {self.out_dir()}"
        self.query_one("#ex-status", Static).update(text)

    # -- runs for the picker ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="export-runs")
    def load_runs(self) -> None:
        try:
            with self.studio.store.use() as store:
                runs = store.list_runs(limit=5000)
        except Exception as exc:  # an unreadable database shows here instead of crashing
            self.post_message(ExportRunsLoaded([], f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ExportRunsLoaded(runs))

    def on_export_runs_loaded(self, message: ExportRunsLoaded) -> None:
        if message.error:
            self.notify(message.error, title="export: runs not loaded", severity="error")
        self.runs = message.runs
        from studio.tui.screens.runs import spec_list

        # What the stored runs were made of, as a hint for the filters.
        for wid, name in SOURCE_LISTS.items():
            if name == "topics":
                continue
            seen = sorted({v for run in self.runs for v in spec_list(run, name)})
            hint = f"any, e.g. {', '.join(seen)}" if seen else "any (comma-separated)"
            self.query_one(f"#{wid}", Input).placeholder = hint
        source = self._source()
        if source is not None and not source.external:
            self._fill_runs(source)

    # -- actions: sources ------------------------------------------------------------------------

    def action_add_source(self, kind: str) -> None:
        from studio.mix.draft import SourceDraft

        names = {s.name for s in self.draft.sources}
        stem = "web" if kind == "file" else "generations"
        name = next(
            n for i in range(1, 1000) if (n := stem if i == 1 else f"{stem}-{i}") not in names
        )
        self.draft.sources.append(SourceDraft(name, kind=kind))
        self.current = len(self.draft.sources) - 1
        self._fill_sources()
        self._fill_source()
        self.query_one("#ex-src-path" if kind == "file" else "#ex-src-runs").focus()
        self.recheck()

    def action_remove_source(self) -> None:
        if self._source() is None or self.current is None:
            return
        del self.draft.sources[self.current]
        self.current = (
            min(self.current, len(self.draft.sources) - 1) if self.draft.sources else None
        )
        self._fill_sources()
        self._fill_source()
        self.recheck()

    def action_recount(self) -> None:
        self.supply.clear()
        self.supply_errors.clear()
        self.load_runs()
        self.recheck()

    # -- actions: the recipe file ----------------------------------------------------------------

    def action_save_recipe(self) -> None:
        self._read_form()
        self.save_file(copy.deepcopy(self.draft), self.recipe_path())

    @work(thread=True, exclusive=True, group="export-file")
    def save_file(self, draft: RecipeDraft, path: Path) -> None:
        try:
            draft.save(path)
        except Exception as exc:  # a RecipeError or an OSError: both go on the screen
            self.post_message(RecipeFileDone("save", path, None, _error_lines(exc, False)))
            return
        self.post_message(RecipeFileDone("save", path, draft, []))

    def action_open_recipe(self) -> None:
        self.open_file(self.recipe_path())

    @work(thread=True, exclusive=True, group="export-file")
    def open_file(self, path: Path) -> None:
        from studio.mix import load_recipe
        from studio.mix.draft import RecipeDraft

        try:
            draft = RecipeDraft.from_recipe(load_recipe(path))
        except Exception as exc:  # a RecipeError or an OSError: both go on the screen
            self.post_message(RecipeFileDone("open", path, None, _error_lines(exc, True)))
            return
        self.post_message(RecipeFileDone("open", path, draft, []))

    def on_recipe_file_done(self, message: RecipeFileDone) -> None:
        if message.errors:
            self._show_errors([f"{message.action} {message.path}:", *message.errors])
            self.notify(f"{message.path} has problems", title=f"export: {message.action}",
                        severity="error")  # fmt: skip
            return
        self._show_errors([])
        if message.action == "open" and message.draft is not None:
            self.draft = message.draft
            self.current = 0 if self.draft.sources else None
            self._fill_form()
            self.recheck()
        done = "opened" if message.action == "open" else "saved"
        self.notify(f"{message.path}", title=f"export: recipe {done}")

    # -- actions: the export ---------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run_export", "open_recipe", "add_source", "remove_source"):
            return not self.exporting
        if action == "cancel_export":
            return self.exporting
        return True

    def action_run_export(self) -> None:
        if self.exporting:
            return
        self._read_form()
        if self.recipe is None:
            self._show_errors([] if self.errors else ["Add a source first (ctrl+n or ctrl+f)."])
            return
        self._stop.clear()
        self.exporting = True
        self.stage = ""
        self.add_class("-exporting")
        self.query_one("#ex-run").remove_class("-hidden")
        self.query_one("#ex-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#ex-stage", Label).update("starting")
        self.refresh_bindings()
        self.export(self.recipe, self.out_dir())

    def action_cancel_export(self) -> None:
        if not self.exporting:
            return
        if self.stage == "write":
            self.notify("Shards are being written; stopping now would leave a broken folder.",
                        title="export: cannot cancel")  # fmt: skip
            return
        self._stop.set()
        self.query_one("#ex-stage", Label).update("cancelling…")

    @work(thread=True, exclusive=True, group="export-run")
    def export(self, recipe: Recipe, out_dir: Path) -> None:
        from studio.mix import export_mixture
        from studio.mix.plan import ExportCancelled, cancellable

        def report(stage: str, done: int, total: int) -> None:
            self.post_message(ExportProgress(stage, done, total))

        store = None
        try:
            if any(not s.external for s in recipe.sources):
                from studio.store import Store

                store = Store(recipe.db or self.studio.db_path)
            result = export_mixture(recipe, out_dir, store, cancellable(report, self._stop.is_set))
        except ExportCancelled:
            self.post_message(ExportFinished(None, out_dir, cancelled=True))
            return
        except Exception as exc:  # ExportError, a missing run, a full disk: shown, not raised
            self.post_message(ExportFinished(None, out_dir, f"{type(exc).__name__}: {exc}"))
            return
        finally:
            if store is not None:
                store.close()
        self.post_message(ExportFinished(result.manifest, out_dir))

    def on_export_progress(self, message: ExportProgress) -> None:
        self.stage = message.stage
        self.query_one("#ex-progress", ProgressBar).update(
            total=max(message.total, 1), progress=message.done
        )
        self.query_one("#ex-stage", Label).update(f"{message.stage} {message.done}/{message.total}")

    def on_export_finished(self, message: ExportFinished) -> None:
        self.exporting = False
        self.remove_class("-exporting")
        self.refresh_bindings()
        self.query_one("#ex-run").add_class("-hidden")
        if message.cancelled:
            self.notify("Nothing was written.", title="export: cancelled")
            self._status("export cancelled; the output folder was not touched")
            return
        if message.manifest is None:
            self._show_errors([f"export failed: {message.error}"])
            self._status("export failed")
            return
        self.manifest = message.manifest
        self._show_errors([])
        box = self.query_one("#ex-summary-box")
        box.remove_class("-hidden")
        self.query_one("#ex-summary", Static).update(
            manifest_summary(message.manifest, message.out_dir)
        )
        totals = message.manifest["totals"]
        self._status(f"exported {totals['docs']:,} docs in {totals['shards']} shard(s) to "
                     f"{message.out_dir}")  # fmt: skip

    # -- the palette -------------------------------------------------------------------------------

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("export: run", "Export the mixture (ctrl+j)", self.action_run_export)
        yield SystemCommand("export: cancel", "Stop the export before it writes",
                            self.action_cancel_export)  # fmt: skip
        yield SystemCommand("export: save recipe", "Write the recipe file (ctrl+s)",
                            self.action_save_recipe)  # fmt: skip
        yield SystemCommand("export: open", "Open the recipe file named above (ctrl+o)",
                            self.action_open_recipe)  # fmt: skip
        yield SystemCommand("export: add source (stored runs)", "Stored generations (ctrl+n)",
                            lambda: self.action_add_source("stored"))  # fmt: skip
        yield SystemCommand("export: add source (file)", "A JSONL or Parquet file (ctrl+f)",
                            lambda: self.action_add_source("file"))  # fmt: skip
        yield SystemCommand("export: remove source", "Remove the selected source",
                            self.action_remove_source)  # fmt: skip
        yield SystemCommand("export: recount", "Count every source's tokens again",
                            self.action_recount)  # fmt: skip
