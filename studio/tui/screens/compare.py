"""Two runs side by side: per-metric distributions, significance and effect sizes.

Scores come from the store when the runs were scored, else they are computed here; the
comparison itself is ``studio.metrics.compare.compare_sets`` (scipy, imported in the worker).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Sparkline, Static

from studio.tui import display

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.app import ComposeResult

    from studio.tui.app import StudioApp


@dataclass
class Comparison:
    labels: tuple[str, str]
    per_text: list[Any]  # MetricComparison rows
    values: tuple[dict[str, list[float]], dict[str, list[float]]]
    sets: tuple[dict[str, Any], dict[str, Any]]


class ComparisonReady(Message):
    def __init__(self, comparison: Comparison | None, error: str = "") -> None:
        super().__init__()
        self.comparison = comparison
        self.error = error


def metric_values(scored: dict[str, dict[str, Any]]) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for entry in scored.values():
        for name, value in (entry.get("metrics") or {}).items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and math.isfinite(float(value)):
                values.setdefault(name, []).append(float(value))
    return values


def shared_bins(a: list[float], b: list[float], bins: int = 20) -> tuple[list[float], list[float]]:
    """Histograms of ``a`` and ``b`` over the same bins, so the two sparklines line up."""
    both = a + b
    if not both:
        return [], []
    low, high = min(both), max(both)
    width = (high - low) / bins or 1.0

    def counts(values: list[float]) -> list[float]:
        out = [0.0] * bins
        for value in values:
            out[min(bins - 1, int((value - low) / width))] += 1
        return out

    return counts(a), counts(b)


class CompareScreen(Screen[None]):
    """Run A against run B."""

    TITLE = "Compare runs"
    HELP = (
        "Each per-text metric of run A against run B: means, the difference B − A with a "
        "95% bootstrap interval, Cliff's delta as effect size, and a Mann-Whitney U test with "
        "Holm correction over all metrics (✓ marks p < 0.05 after correction). Highlight a row "
        "to see both distributions over the same bins. Below: the set metrics of each run "
        "(diversity, near-duplicates, openings). **escape** goes back."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="compare.back"),
    ]

    def __init__(self, run_a: str, run_b: str) -> None:
        super().__init__()
        self.run_ids = (run_a, run_b)
        self.comparison: Comparison | None = None

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            f"Comparing {self.run_ids[0]} (A) with {self.run_ids[1]} (B)… scoring and testing",
            id="cmp-summary",
        )
        with VerticalScroll():
            yield DataTable(id="cmp-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="cmp-dists"):
                with Vertical():
                    yield Static("A", id="cmp-a-label", classes="section-title")
                    yield Sparkline([], id="cmp-a")
                with Vertical():
                    yield Static("B", id="cmp-b-label", classes="section-title")
                    yield Sparkline([], id="cmp-b")
            yield Static("Set metrics", classes="section-title")
            yield DataTable(id="cmp-sets", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#cmp-table", DataTable)
        for key, label in (("metric", "Metric"), ("a", "A mean"), ("b", "B mean"),
                           ("diff", "B − A"), ("ci", "95% CI"), ("delta", "Cliff's δ"),
                           ("p", "p (Holm)"), ("sig", "")):  # fmt: skip
            table.add_column(label, key=key)
        sets = self.query_one("#cmp-sets", DataTable)
        for key, label in (("metric", "Metric"), ("a", "A"), ("b", "B")):
            sets.add_column(label, key=key)
        self.compare()

    @work(thread=True, exclusive=True, group="compare")
    def compare(self) -> None:
        from studio.metrics.compare import compare_sets
        from studio.scoring import NothingToScoreError, scores_for
        from studio.store import RunNotFoundError

        values: list[dict[str, list[float]]] = []
        sets: list[dict[str, Any]] = []
        labels: list[str] = []
        try:
            for run_id in self.run_ids:
                with self.studio.store.use() as store:
                    run = store.get_run(run_id)
                    scores = scores_for(store, run.id)
                    scored = store.text_metrics(run.id)
                values.append(metric_values(scored))
                sets.append({"n_texts": scores.n_texts, **scores.overall})
                labels.append(f"{run.name} · {run.id}" if run.name else run.id)
        except (RunNotFoundError, NothingToScoreError) as exc:
            self.post_message(ComparisonReady(None, str(exc)))
            return
        per_text = compare_sets(values[0], values[1])
        self.post_message(
            ComparisonReady(
                Comparison(
                    labels=(labels[0], labels[1]),
                    per_text=per_text,
                    values=(values[0], values[1]),
                    sets=(sets[0], sets[1]),
                )
            )
        )

    def on_comparison_ready(self, message: ComparisonReady) -> None:
        summary = self.query_one("#cmp-summary", Static)
        if message.comparison is None:
            summary.update(message.error)
            return
        self.comparison = c = message.comparison
        significant = sum(1 for row in c.per_text if row.significant)
        summary.update(
            f"A: [b]{c.labels[0]}[/b] ({c.sets[0].get('n_texts', 0)} texts)   "
            f"B: [b]{c.labels[1]}[/b] ({c.sets[1].get('n_texts', 0)} texts)   "
            f"{significant} of {len(c.per_text)} metrics differ significantly"
        )
        self.query_one("#cmp-a-label", Static).update(f"A: {c.labels[0]}")
        self.query_one("#cmp-b-label", Static).update(f"B: {c.labels[1]}")
        table = self.query_one("#cmp-table", DataTable)
        table.clear()
        rows = sorted(c.per_text, key=lambda r: (not r.significant, r.p_adjusted, r.metric))
        for row in rows:
            table.add_row(
                row.metric,
                display.metric(row.mean_a),
                display.metric(row.mean_b),
                display.metric(row.diff_mean),
                f"[{display.metric(row.ci95_low)}, {display.metric(row.ci95_high)}]",
                display.metric(row.effect_size),
                display.metric(row.p_adjusted) if math.isfinite(row.p_adjusted) else "–",
                "✓" if row.significant else "",
                key=row.metric,
            )
        sets = self.query_one("#cmp-sets", DataTable)
        sets.clear()
        for name, value in c.sets[0].items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                sets.add_row(name, display.metric(value), display.metric(c.sets[1].get(name)))
        if rows:
            self._show_distribution(rows[0].metric)
        table.focus()

    @on(DataTable.RowHighlighted, "#cmp-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._show_distribution(str(event.row_key.value))

    def _show_distribution(self, metric: str) -> None:
        if self.comparison is None:
            return
        a, b = self.comparison.values[0].get(metric, []), self.comparison.values[1].get(metric, [])
        hist_a, hist_b = shared_bins(a, b)
        self.query_one("#cmp-a", Sparkline).data = hist_a
        self.query_one("#cmp-b", Sparkline).data = hist_b
        labels = self.comparison.labels
        self.query_one("#cmp-a-label", Static).update(f"A: {labels[0]} · {metric} (n={len(a)})")
        self.query_one("#cmp-b-label", Static).update(f"B: {labels[1]} · {metric} (n={len(b)})")

    def action_back(self) -> None:
        self.dismiss()

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("run: back", "Back to the run list", self.action_back)
