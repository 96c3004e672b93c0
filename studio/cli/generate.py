"""``studio generate``: run a grid of personas x topics x styles x models x samples.

Prints the run id on stdout (``--json``: the run summary) and shows a progress bar with rate,
ETA, errors and cost on a terminal's stderr. Ctrl+C stops the run: finished generations stay,
unfinished ones are recorded as cancelled, and ``--resume RUN`` later generates only what is
missing. Exit status: 0 when every job succeeded, 1 when some failed (or on a bad option),
130 when interrupted.

Only click is imported at the top; the engine (and litellm, through it) on invocation.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from studio.cli.output import emit_json, executor_options, fail, json_option

if TYPE_CHECKING:
    from studio.cli.context import StudioContext
    from studio.execute import ShardedRun, ShardOutcome
    from studio.generate import PreparedRun, RunSummary
    from studio.store import Store

EXIT_INTERRUPTED = 130


@click.command()
@click.option("--persona", "-p", "personas", multiple=True, help="Persona id (repeatable).")
@click.option("--topic", "-t", "topics", multiple=True, help="Topic path (repeatable).")
@click.option("--style", "-s", "styles", multiple=True, help="Style id (repeatable).")
@click.option(
    "--model", "-m", "models", multiple=True,
    help="Model (repeatable): offline/default, provider/model, or <endpoint>/<model> from "
    "models.yaml. Default: offline/default.",
)  # fmt: skip
@click.option("-n", "--samples", type=click.IntRange(min=1), default=1, show_default=True,
              help="Samples per prompt and model.")  # fmt: skip
@click.option("--temperature", type=click.FloatRange(0, 2), help="Default: the style's.")
@click.option("--top-p", type=click.FloatRange(0, 1), help="Default: the style's.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Default: the style's.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Run seed; sample i is sent seed + i.")  # fmt: skip
@click.option("--concurrency", type=click.IntRange(min=1), default=16, show_default=True,
              help="Calls in flight per provider (halves on 429, grows back).")  # fmt: skip
@click.option("--api-base", help="An OpenAI-compatible server for every --model.")
@click.option("--api-key-env", help="Name of the env var holding the key for --api-base.")
@click.option("--name", default="", help="A name for the run.")
@click.option("--resume", "resume_id", metavar="RUN", help="Finish an interrupted run.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True,
              help="Seconds without a byte before a call is retried.")  # fmt: skip
@click.option("--max-attempts", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--retry-after-cap", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="Longest wait a server's Retry-After can impose, in seconds.")  # fmt: skip
@click.option("--n-per-call", type=click.IntRange(min=1), default=1, show_default=True,
              help="Samples asked for in one call with `n` (not streamed when > 1).")  # fmt: skip
@click.option("--no-stream", is_flag=True, help="Don't stream (no time to first token).")
@click.option("--rpm", type=click.FloatRange(min=0.1), help="Requests per minute per provider.")
@click.option("--tpm", type=click.FloatRange(min=1), help="Tokens per minute per provider.")
@click.option(
    "--transport",
    type=click.Choice(["auto", "litellm", "direct"]),
    default="auto",
    show_default=True,
    help="auto: OpenAI-compatible servers direct over aiohttp, the rest via litellm.",
)
@executor_options("jobs")
@json_option
@click.pass_obj
def generate(ctx: StudioContext, /, **options: Any) -> None:
    """Generate texts for a grid of personas, topics, styles, models and samples."""
    from studio.execute.executor import RAY_MISSING, ray_available

    if options["executor"] == "ray" and not ray_available():
        fail(RAY_MISSING, 2)
    from studio.generate import ConfigError, GenerationError, ModelError
    from studio.generate.redact import Redactor
    from studio.prompts import PromptError
    from studio.store import RunNotFoundError

    redact = Redactor.from_environment([options["api_key_env"]] if options["api_key_env"] else [])
    with ctx.store() as store:
        try:
            prepared = _prepare(ctx, store, options)
        except (ModelError, ConfigError, PromptError, RunNotFoundError) as exc:
            fail(redact(str(exc).splitlines()[0]))
        except KeyError as exc:  # unknown persona, topic or style: the library's message
            fail(redact(str(exc.args[0]) if exc.args else str(exc)))
        except (GenerationError, ValueError) as exc:
            fail(redact(str(exc)))
        sharded = None
        if options["executor"] == "local" and options["shards"] is None:
            summary = _execute(store, prepared, options, redact)
        else:
            sharded = _execute_sharded(ctx, store, prepared, options)
            summary = sharded.summary
        run = store.get_run(prepared.run.id)
    if options["as_json"]:
        data = run.as_dict()
        data.pop("spec", None)
        extra = {} if sharded is None else {"shards": sharded.shard_report()}
        emit_json({"run_id": run.id, **data, "session": summary.as_dict(), **extra})
    else:
        _print_summary(store_run=run, summary=summary)
        click.echo(run.id)
    if sharded is not None and sharded.failed:
        for outcome in sharded.failed:
            click.echo(f"error: shard {outcome.shard} failed: {outcome.error}", err=True)
        click.echo(
            f"Resume with: studio generate --resume {run.id} --executor {options['executor']}"
            f" --shards {sharded.n_shards}",
            err=True,
        )
        raise SystemExit(1)
    if summary.cancelled:
        click.echo(f"Resume with: studio generate --resume {run.id}", err=True)
        raise SystemExit(EXIT_INTERRUPTED)
    if run.n_error:
        raise SystemExit(1)


def _prepare(ctx: StudioContext, store: Store, options: dict[str, Any]) -> PreparedRun:
    from studio.generate import RunSettings, RunSpec, load_config, prepare_resume, prepare_run

    config = load_config()
    settings = RunSettings(
        concurrency=options["concurrency"],
        timeout=options["timeout"],
        max_attempts=options["max_attempts"],
        retry_after_cap=options["retry_after_cap"],
        stream=not options["no_stream"],
        n_per_call=options["n_per_call"],
        rpm=options["rpm"],
        tpm=options["tpm"],
        transport=options["transport"],
    )
    if options["resume_id"]:
        return prepare_resume(store, options["resume_id"], config, **settings.as_dict())
    missing = [
        f"--{flag} (see `studio {listing} list`)"
        for flag, listing, key in (
            ("persona", "personas", "personas"),
            ("topic", "topics", "topics"),
            ("style", "styles", "styles"),
        )
        if not options[key]
    ]
    if missing:
        fail("give at least one " + ", ".join(missing))
    spec = RunSpec(
        personas=tuple(options["personas"]),
        topics=tuple(options["topics"]),
        styles=tuple(options["styles"]),
        models=tuple(options["models"]) or ("offline/default",),
        samples=options["samples"],
        temperature=options["temperature"],
        top_p=options["top_p"],
        max_tokens=options["max_tokens"],
        seed=options["seed"],
        name=options["name"],
        api_base=options["api_base"],
        api_key_env=options["api_key_env"],
        settings=settings,
    )
    return prepare_run(store, ctx.library, spec, config)


def _execute(
    store: Store, prepared: PreparedRun, options: dict[str, Any], redact: Any
) -> RunSummary:
    import asyncio
    import signal

    from studio.generate import JobFailed, JobFinished, RunSession
    from studio.generate.logs import close_run_log, open_run_log
    from studio.paths import studio_home

    show_progress = not options["as_json"] and sys.stderr.isatty()
    handler = open_run_log(studio_home() / "logs" / "generate.log", redact)
    progress_view = _Progress(prepared) if show_progress else None

    def on_event(event: object) -> None:
        if progress_view is not None and isinstance(event, JobFinished | JobFailed):
            progress_view.update(event)

    session = RunSession(store, prepared, on_event=on_event)

    async def main() -> RunSummary:
        loop = asyncio.get_running_loop()

        def interrupted() -> None:
            click.echo(
                "\nInterrupted: recording unfinished jobs as cancelled (Ctrl+C again to quit now).",
                err=True,
            )
            session.cancel()
            # A second Ctrl+C gets Python's default: finished generations are already committed.
            loop.remove_signal_handler(signal.SIGINT)

        try:
            loop.add_signal_handler(signal.SIGINT, interrupted)
            loop.add_signal_handler(signal.SIGTERM, interrupted)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
        return await session.run()

    try:
        if progress_view is not None:
            with progress_view:
                return asyncio.run(main())
        return asyncio.run(main())
    finally:
        close_run_log(handler)


def _execute_sharded(
    ctx: StudioContext, store: Store, prepared: PreparedRun, options: dict[str, Any]
) -> ShardedRun:
    """Run the pending jobs shard by shard on the chosen executor (DESIGN 7)."""
    from studio.execute import DEFAULT_SHARDS, default_shard_root, generate_sharded, make_executor

    n_shards = options["shards"] or DEFAULT_SHARDS
    root = options["shard_dir"] or default_shard_root(ctx.db_path)
    quiet = options["as_json"] or not sys.stderr.isatty()
    executor = make_executor(options["executor"])
    seen = 0

    def on_shard(outcome: ShardOutcome) -> None:
        nonlocal seen
        seen += 1
        if not quiet:
            state = f"failed: {outcome.error}" if outcome.error else (
                f"{len(outcome.made)} generated, {len(outcome.reused)} from its file"
            )  # fmt: skip
            click.echo(f"shard {outcome.shard} ({seen} done): {state}", err=True)

    try:
        return generate_sharded(
            store, prepared, executor, n_shards=n_shards, root=root, on_shard=on_shard
        )
    finally:
        executor.close()


class _Progress:
    """A rich progress bar on stderr: done/total, rate, ETA, errors and cost so far."""

    def __init__(self, prepared: PreparedRun) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("[red]{task.fields[errors]} errors[/] {task.fields[retries]} retries"),
            TextColumn("{task.fields[cost]}"),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.progress.add_task(
            prepared.run.id, total=len(prepared.plan.jobs), completed=prepared.skipped,
            rate="0.0", errors=0, retries=0, cost="$0.0000",
        )  # fmt: skip
        self.errors = 0
        self.retries = 0
        self.cost: float | None = None
        self.done = 0

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, event: object) -> None:
        from studio.generate import JobFailed, JobFinished

        if isinstance(event, JobFailed):
            if event.will_retry:
                self.retries += 1
            return
        assert isinstance(event, JobFinished)
        generation = event.generation
        self.done += 1
        if generation.status == "error":
            self.errors += 1
        if generation.cost_usd is not None:
            self.cost = (self.cost or 0.0) + generation.cost_usd
        elapsed = self.progress.tasks[0].elapsed or 0.0
        self.progress.update(
            self.task,
            advance=1,
            rate=f"{self.done / elapsed:.1f}" if elapsed else "0.0",
            errors=self.errors,
            retries=self.retries,
            cost="cost unknown" if self.cost is None else f"${self.cost:.4f}",
        )


def _print_summary(*, store_run: Any, summary: RunSummary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"run {store_run.id}", box=None, show_header=True)
    for column in ("status", "jobs", "ok", "error", "cancelled", "in", "out", "cost", "time"):
        table.add_column(column)
    cost = "unknown" if store_run.cost_usd is None else f"${store_run.cost_usd:.4f}"
    table.add_row(
        store_run.status,
        str(store_run.n_jobs),
        str(store_run.n_ok),
        str(store_run.n_error),
        str(store_run.n_cancelled),
        str(store_run.prompt_tokens),
        str(store_run.completion_tokens),
        cost,
        f"{summary.elapsed_s:.1f}s",
    )
    console = Console(stderr=True)
    console.print(table)
    if summary.skipped:
        console.print(f"resumed: {summary.skipped} generations were already done")
