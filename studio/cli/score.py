"""``studio score FILE.jsonl`` and ``studio score --run RUN``: per-text metrics and a set summary.

Each output line is the input object with ``metrics`` and ``filters`` added (DESIGN 5.1).
The set summary (DESIGN 5.2 names) goes to stderr, or with ``--json`` as the last stdout line.
Bad input lines are reported on stderr with their line number and skipped; everything else is
still scored, and the exit status is 3 when anything was skipped.

Heavy modules (numpy, tiktoken, the metrics) are imported inside the command.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from studio.cli.output import executor_options, fail
from studio.metrics.script import lone_surrogate

if TYPE_CHECKING:
    from studio.cli.context import StudioContext
    from studio.metrics.scorer import TextScorer
    from studio.scoring import RunScores

EXIT_SKIPPED = 3
DEFAULT_MAX_CHARS = 1_000_000
BATCH = 256
# C0 controls other than tab, newline and carriage return, DEL, and the C1 block
_CONTROL = {*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)}
_CONTROL_TABLE = dict.fromkeys(_CONTROL)


@dataclass(frozen=True, slots=True)
class InputProblem:
    """A line that could not be scored."""

    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


@dataclass(frozen=True, slots=True)
class InputRecord:
    line: int
    record: dict[str, Any]
    text: str


def read_jsonl(
    stream: IO[bytes], text_field: str, max_chars: int
) -> Iterator[InputRecord | InputProblem]:
    """Parse JSONL; yield a record per good line and a problem per bad one (blank lines skip)."""
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield InputProblem(number, f"not UTF-8 (byte {exc.start})")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputProblem(number, f"invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(obj, dict):
            yield InputProblem(number, f"not a JSON object but {type(obj).__name__}")
            continue
        if text_field not in obj:
            yield InputProblem(number, f"missing field {text_field!r}")
            continue
        text = obj[text_field]
        if not isinstance(text, str):
            yield InputProblem(number, f"field {text_field!r} is {type(text).__name__}, not text")
            continue
        if not text.strip():
            yield InputProblem(number, f"empty text in field {text_field!r}")
            continue
        if len(text) > max_chars:
            yield InputProblem(
                number, f"text of {len(text):,} characters is over the {max_chars:,} limit"
            )
            continue
        if len(text.translate(_CONTROL_TABLE)) != len(text):
            bad = next(ch for ch in text if ord(ch) in _CONTROL)
            yield InputProblem(number, f"control character U+{ord(bad):04X} in the text")
            continue
        at = lone_surrogate(text)
        if at >= 0:
            yield InputProblem(
                number, f"lone surrogate U+{ord(text[at]):04X} at character {at} (not valid text)"
            )
            continue
        yield InputRecord(number, obj, text)


def _build_scorer() -> TextScorer:
    from studio.scoring import build_scorer

    return build_scorer()


def _summary_text(summary: dict[str, Any]) -> str:
    from studio.metrics.summary import SET_METRIC_NAMES

    parts = [f"{summary['n_texts']} texts"]
    for name in SET_METRIC_NAMES:
        value = summary.get(name)
        parts.append(f"{name}={value:.4f}" if isinstance(value, float) else f"{name}={value}")
    sampling = summary.get("sampling", {}).get("homogenization_rougel", {})
    if not sampling.get("exact", True):
        lo, hi = sampling["ci95"]
        pairs = sampling["n_pairs"]
        parts.append(f"(homogenization_rougel: {pairs} sampled pairs, CI {lo:.4f}..{hi:.4f})")
    return "summary: " + " ".join(parts)


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--text-field", default="text", show_default=True, help="JSON field holding the text."
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the scored JSONL here instead of stdout.",
)
@click.option("--run", "run_id", help="Score a stored run and save the scores in the database.")
@click.option(
    "--max-chars",
    default=DEFAULT_MAX_CHARS,
    show_default=True,
    help="Texts longer than this are reported and skipped.",
)
@click.option(
    "--language",
    type=click.Choice(["auto", "en", "zh", "ja"]),
    default="auto",
    show_default=True,
    help="Score as this language instead of detecting it.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the set summary as JSON on the last stdout line."
)
@executor_options("texts (with --run)")
@click.pass_obj
def score(
    ctx: StudioContext,
    file: Path | None,
    text_field: str,
    out_path: Path | None,
    run_id: str | None,
    max_chars: int,
    language: str,
    as_json: bool,
    executor: str,
    shards: int | None,
    shard_dir: Path | None,
) -> None:
    """Score a JSONL file of texts (or a stored run with --run).

    Each output line keeps the input fields and adds "metrics" and "filters" (keep/reason for
    gopher_repetition, gopher_quality, c4 and fineweb, with datatrove's reasons).
    """
    from studio.execute.executor import RAY_MISSING, ray_available

    if executor == "ray" and not ray_available():
        fail(RAY_MISSING, 2)
    lang = None if language == "auto" else language
    if run_id is not None:
        if file is not None:
            fail("give either FILE or --run, not both", 2)
        if executor == "local" and shards is None:
            _score_run(ctx, run_id, lang, as_json)
        else:
            _score_run_sharded(ctx, run_id, lang, as_json, executor, shards, shard_dir)
        return
    if executor != "local" or shards is not None:
        fail("--executor and --shards work with --run RUN only", 2)
    if file is None:
        fail("give a JSONL FILE to score, or --run RUN", 2)
    try:
        stream = file.open("rb")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}", 2)
    with stream:
        skipped = _score_file(stream, text_field, out_path, max_chars, lang, as_json)
    if skipped:
        click.echo(f"{skipped} line(s) skipped; every other line was scored.", err=True)
        raise SystemExit(EXIT_SKIPPED)


def _score_file(
    stream: IO[bytes],
    text_field: str,
    out_path: Path | None,
    max_chars: int,
    language: str | None,
    as_json: bool,
) -> int:
    from studio.metrics.summary import set_summary
    from studio.scoring import filter_kept

    scorer = _build_scorer()
    out: IO[str]
    out = out_path.open("w", encoding="utf-8") if out_path is not None else sys.stdout
    texts: list[str] = []
    filters: list[dict[str, Any]] = []
    skipped = 0
    batch: list[InputRecord] = []

    def flush() -> None:
        scores = scorer.score_batch([r.text for r in batch], language)
        for rec, sc in zip(batch, scores, strict=True):
            row = dict(rec.record)
            row["metrics"] = sc.metrics
            row["filters"] = sc.filters
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            texts.append(rec.text)
            filters.append(sc.filters)
        batch.clear()

    try:
        for item in read_jsonl(stream, text_field, max_chars):
            if isinstance(item, InputProblem):
                skipped += 1
                click.echo(f"warning: {item}", err=True)
                continue
            batch.append(item)
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
        summary = set_summary(texts)
        summary["filters_kept"] = filter_kept(filters)
        summary["skipped_lines"] = skipped
        if as_json:
            out.flush()
            sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        else:
            click.echo(_summary_text(summary), err=True)
    finally:
        if out is not sys.stdout:
            out.close()
    return skipped


# --- stored runs -------------------------------------------------------------------------------


def _score_run(ctx: StudioContext, run_id: str, language: str | None, as_json: bool) -> None:
    from studio.scoring import NothingToScoreError, score_run
    from studio.store import RunNotFoundError

    with ctx.store() as store:
        try:
            scores = score_run(store, run_id, language=language, scorer=_build_scorer())
        except (RunNotFoundError, NothingToScoreError) as exc:
            fail(str(exc))
    _report_run_scores(scores, as_json)


def _score_run_sharded(
    ctx: StudioContext,
    run_id: str,
    language: str | None,
    as_json: bool,
    executor_name: str,
    shards: int | None,
    shard_dir: Path | None,
) -> None:
    from studio.execute import (
        DEFAULT_SHARDS,
        ShardsFailedError,
        default_shard_root,
        make_executor,
        score_run_sharded,
    )
    from studio.scoring import NothingToScoreError
    from studio.store import RunNotFoundError

    with ctx.store() as store:
        executor = make_executor(executor_name)
        try:
            scores = score_run_sharded(
                store,
                run_id,
                executor,
                n_shards=shards or DEFAULT_SHARDS,
                root=shard_dir or default_shard_root(ctx.db_path),
                language=language,
            )
        except (RunNotFoundError, NothingToScoreError, ShardsFailedError) as exc:
            fail(str(exc))
        finally:
            executor.close()
    _report_run_scores(scores, as_json)


def _report_run_scores(scores: RunScores, as_json: bool) -> None:
    overall = scores.overall
    if as_json:
        sys.stdout.write(json.dumps(scores.as_dict(), ensure_ascii=False) + "\n")
    else:
        click.echo(
            f"scored {scores.n_texts} texts of run {scores.run_id}; "
            "stored per-text and set metrics",
            err=True,
        )
        click.echo(_summary_text(overall), err=True)
