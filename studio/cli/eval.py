"""``studio eval SUITE [--model M] [--junit FILE]``: CI for prompts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from studio.cli.output import emit_json, fail, shown_path, stdout_console

if TYPE_CHECKING:
    from studio.cli.context import StudioContext
    from studio.suites import SuiteResult


@click.command("eval")
@click.argument("suite_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--model", "models", multiple=True, help="Generate with this model instead (repeatable)."
)
@click.option("--baseline", "baseline_run", help="Run that 'baseline' in gates refers to.")
@click.option(
    "--junit",
    "junit_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the gate results as JUnit XML here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON to stdout.")
@click.pass_obj
def eval_command(
    ctx: StudioContext,
    suite_path: Path,
    models: tuple[str, ...],
    baseline_run: str | None,
    junit_path: Path | None,
    as_json: bool,
) -> None:
    """Run an eval suite, store and score its run, and judge its gates (exit 1 on a failure)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from studio.generate.errors import ModelError
    from studio.generate.events import JobFinished
    from studio.prompts import PromptError
    from studio.scoring import NothingToScoreError
    from studio.store import RunNotFoundError
    from studio.suites import SuiteError, junit_xml, load_suite, run_spec, run_suite

    try:
        suite = load_suite(suite_path)
    except SuiteError as exc:
        for error in exc.errors:
            click.echo(
                f"{shown_path(error.path)}:{error.line}: {error.field}: {error.message}", err=True
            )
        raise SystemExit(2) from None
    library = ctx.library
    total = 0
    if suite.run is not None:
        try:
            spec = run_spec(suite, library, models)
        except KeyError as exc:
            fail(f"{shown_path(suite_path)}: {exc.args[0]}", 2)
        total = len(spec.personas) * len(spec.topics) * len(spec.styles) * len(spec.models)
        total *= spec.samples
    progress = Progress(
        TextColumn(f"[bold]{suite.name}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        disable=as_json or not sys.stderr.isatty() or total == 0,
        console=None,
    )
    task = progress.add_task("generate", total=total)

    def on_event(event: object) -> None:
        if isinstance(event, JobFinished):
            progress.advance(task)

    with ctx.store() as store:
        try:
            with progress:
                results = run_suite(
                    suite,
                    store,
                    library,
                    models=models,
                    baseline_run=baseline_run,
                    on_event=on_event,
                )
        except (
            ModelError,
            PromptError,
            RunNotFoundError,
            NothingToScoreError,
            ValueError,
            KeyError,
        ) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
            fail(message, 2)
    if junit_path is not None:
        junit_path.write_text(junit_xml(results), encoding="utf-8")
    if as_json:
        emit_json([r.as_dict() for r in results])
    else:
        for result in results:
            _report(result)
    failed = [r for r in results if not r.passed]
    for result in failed:
        for gate in result.failures:
            click.echo(f"FAILED {result.suite.name}: {gate.name}: {gate.message}", err=True)
    if failed:
        raise SystemExit(1)


def _report(result: SuiteResult) -> None:
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    verdict = (
        Text("passed", style="bold green") if result.passed else Text("FAILED", style="bold red")
    )
    console.print(
        Text.assemble(
            (result.suite.name, "bold"),
            "  run ",
            result.run_id,
            f"  {result.n_texts} texts  ",
            verdict,
        )
    )
    table = Table("gate", "group", "value", "threshold", "", box=None)
    for gate in result.results:
        value = "-" if gate.value is None else f"{gate.value:.4f}"
        threshold = "-" if gate.threshold is None else f"{gate.gate.op} {gate.threshold:.4f}"
        mark = Text("ok", style="green") if gate.passed else Text("FAIL", style="bold red")
        table.add_row(Text(gate.gate.text), gate.group or "", value, threshold, mark)
    console.print(table)
