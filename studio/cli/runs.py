"""``studio runs list`` and ``studio runs show RUN``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from studio.cli.output import emit_json, fail, json_option, stdout_console

if TYPE_CHECKING:
    from studio.cli.context import StudioContext
    from studio.store import Generation, Run


def _tokens(count: int) -> str:
    return f"{count / 1000:.0f}k" if count >= 10_000 else str(count)


def _cost(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


@click.group()
def runs() -> None:
    """Stored runs and their generations."""


@runs.command("list")
@click.option("--limit", default=50, show_default=True, help="How many runs, newest first.")
@click.option("--search", help="Only runs whose id or name contains this.")
@json_option
@click.pass_obj
def runs_list(ctx: StudioContext, limit: int, search: str | None, as_json: bool) -> None:
    """List runs, newest first."""
    from rich.table import Table
    from rich.text import Text

    with ctx.store() as store:
        found = store.list_runs(limit=limit, search=search)
    if as_json:
        emit_json([run.as_dict() for run in found])
        return
    if not found:
        click.echo(
            f"No runs in {ctx.db_path} yet. Start one with `studio generate` "
            "(or open sample_runs/ with --db).",
            err=True,
        )
        return
    table = Table(box=None)
    # Ids are what users copy into other commands: never squeeze or wrap them.
    table.add_column("id", no_wrap=True, min_width=20)
    table.add_column("name", overflow="fold", min_width=10)
    table.add_column("status", no_wrap=True)
    table.add_column("created", no_wrap=True, min_width=11)
    table.add_column("ok/err/cancel", justify="right", no_wrap=True)
    table.add_column("tokens", justify="right", no_wrap=True)
    table.add_column("cost", justify="right", no_wrap=True)
    for run in found:
        table.add_row(
            run.id,
            Text(run.name),
            run.status,
            run.created_at[5:16].replace("T", " "),
            f"{run.n_ok}/{run.n_error}/{run.n_cancelled} of {run.n_jobs}",
            _tokens(run.prompt_tokens + run.completion_tokens),
            _cost(run.cost_usd),
        )
    stdout_console().print(table)


@runs.command("show")
@click.argument("run_id")
@click.option("--status", type=click.Choice(["ok", "error", "cancelled"]), help="Only these.")
@click.option("--limit", type=int, default=None, help="At most this many generations.")
@json_option
@click.pass_obj
def runs_show(
    ctx: StudioContext, run_id: str, status: str | None, limit: int | None, as_json: bool
) -> None:
    """Show one run (an id or a unique prefix of one) and its generations."""
    from studio.store import RunNotFoundError

    with ctx.store() as store:
        try:
            run = store.get_run(run_id)
        except RunNotFoundError as exc:
            fail(str(exc))
        generations = store.generations(run.id, status=status, limit=limit)
    if as_json:
        emit_json({**run.as_dict(), "generations": [g.as_dict() for g in generations]})
        return
    _print_run(run, generations)


def _print_run(run: Run, generations: list[Generation]) -> None:
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    console.print(
        Text.assemble(
            (run.id, "bold"),
            "  ",
            run.name,
            "  ",
            (run.status, "cyan"),
            f"  {run.n_ok} ok, {run.n_error} error, {run.n_cancelled} cancelled of {run.n_jobs}",
            f"  tokens {run.prompt_tokens}+{run.completion_tokens}  cost {_cost(run.cost_usd)}",
        )
    )
    table = Table(box=None)
    table.add_column("id", no_wrap=True, min_width=10)
    for header, widest in (("persona", 14), ("topic", 22), ("style", 14), ("model", 16)):
        table.add_column(header, no_wrap=True, overflow="ellipsis", max_width=widest)
    table.add_column("status", no_wrap=True, min_width=6)
    table.add_column("tokens", justify="right", no_wrap=True, min_width=6)
    table.add_column("ms", justify="right", no_wrap=True, min_width=5)
    # The preview gets what the metadata columns leave; it never pushes them off the screen.
    table.add_column(
        "text", no_wrap=True, overflow="ellipsis", max_width=max(16, console.width - 100)
    )
    for g in generations:
        preview = (g.text or g.error_message or "").replace("\n", " ")[:80]
        table.add_row(
            g.id[:10],
            Text(g.persona_id or ""),
            Text((g.topic_path or "").rsplit("/", 1)[-1]),
            Text(g.style_id or ""),
            Text(g.model),
            g.status,
            str(g.completion_tokens or ""),
            "" if g.latency_ms is None else f"{g.latency_ms:.0f}",
            Text(preview, overflow="ellipsis", no_wrap=True),
        )
    console.print(table)


@runs.command("delete")
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def runs_delete(ctx: StudioContext, run_ids: tuple[str, ...], yes: bool) -> None:
    """Delete runs (ids or unique prefixes) with their generations and scores."""
    from studio.store import RunNotFoundError

    with ctx.store() as store:
        try:
            found = [store.get_run(run_id) for run_id in run_ids]
        except RunNotFoundError as exc:
            fail(str(exc))
        names = ", ".join(f"{run.id} ({run.name or 'unnamed'})" for run in found)
        if not yes and not click.confirm(f"Delete {names}?", err=True):
            raise SystemExit(1)
        for run in found:
            store.delete_run(run.id)
            click.echo(f"deleted {run.id}", err=True)
