"""One run: its texts, their numbers, and its metrics by persona, style and model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Select,
    Sparkline,
    Static,
    TabbedContent,
    TabPane,
)

from studio.tui import display

if TYPE_CHECKING:
    from collections.abc import Iterable

    from studio.store import Generation, Run, Store
    from studio.tui.app import StudioApp


@dataclass
class RunData:
    """Everything the detail screen shows, read in one worker."""

    run: Run
    generations: list[Generation]
    text_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_metrics: list[dict[str, Any]] = field(default_factory=list)
    score_note: str = ""
    similarity: tuple[list[str], list[list[float]]] = ([], [])


class RunDataLoaded(Message):
    def __init__(self, data: RunData | None, error: str = "") -> None:
        super().__init__()
        self.data = data
        self.error = error


def histogram(values: list[float], bins: int = 24) -> list[float]:
    """Counts of ``values`` in equal-width bins, for a Sparkline."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high == low:
        return [float(len(values))]
    width = (high - low) / bins
    counts = [0.0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return counts


def numeric_metrics(text_metrics: dict[str, dict[str, Any]]) -> list[str]:
    names: set[str] = set()
    for scored in text_metrics.values():
        for name, value in (scored.get("metrics") or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                names.add(name)
    return sorted(names)


SET_METRICS = (
    "distinct_2",
    "ngram_diversity",
    "compression_ratio",
    "self_repetition",
    "homogenization_rougel",
    "self_bleu",
    "vendi_ngram",
    "near_dup_frac",
    "opening_diversity",
)


def load_scores(
    store: Store, run_id: str
) -> tuple[
    dict[str, dict[str, Any]], list[dict[str, Any]], tuple[list[str], list[list[float]]], str
]:
    """Per-text scores, set metrics by group and the persona similarity matrix of a run.

    ``studio.scoring.scores_for`` scores the run (and stores the scores) when it was not
    scored yet, so the CLI and this screen always show the same numbers.
    """
    from studio.scoring import NothingToScoreError, scores_for

    try:
        scores = scores_for(store, run_id)
    except NothingToScoreError as exc:
        return {}, [], ([], []), str(exc)
    rows = [
        {"group_by": g, "group_key": k, "n_texts": n, "metrics": m} for g, k, n, m in scores.rows
    ]
    similarity = scores.overall.get("cross_group_similarity") or {}
    labels = [str(label) for label in similarity.get("labels", [])]
    matrix = [
        [math.nan if value is None else float(value) for value in row]
        for row in similarity.get("matrix", [])
    ]
    if len(labels) < 2:
        labels, matrix = [], []
    return store.text_metrics(run_id), rows, (labels, matrix), ""


class RunDetailScreen(Screen[None]):
    """A run's generations and metrics. Escape goes back to the run list."""

    TITLE = "Run"
    HELP = (
        "The run's texts (top left) and the selected text (right). **Metrics** shows a "
        "histogram of the chosen per-text metric over the run's texts and the set metrics "
        "stored for each persona, style and model. **escape** goes back."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="run.back"),
        Binding("t", "show_tab('texts')", "Texts", id="run.texts"),
        Binding("m", "show_tab('metrics')", "Metrics", id="run.metrics"),
    ]

    def __init__(self, run_id: str, generation_id: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.generation_id = generation_id
        self.data: RunData | None = None

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Loading run {self.run_id}…", id="run-summary")
        with TabbedContent(id="run-tabs"):
            with TabPane("Texts", id="texts"), Horizontal():
                yield DataTable(id="run-gens", cursor_type="row", zebra_stripes=True)
                with VerticalScroll(id="run-text-box"):
                    yield Static("", id="run-text-meta", classes="section-title")
                    yield Static("", id="run-text")
            with TabPane("Metrics", id="metrics"), VerticalScroll():
                with Horizontal(id="run-metric-bar"):
                    yield Select[str]([], prompt="per-text metric", id="run-metric")
                    yield Static("", id="run-metric-range")
                yield Sparkline([], id="run-histogram")
                yield Static("", id="run-filters")
                yield Static("Set metrics by group", id="run-groups-title", classes="section-title")
                yield DataTable(id="run-groups", cursor_type="row", zebra_stripes=True)
                yield Static(
                    "Persona similarity: mean MinHash Jaccard of texts on the same topic",
                    id="run-sim-title",
                    classes="section-title -hidden",
                )
                yield DataTable(id="run-sim", classes="-hidden")
        yield Footer()

    def on_mount(self) -> None:
        gens = self.query_one("#run-gens", DataTable)
        for key, label in (("i", "#"), ("persona", "Persona"), ("style", "Style"),
                           ("model", "Model"), ("status", "Status"), ("tokens", "Tokens"),
                           ("latency", "Latency"), ("ttft", "TTFT"), ("cost", "Cost"),
                           ("text", "Opening")):  # fmt: skip
            gens.add_column(label, key=key)
        self.load()

    @work(thread=True, exclusive=True, group="run-detail")
    def load(self) -> None:
        from studio.store import RunNotFoundError

        try:
            with self.studio.store.use() as store:
                run = store.get_run(self.run_id)
                data = RunData(run=run, generations=store.generations(run.id))
                text_metrics, rows, similarity, note = load_scores(store, run.id)
        except RunNotFoundError as exc:
            self.post_message(RunDataLoaded(None, str(exc)))
            return
        data.text_metrics, data.run_metrics, data.similarity = text_metrics, rows, similarity
        data.score_note = note
        self.post_message(RunDataLoaded(data))

    def on_run_data_loaded(self, message: RunDataLoaded) -> None:
        if message.data is None:
            self.query_one("#run-summary", Static).update(message.error)
            return
        self.data = data = message.data
        run = data.run
        self.sub_title = run.name or run.id
        self.query_one("#run-summary", Static).update(
            f"[b]{run.name or run.id}[/b]  {run.id}  ·  {run.status}  ·  "
            f"{run.n_ok} ok, {run.n_error} failed, {run.n_cancelled} cancelled of {run.n_jobs}"
            f"  ·  {display.count(run.prompt_tokens)} prompt + "
            f"{display.count(run.completion_tokens)} completion tokens  ·  "
            f"{display.cost(run.cost_usd)}"
        )
        gens = self.query_one("#run-gens", DataTable)
        gens.clear()
        data.generations.sort(
            key=lambda g: (g.persona_id or "", g.style_id or "", g.model, g.sample_index)
        )
        for gen in data.generations:
            gens.add_row(
                gen.sample_index + 1,
                gen.persona_id or "",
                gen.style_id or "",
                gen.model,
                gen.status,
                display.count(gen.completion_tokens),
                display.millis(gen.latency_ms),
                display.millis(gen.ttft_ms),
                display.cost(gen.cost_usd),
                display.snippet(gen.text, 40),
                key=gen.id,
            )
        if self.generation_id is not None:
            try:
                gens.move_cursor(row=gens.get_row_index(self.generation_id))
            except Exception:  # the hit may belong to a row that is no longer stored
                self.generation_id = None
        if data.generations:
            self._show_text(self._cursor_generation())
        names = numeric_metrics(data.text_metrics)
        select = self.query_one("#run-metric", Select)
        select.set_options([(name, name) for name in names])
        if names:
            select.value = "n_words" if "n_words" in names else names[0]
        self._fill_groups(data.run_metrics)
        if data.score_note:
            self.query_one("#run-metric-range", Static).update(data.score_note)
        self._fill_similarity(*data.similarity)
        gens.focus()

    def _cursor_generation(self) -> Generation | None:
        if self.data is None or not self.data.generations:
            return None
        gens = self.query_one("#run-gens", DataTable)
        row_key, _ = gens.coordinate_to_cell_key(gens.cursor_coordinate)
        return next((g for g in self.data.generations if g.id == row_key.value), None)

    @on(DataTable.RowHighlighted, "#run-gens")
    def _row_highlighted(self) -> None:
        self._show_text(self._cursor_generation())

    def _show_text(self, gen: Generation | None) -> None:
        if gen is None:
            return
        meta = f"{gen.persona_id} · {gen.topic_path} · {gen.style_id} · {gen.model} · {gen.status}"
        if gen.finish_reason:
            meta += f" ({gen.finish_reason})"
        if gen.error_message:
            meta += f"\n{gen.error_class}: {gen.error_message}"
        scored = (self.data.text_metrics.get(gen.id) if self.data else None) or {}
        failed = [
            f"{name}: {result.get('reason')}"
            for name, result in (scored.get("filters") or {}).items()
            if isinstance(result, dict) and not result.get("keep", True)
        ]
        if failed:
            meta += "\nfailed gates: " + ", ".join(failed)
        self.query_one("#run-text-meta", Static).update(meta)
        from rich.text import Text

        self.query_one("#run-text", Static).update(Text(gen.text or ""))

    @on(Select.Changed, "#run-metric")
    def _metric_changed(self, event: Select.Changed) -> None:
        if self.data is None or not isinstance(event.value, str):
            return
        name = event.value
        values = [
            float(scored["metrics"][name])
            for scored in self.data.text_metrics.values()
            if isinstance(scored.get("metrics", {}).get(name), int | float)
        ]
        self.query_one("#run-histogram", Sparkline).data = histogram(values)
        if values:
            self.query_one("#run-metric-range", Static).update(
                f"{len(values)} texts · min {display.metric(min(values))} · "
                f"median {display.metric(sorted(values)[len(values) // 2])} · "
                f"max {display.metric(max(values))}"
            )
        kept: dict[str, int] = {}
        for scored in self.data.text_metrics.values():
            for gate, result in (scored.get("filters") or {}).items():
                if isinstance(result, dict):
                    kept[gate] = kept.get(gate, 0) + int(bool(result.get("keep")))
        total = len(self.data.text_metrics)
        self.query_one("#run-filters", Static).update(
            "  ".join(f"{gate}: {n}/{total} kept" for gate, n in sorted(kept.items()))
        )

    def _fill_groups(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#run-groups", DataTable)
        table.clear(columns=True)
        if not rows:
            table.add_column("")
            table.add_row("No set metrics: the run has no successful text.")
            return
        present = {name for row in rows for name in row["metrics"]}
        names = [name for name in SET_METRICS if name in present]
        table.add_column("Group", key="group")
        table.add_column("Texts", key="n")
        for name in names:
            table.add_column(name, key=name)
        for row in rows:
            label = "all" if row["group_by"] == "all" else f"{row['group_by']}: {row['group_key']}"
            cells = [display.metric(row["metrics"].get(name)) for name in names]
            table.add_row(label, row["n_texts"], *cells)

    def _fill_similarity(self, labels: list[str], matrix: list[list[float]]) -> None:
        table = self.query_one("#run-sim", DataTable)
        table.clear(columns=True)
        shown = bool(labels)
        table.set_class(not shown, "-hidden")
        self.query_one("#run-sim-title").set_class(not shown, "-hidden")
        if not shown:
            return
        table.add_column("")
        for label in labels:
            table.add_column(label)
        for label, row in zip(labels, matrix, strict=True):
            cells = ["–" if value != value else f"{value:.2f}" for value in row]
            table.add_row(label, *cells)

    def action_back(self) -> None:
        self.dismiss()

    def action_show_tab(self, tab: str) -> None:
        self.query_one("#run-tabs", TabbedContent).active = tab
        # Move focus into the pane shown, or the hidden pane's focused table pulls it back.
        self.query_one("#run-metric" if tab == "metrics" else "#run-gens").focus()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "run: texts", "Show the run's texts", lambda: self.action_show_tab("texts")
        )
        yield SystemCommand(
            "run: metrics", "Show the run's metrics", lambda: self.action_show_tab("metrics")
        )
        yield SystemCommand("run: back", "Back to the run list", self.action_back)
