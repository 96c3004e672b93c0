"""``studio compare RUN_A RUN_B``: per-metric distributions side by side, with statistics.

Per-text metrics come from the store (``studio score --run``); a run that was not scored yet
is scored on the fly (not saved). Each numeric metric gets a Mann-Whitney U test (or a
permutation test), Cliff's delta, a bootstrap CI of the difference in means and a
Holm-Bonferroni adjusted p-value (:mod:`studio.metrics.compare`). Set metrics stored for the
two runs are shown beside them.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from studio.cli.output import fail

if TYPE_CHECKING:
    from studio.cli.context import StudioContext
    from studio.store import Store


def _per_text(store: Store, run_id: str) -> tuple[str, list[dict[str, Any]]]:
    from studio.store import RunNotFoundError

    try:
        run = store.get_run(run_id)
    except RunNotFoundError as exc:
        fail(str(exc))
    stored = store.text_metrics(run.id)
    if stored:
        return run.id, [v["metrics"] for v in stored.values()]
    texts = [g.text for g in store.generations(run.id, status="ok") if g.text and g.text.strip()]
    if not texts:
        fail(f"run {run.id} has no generated text to compare")
    click.echo(f"run {run.id} has no stored scores; scoring it now (not saved)", err=True)
    from studio.scoring import build_scorer

    return run.id, [s.metrics for s in build_scorer().score_batch(texts)]


def _set_metrics(store: Store, run_id: str) -> dict[str, Any]:
    for row in store.run_metrics(run_id):
        if row["group_by"] == "all":
            return dict(row["metrics"])
    return {}


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[float]]:
    cols: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            cols.setdefault(key, []).append(float(value))
    return cols


@click.command()
@click.argument("run_a")
@click.argument("run_b")
@click.option(
    "--test",
    type=click.Choice(["mannwhitney", "permutation"]),
    default="mannwhitney",
    show_default=True,
    help="Significance test per metric.",
)
@click.option("--alpha", default=0.05, show_default=True, help="Level after Holm's correction.")
@click.option("--seed", default=0, show_default=True, help="Seed for bootstrap and permutations.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout.")
@click.pass_obj
def compare(
    ctx: StudioContext, run_a: str, run_b: str, test: str, alpha: float, seed: int, as_json: bool
) -> None:
    """Compare two runs metric by metric (effect size, CI, significance)."""
    from studio.metrics.compare import compare_sets

    with ctx.store() as store:
        id_a, rows_a = _per_text(store, run_a)
        id_b, rows_b = _per_text(store, run_b)
        set_a, set_b = _set_metrics(store, id_a), _set_metrics(store, id_b)
    results = compare_sets(_columns(rows_a), _columns(rows_b), test=test, alpha=alpha, seed=seed)
    if as_json:
        payload = {
            "run_a": id_a,
            "run_b": id_b,
            "test": test,
            "alpha": alpha,
            "correction": "holm",
            "metrics": [r.as_dict() for r in results],
            "set_metrics": {"a": set_a, "b": set_b},
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=_nan_none) + "\n")
        return
    _print_table(id_a, id_b, results, set_a, set_b, test)


def _nan_none(value: Any) -> Any:
    return None


def _print_table(
    id_a: str,
    id_b: str,
    results: list[Any],
    set_a: dict[str, Any],
    set_b: dict[str, Any],
    test: str,
) -> None:
    from rich.table import Table

    table = Table(title=f"{id_a} (A) vs {id_b} (B): {test}, Holm-adjusted", box=None)
    for col in (
        "metric",
        "n A/B",
        "median A",
        "median B",
        "Δ mean (B−A)",
        "95% CI",
        "Cliff δ",
        "p adj",
        "",
    ):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for r in results:
        if r.n_a == 0 or r.n_b == 0:
            continue
        table.add_row(
            r.metric,
            f"{r.n_a}/{r.n_b}",
            f"{r.median_a:.4g}",
            f"{r.median_b:.4g}",
            f"{r.diff_mean:+.4g}",
            f"{r.ci95_low:+.3g}..{r.ci95_high:+.3g}",
            f"{r.effect_size:+.2f}",
            f"{r.p_adjusted:.3g}",
            "[bold]*[/bold]" if r.significant else "",
        )
    from rich.console import Console

    # wide enough for the table when stdout is a pipe (rich would assume 80 columns)
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 140)
    console.print(table)
    if set_a or set_b:
        sets = Table(title="set metrics (from studio score --run)", box=None)
        for col in ("metric", "A", "B"):
            sets.add_column(col, justify="left" if col == "metric" else "right")
        for name in [k for k in set_a if k in set_b and isinstance(set_a[k], int | float)]:
            sets.add_row(name, f"{set_a[name]:.4g}", f"{set_b[name]:.4g}")
        console.print(sets)
