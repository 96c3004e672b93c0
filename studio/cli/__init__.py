"""The ``studio`` command: a thin face over the core.

Subcommands live in their own modules and are imported only when invoked (``LazyGroup``), and
those modules import nothing heavy at their top, so ``studio --help`` answers at once and never
imports litellm.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from studio.cli.context import StudioContext

# name -> "module:attribute"; a module is imported only when its command runs (or --help asks).
COMMANDS: dict[str, str] = {
    "library": "studio.cli.library:library",
    "personas": "studio.cli.library:personas",
    "topics": "studio.cli.library:topics",
    "styles": "studio.cli.library:styles",
    "prompt": "studio.cli.library:prompt",
    "runs": "studio.cli.runs:runs",
    "generate": "studio.cli.generate:generate",
    "models": "studio.cli.models:models",
    "score": "studio.cli.score:score",
    "compare": "studio.cli.compare:compare",
    "export": "studio.cli.export:export",
    "eval": "studio.cli.eval:eval_command",
}


class LazyGroup(click.Group):
    """A click group that imports each subcommand's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":", 1)
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="Database file (default: $STUDIO_DB, else $STUDIO_HOME/studio.db).",
)
@click.option(
    "--library",
    "library_dir",
    type=click.Path(file_okay=False),
    help="Library folder (default: ./personas when present, else the shipped library).",
)
@click.version_option(package_name="synth-studio", prog_name="studio")
@click.pass_context
def cli(ctx: click.Context, db_path: str | None, library_dir: str | None) -> None:
    """Synth Studio: design, generate, evaluate and mix synthetic pretraining text.

    Run with no command to open the studio in the terminal.
    """
    ctx.obj = StudioContext.from_options(db_path, library_dir)
    if ctx.invoked_subcommand is None:
        from studio.cli.tui import open_tui
        from studio.paths import default_db_path, seed_first_start

        seeded = ctx.obj.db_path == default_db_path() and seed_first_start(ctx.obj.db_path)
        open_tui(ctx.obj, seeded=seeded)


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="studio")
