"""Printing for the CLI: rich on a terminal, JSON on stdout with ``--json``, errors on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console


def stdout_console() -> Console:
    from rich.console import Console

    return Console(soft_wrap=False)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def emit_json(value: Any) -> None:
    """Machine-readable output: one JSON document on stdout, nothing else there."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def shown_path(path: Path) -> str:
    """A path relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


_F = TypeVar("_F", bound=Callable[..., Any])


def json_option(function: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON to stdout.")(function)


def executor_options(what: str) -> Callable[[_F], _F]:
    """``--executor``, ``--shards`` and ``--shard-dir`` (DESIGN 7); ``what`` the work is split."""

    def decorate(function: _F) -> _F:
        for option in reversed((
            click.option(
                "--executor", type=click.Choice(["local", "ray"]), default="local",
                show_default=True,
                help="Run in this process, or on a Ray cluster (extra `ray`; see docs/ray.md).",
            ),
            click.option(
                "--shards", type=click.IntRange(min=1),
                help=f"Split the {what} into N shards with a Parquet file each "
                "(default with ray: 8).",
            ),
            click.option(
                "--shard-dir", type=click.Path(file_okay=False, path_type=Path),
                help="Where shard files go (default: shards/ beside the database); "
                "shared by every node.",
            ),
        )):  # fmt: skip
            function = option(function)
        return function

    return decorate
