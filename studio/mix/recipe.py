"""Mixture recipes: which texts go into a training mixture, in what proportions, and what is
removed on the way.

A recipe is a YAML file (see ``docs/recipes.md`` for the full format)::

    name: textbooks-v1
    seed: 11
    budget_tokens: 50000000
    sources:
      - name: textbooks
        runs: [RUN_ID]             # stored generations; also personas/styles/models/topics
        weight: 0.6                # or tokens: N
        gates: {dup_line_frac: "<= 0.3", fineweb: keep}
      - name: web
        path: web.jsonl            # external JSONL or Parquet
        text_field: body
        weight: 0.4
    dedup: {exact: true, near_threshold: 0.8}
    decontaminate: {against: [bench.jsonl], ngram: 10}
    output: {format: jsonl, shard_docs: 100000}

Loading checks the whole recipe before any work starts and reports every problem as
``file:line: field: message``. Relative paths are relative to the recipe's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from studio.library.errors import LibraryError, LibraryFileError
from studio.library.schema import FieldRule, did_you_mean
from studio.library.yamldoc import (
    FieldChecker,
    item_line,
    key_line,
    load_checked,
    parse_document,
    value_line,
)

FILTER_NAMES = ("gopher_repetition", "gopher_quality", "c4", "fineweb")
_GATE = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
_OPS = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


class RecipeError(LibraryFileError):
    """A recipe has problems; ``errors`` lists each as file:line: field: message."""


def _positive_number(value: Any) -> str | None:
    return None if value > 0 else f"must be greater than 0, got {value}"


def _positive_int(value: Any) -> str | None:
    return None if value > 0 else f"must be a positive integer, got {value}"


def _fraction(value: Any) -> str | None:
    return None if 0 < value <= 1 else f"must be in (0, 1], got {value}"


def _at_least_one(value: Any) -> str | None:
    return None if value >= 1 else f"must be at least 1, got {value}"


def _ngram(value: Any) -> str | None:
    return None if 1 <= value <= 50 else f"must be between 1 and 50, got {value}"


def _one_of(*choices: str) -> Any:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}, got {value!r}"

    return check


RECIPE_FIELDS: dict[str, FieldRule] = {
    "name": FieldRule("str", True),
    "description": FieldRule("str"),
    "seed": FieldRule("int"),
    "budget_tokens": FieldRule("int", False, _positive_int),
    "tokenizer": FieldRule("str"),
    "db": FieldRule("str"),
    "sources": FieldRule("list", True),
    "dedup": FieldRule("mapping"),
    "decontaminate": FieldRule("mapping"),
    "output": FieldRule("mapping"),
}

SOURCE_FIELDS: dict[str, FieldRule] = {
    "name": FieldRule("str", True),
    # stored generations
    "runs": FieldRule("str_list"),
    "personas": FieldRule("str_list"),
    "styles": FieldRule("str_list"),
    "models": FieldRule("str_list"),
    "topics": FieldRule("str_list"),
    # external files
    "path": FieldRule("str"),
    "text_field": FieldRule("str"),
    # how much
    "weight": FieldRule("number", False, _positive_number),
    "tokens": FieldRule("int", False, _positive_int),
    "upsample": FieldRule("number", False, _at_least_one),
    "gates": FieldRule("mapping"),
}

DEDUP_FIELDS: dict[str, FieldRule] = {
    "exact": FieldRule("bool"),
    "near_threshold": FieldRule("number", False, _fraction),
    "keep": FieldRule("str", False, _one_of("source_order", "longest")),
}

DECONTAMINATE_FIELDS: dict[str, FieldRule] = {
    "against": FieldRule("str_list", True),
    "ngram": FieldRule("int", False, _ngram),
    "text_field": FieldRule("str"),
}

OUTPUT_FIELDS: dict[str, FieldRule] = {
    "format": FieldRule("str", False, _one_of("jsonl", "parquet")),
    "shard_docs": FieldRule("int", False, _positive_int),
    "compression": FieldRule("str", False, _one_of("none", "gzip")),
}


@dataclass(frozen=True)
class Gate:
    """One quality gate: a metric compared with a number, or a filter that must keep."""

    name: str
    op: str = "keep"
    value: float = 0.0

    def passes(self, metrics: dict[str, Any], filters: dict[str, Any]) -> bool:
        if self.op == "keep":
            return bool(filters[self.name]["keep"])
        measured = metrics.get(self.name)
        if measured is None:
            return False
        return bool(_OPS[self.op](measured, self.value))

    def __str__(self) -> str:
        return (
            f"{self.name}: keep" if self.op == "keep" else f"{self.name} {self.op} {self.value:g}"
        )


@dataclass(frozen=True)
class Source:
    """Where texts come from: stored generations (filters) or an external file."""

    name: str
    weight: float | None = None
    tokens: int | None = None
    upsample: float = 1.0
    gates: tuple[Gate, ...] = ()
    runs: tuple[str, ...] = ()
    personas: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    path: Path | None = None
    text_field: str = "text"

    @property
    def external(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class Dedup:
    exact: bool = True
    near_threshold: float | None = None
    # Which copy survives: the first by source order then position ("source_order"), or the
    # longest text, ties broken by source order ("longest").
    keep: str = "source_order"


@dataclass(frozen=True)
class Decontaminate:
    against: tuple[Path, ...]
    ngram: int = 10
    text_field: str = "text"


@dataclass(frozen=True)
class Output:
    format: str = "jsonl"
    shard_docs: int = 100_000
    compression: str = "none"


@dataclass(frozen=True)
class Recipe:
    name: str
    sources: tuple[Source, ...]
    seed: int = 0
    budget_tokens: int | None = None
    tokenizer: str = "cl100k_base"
    db: Path | None = None
    description: str = ""
    dedup: Dedup = field(default_factory=Dedup)
    decontaminate: Decontaminate | None = None
    output: Output = field(default_factory=Output)
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@lru_cache(maxsize=1)
def known_metric_names() -> frozenset[str]:
    """Every per-text metric a gate may name (DESIGN 5.1), read off the scorer itself."""
    from studio.metrics.scorer import TextScorer

    score = TextScorer(token_counter=len).score("A short text to list the metric names.")
    return frozenset(k for k, v in score.metrics.items() if isinstance(v, int | float))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _gates(check: FieldChecker, raw: Any, where: str, names: frozenset[str]) -> tuple[Gate, ...]:
    gates: list[Gate] = []
    for key, value in raw.items():
        name = f"{where}.{key}"
        line = value_line(raw, key)
        if key in FILTER_NAMES:
            if value != "keep":
                check.error(line, name, f"a filter gate must be 'keep', got {value!r}")
                continue
            gates.append(Gate(str(key)))
            continue
        if key not in names:
            hint = did_you_mean(str(key), [*names, *FILTER_NAMES])
            check.error(key_line(raw, key), name, f"unknown metric{hint}")
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            check.error(line, name, f"expected a comparison like '<= 0.3', got {value!r}")
            continue
        match = _GATE.match(str(value)) if isinstance(value, str) else None
        if match is None:
            check.error(line, name, f"expected a comparison like '<= 0.3', got {value!r}")
            continue
        gates.append(Gate(str(key), match.group(1), float(match.group(2))))
    return tuple(gates)


def parse_recipe(text: str, path: Path) -> tuple[Recipe | None, list[LibraryError]]:
    """Check and build a recipe; every problem comes back at once."""
    doc, errors = parse_document(text, path, "recipe")
    if doc is None:
        return None, errors
    check = FieldChecker(path, errors)
    good = check.mapping(doc, RECIPE_FIELDS, "", 1)
    if good is None:
        return None, errors
    base = path.parent
    sources: list[Source] = []
    seen: dict[str, int] = {}
    raw_sources = good.get("sources") or []
    if "sources" in good and not raw_sources:
        check.error(value_line(doc, "sources"), "sources", "must list at least one source")
    for index, raw in enumerate(raw_sources):
        where = f"sources[{index}]"
        line = item_line(raw_sources, index, doc, "sources")
        if isinstance(raw, dict) and isinstance(raw.get("runs"), list):
            # Run ids are strings, but a prefix of digits reads as a YAML integer.
            raw["runs"] = [str(r) if isinstance(r, int) else r for r in raw["runs"]]
        src = check.mapping(raw, SOURCE_FIELDS, where, line)
        if src is None or "name" not in src:
            continue
        name = str(src["name"])
        if name in seen:
            check.error(
                key_line(raw, "name"),
                f"{where}.name",
                f"duplicate source name {name!r} (also on line {seen[name]})",
            )
        seen[name] = key_line(raw, "name")
        # Judge the shape by the keys written, so one bad value does not cascade into more errors.
        stored_keys = [k for k in ("runs", "personas", "styles", "models", "topics") if k in raw]
        if "path" in raw and stored_keys:
            check.error(
                line,
                where,
                f"a source reads either a file (path) or stored generations "
                f"({', '.join(stored_keys)}), not both",
            )
        if "path" not in raw and not stored_keys:
            check.error(
                line,
                where,
                "needs a path (external file) or runs/personas/styles/"
                "models/topics (stored generations)",
            )
        if ("weight" in raw) == ("tokens" in raw):
            check.error(line, where, "needs exactly one of weight or tokens")
        if "text_field" in src and "path" not in src:
            check.error(
                key_line(raw, "text_field"),
                f"{where}.text_field",
                "only external files (path) have a text field",
            )
        source_path = None
        if "path" in src:
            source_path = (base / src["path"]).resolve()
            if source_path.suffix not in (".jsonl", ".parquet", ".gz") and not str(
                source_path
            ).endswith(".jsonl.gz"):
                check.error(
                    value_line(raw, "path"),
                    f"{where}.path",
                    "must be a .jsonl, .jsonl.gz or .parquet file",
                )
            elif not source_path.is_file():
                check.error(
                    value_line(raw, "path"), f"{where}.path", f"no such file: {source_path}"
                )
        gates: tuple[Gate, ...] = ()
        if "gates" in src:
            gates = _gates(check, raw["gates"], f"{where}.gates", known_metric_names())
        sources.append(
            Source(
                name=name,
                weight=float(src["weight"]) if "weight" in src else None,
                tokens=src.get("tokens"),
                upsample=float(src.get("upsample", 1.0)),
                gates=gates,
                runs=tuple(src.get("runs") or ()),
                personas=tuple(src.get("personas") or ()),
                styles=tuple(src.get("styles") or ()),
                models=tuple(src.get("models") or ()),
                topics=tuple(src.get("topics") or ()),
                path=source_path,
                text_field=str(src.get("text_field") or "text"),
            )
        )
    dedup = Dedup()
    if "dedup" in good:
        d = check.mapping(good["dedup"], DEDUP_FIELDS, "dedup", value_line(doc, "dedup"))
        if d is not None:
            dedup = Dedup(
                exact=bool(d.get("exact", True)),
                near_threshold=None
                if d.get("near_threshold") is None
                else float(d["near_threshold"]),
                keep=str(d.get("keep", "source_order")),
            )
    decontaminate = None
    if "decontaminate" in good:
        raw_d = good["decontaminate"]
        d = check.mapping(
            raw_d, DECONTAMINATE_FIELDS, "decontaminate", value_line(doc, "decontaminate")
        )
        if d is not None and "against" in d:
            files = []
            for i, item in enumerate(d["against"]):
                file = (base / item).resolve()
                if not file.is_file():
                    check.error(
                        item_line(raw_d["against"], i, raw_d, "against"),
                        f"decontaminate.against[{i}]",
                        f"no such file: {file}",
                    )
                files.append(file)
            decontaminate = Decontaminate(
                against=tuple(files),
                ngram=int(d.get("ngram", 10)),
                text_field=str(d.get("text_field") or "text"),
            )
    output = Output()
    if "output" in good:
        o = check.mapping(good["output"], OUTPUT_FIELDS, "output", value_line(doc, "output"))
        if o is not None:
            output = Output(
                format=str(o.get("format", "jsonl")),
                shard_docs=int(o.get("shard_docs", 100_000)),
                compression=str(o.get("compression", "none")),
            )
            if output.format == "parquet" and output.compression == "gzip":
                check.error(
                    value_line(good["output"], "compression"),
                    "output.compression",
                    "parquet shards are compressed inside the file; use none",
                )
    if errors:
        return None, errors
    recipe = Recipe(
        name=str(good["name"]),
        description=str(good.get("description") or ""),
        sources=tuple(sources),
        seed=int(good.get("seed", 0)),
        budget_tokens=good.get("budget_tokens"),
        tokenizer=str(good.get("tokenizer") or "cl100k_base"),
        db=(base / good["db"]).resolve() if good.get("db") else None,
        dedup=dedup,
        decontaminate=decontaminate,
        output=output,
        path=path,
        raw=_plain(doc),
    )
    return recipe, errors


def load_recipe(path: Path) -> Recipe:
    """Load a recipe file or raise ``RecipeError`` listing every problem."""
    return load_checked(path, parse_recipe, RecipeError)
