"""``studio library check``, ``personas/topics/styles list`` and ``studio prompt``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from studio.cli.output import (
    emit_json,
    fail,
    json_option,
    shown_path,
    stderr_console,
    stdout_console,
)

if TYPE_CHECKING:
    from studio.cli.context import StudioContext
    from studio.library import Library, LibraryError


def _shown(error: LibraryError) -> str:
    return f"{shown_path(error.path)}:{error.line}: {error.field}: {error.message}"


def _warn_errors(library: Library) -> None:
    """Listings still show the valid files; say that some were left out."""
    if library.errors:
        count = len(library.errors)
        click.echo(
            f"warning: {count} library error{'s' * (count != 1)} left files out; "
            "run `studio library check`",
            err=True,
        )


def _check_folder(ctx: StudioContext) -> None:
    if not ctx.library_dir.is_dir():
        fail(f"library folder {ctx.library_dir} does not exist")


@click.group()
def library() -> None:
    """Check the library of personas, topic trees and style templates."""


@library.command("check")
@json_option
@click.pass_obj
def check(ctx: StudioContext, as_json: bool) -> None:
    """Validate every library file; one line per error as file:line: field: message."""
    from studio.library.loader import library_files

    _check_folder(ctx)
    lib = ctx.library
    files = library_files(ctx.library_dir)
    n_files = sum(len(paths) for paths in files.values())
    summary = {
        "library": str(ctx.library_dir),
        "files": n_files,
        "personas": len(lib.personas),
        "topic_trees": len(lib.topic_trees),
        "topics": len(lib.topics()),
        "styles": len(lib.styles),
        "errors": [
            {"path": str(e.path), "line": e.line, "field": e.field, "message": e.message}
            for e in lib.errors
        ],
    }
    if as_json:
        emit_json(summary)
    else:
        for error in lib.errors:
            click.echo(_shown(error), err=True)
        verdict = "ok" if not lib.errors else f"{len(lib.errors)} error(s)"
        click.echo(
            f"{shown_path(ctx.library_dir)}: {n_files} files, {len(lib.personas)} personas, "
            f"{len(lib.topic_trees)} topic trees ({len(lib.topics())} topics), "
            f"{len(lib.styles)} styles: {verdict}"
        )
    if lib.errors:
        raise SystemExit(1)


@click.group()
def personas() -> None:
    """Audience personas."""


@personas.command("list")
@json_option
@click.pass_obj
def personas_list(ctx: StudioContext, as_json: bool) -> None:
    """List the personas in the library."""
    from rich.table import Table
    from rich.text import Text

    _check_folder(ctx)
    lib = ctx.library
    _warn_errors(lib)
    if as_json:
        emit_json([{**p.as_context(), "file": str(p.source)} for p in lib.personas])
        return
    table = Table("id", "name", "language", "audience", "reading level", box=None)
    for p in lib.personas:
        table.add_row(*(Text(v) for v in (p.id, p.name, p.language, p.audience, p.reading_level)))
    stdout_console().print(table)


@click.group()
def topics() -> None:
    """Topic trees."""


def topic_record(topic: Any) -> dict[str, Any]:
    return {
        "id": topic.path,
        "path": topic.path,
        "name": topic.title,
        "title": topic.title,
        "description": topic.description,
        "tree": topic.tree_id,
        "language": topic.language,
        "depth": topic.depth,
        "ancestors": [a.title for a in topic.ancestors],
        "children": list(topic.children),
    }


@topics.command("list")
@click.option("--tree", "tree_id", help="Only this topic tree.")
@click.option("--leaves", is_flag=True, help="Only topics with no children (lessons).")
@json_option
@click.pass_obj
def topics_list(ctx: StudioContext, tree_id: str | None, leaves: bool, as_json: bool) -> None:
    """List topics by path (tree/unit/lesson)."""
    from rich.markup import escape
    from rich.tree import Tree

    _check_folder(ctx)
    lib = ctx.library
    _warn_errors(lib)
    trees = lib.topic_trees
    if tree_id is not None:
        try:
            trees = (lib.tree(tree_id),)
        except KeyError as exc:
            fail(exc.args[0])
    if as_json:
        emit_json(
            [topic_record(t) for tree in trees for t in tree.walk() if not leaves or not t.children]
        )
        return
    console = stdout_console()
    for tree in trees:
        view = Tree(f"[bold]{escape(tree.name)}[/] [dim]{tree.id} ({tree.language})[/]")
        branches: dict[str, Any] = {tree.id: view}
        for t in tree.walk():
            parent = branches[t.path.rsplit("/", 1)[0]]
            branches[t.path] = parent.add(f"{escape(t.title)} [dim]{escape(t.path)}[/]")
        console.print(view)


@click.group()
def styles() -> None:
    """Style templates."""


@styles.command("list")
@json_option
@click.pass_obj
def styles_list(ctx: StudioContext, as_json: bool) -> None:
    """List the style templates in the library."""
    from rich.table import Table
    from rich.text import Text

    _check_folder(ctx)
    lib = ctx.library
    _warn_errors(lib)
    if as_json:
        emit_json(
            [
                {
                    "id": s.id,
                    "name": s.name,
                    "format": s.format,
                    "description": s.description,
                    "defaults": s.defaults.as_dict(),
                    "file": str(s.source),
                }
                for s in lib.styles
            ]
        )
        return
    table = Table("id", "name", "format", "defaults", box=None)
    for s in lib.styles:
        defaults = ", ".join(f"{k}={v}" for k, v in s.defaults.as_dict().items())
        table.add_row(*(Text(v) for v in (s.id, s.name, s.format, defaults)))
    stdout_console().print(table)


@click.command()
@click.option("--persona", "persona_id", required=True, help="Persona id.")
@click.option("--topic", "topic_path", required=True, help="Topic path, e.g. physics/mechanics.")
@click.option("--style", "style_id", required=True, help="Style template id.")
@click.option(
    "--extract",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A seed text file the template may quote.",
)
@json_option
@click.pass_obj
def prompt(
    ctx: StudioContext,
    persona_id: str,
    topic_path: str,
    style_id: str,
    extract: Path | None,
    as_json: bool,
) -> None:
    """Print the rendered messages for one persona, topic and style."""
    from rich.panel import Panel
    from rich.text import Text

    from studio.prompts import PromptError, render_prompt

    _check_folder(ctx)
    lib = ctx.library
    try:
        persona = lib.persona(persona_id)
        topic = lib.topic(topic_path)
        style = lib.style(style_id)
    except KeyError as exc:
        _warn_errors(lib)
        fail(exc.args[0])
    try:
        rendered = render_prompt(
            persona, topic, style, extract.read_text("utf-8") if extract else None
        )
    except PromptError as exc:
        fail(str(exc))
    if as_json:
        emit_json(
            {
                "hash": rendered.hash,
                "persona": rendered.persona_id,
                "topic": rendered.topic_path,
                "style": rendered.style_id,
                "language": rendered.language,
                "defaults": rendered.defaults,
                "messages": rendered.message_dicts(),
            }
        )
        return
    console = stdout_console()
    for message in rendered.messages:
        console.print(Panel(Text(message.content), title=message.role, title_align="left"))
    stderr_console().print(f"[dim]prompt hash {rendered.hash}[/]")
