"""``studio models list``: what can generate here.

The offline models, the providers whose key variable is set (the variable's name, never its
value), and the OpenAI-compatible endpoints of ``models.yaml``. Runs without importing
litellm: it reads litellm's bundled price map as plain JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from studio.cli.output import emit_json, fail, json_option, stdout_console

if TYPE_CHECKING:
    from studio.cli.context import StudioContext


@click.group()
def models() -> None:
    """Models you can generate with."""


@models.command("list")
@json_option
@click.pass_obj
def models_list(ctx: StudioContext, as_json: bool) -> None:
    """List offline models, keyed providers and configured endpoints."""
    from studio.generate.config import available_models, config_path, load_config
    from studio.generate.errors import ConfigError

    try:
        config = load_config()
    except ConfigError as exc:
        fail(str(exc))
    rows = available_models(config)
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("model", "kind", "ready", "note", "api base", box=None)
    for row in rows:
        examples = row.get("examples")
        note = row.get("note", "")
        if examples:
            note += f"; e.g. {', '.join(examples[:3])}"
        table.add_row(
            Text(row["model"]),
            row["kind"],
            "yes" if row["ready"] else "no",
            Text(note),
            Text(row.get("api_base") or ""),
        )
    console = stdout_console()
    console.print(table)
    if not config.endpoints:
        click.echo(
            f"Add OpenAI-compatible endpoints (vLLM, Ollama, a gateway) in {config_path()}.",
            err=True,
        )
