"""``studio export RECIPE.yaml --out DIR``: write a training mixture."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from studio.cli.output import emit_json, fail, json_option, shown_path, stdout_console

if TYPE_CHECKING:
    from studio.cli.context import StudioContext


@click.command()
@click.argument("recipe_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the shards and manifest.json (empty, or a previous export).",
)
@json_option
@click.pass_obj
def export(ctx: StudioContext, recipe_path: Path, out_dir: Path, as_json: bool) -> None:
    """Export the mixture a recipe describes: shards plus manifest.json."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from studio.mix import ExportError, RecipeError, export_mixture, load_recipe
    from studio.store import RunNotFoundError, Store

    try:
        recipe = load_recipe(recipe_path)
    except RecipeError as exc:
        for error in exc.errors:
            message = f"{shown_path(error.path)}:{error.line}: {error.field}: {error.message}"
            click.echo(message, err=True)
        raise SystemExit(1) from None
    needs_store = any(not s.external for s in recipe.sources)
    store = Store(recipe.db or ctx.db_path) if needs_store else None
    show_progress = not as_json and sys.stderr.isatty()
    progress = Progress(
        TextColumn("{task.description:>12}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        transient=True,
        disable=not show_progress,
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    try:
        with progress:
            result = export_mixture(recipe, out_dir, store, report)
    except (ExportError, RunNotFoundError) as exc:
        fail(str(exc))
    finally:
        if store is not None:
            store.close()
    manifest = result.manifest
    if as_json:
        emit_json(manifest)
        return
    console = stdout_console()
    table = Table(
        "source",
        "read",
        "asked tokens",
        "delivered docs",
        "delivered tokens",
        "deficit",
        "upsampled",
        box=None,
    )
    for s in manifest["sources"]:
        table.add_row(
            s["name"],
            str(s["read_docs"]),
            "all" if s["asked_tokens"] is None else f"{s['asked_tokens']:,}",
            f"{s['delivered_docs']:,}",
            f"{s['delivered_tokens']:,}",
            f"{s['deficit_tokens']:,}" if s["deficit_tokens"] else "",
            str(s["upsampled_docs"] or ""),
        )
    console.print(table)
    for stage in manifest["stages"]:
        if stage["removed"]:
            reasons = ", ".join(f"{k} ({v})" for k, v in stage["reasons"].items())
            console.print(f"  {stage['stage']}: removed {stage['removed']:,}: {reasons}")
    for s in manifest["sources"]:
        if s["deficit_tokens"]:
            click.echo(
                f"warning: source {s['name']!r} is short by {s['deficit_tokens']:,} tokens "
                "(allow upsampling with `upsample: N` on the source)",
                err=True,
            )
    totals = manifest["totals"]
    console.print(
        f"wrote {totals['docs']:,} documents, {totals['tokens']:,} tokens in "
        f"{totals['shards']} shard(s) to {shown_path(out_dir)}"
    )
