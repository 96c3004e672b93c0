"""A recipe being edited: its fields as a person types them, turned into a checked ``Recipe``.

The export screen edits a ``RecipeDraft``. ``check`` writes the draft as recipe YAML and parses
that text with ``parse_recipe``, so what the screen runs is exactly what ``load_recipe`` would
read back from the saved file, and a typo comes back as the same ``file:line: field: message``.
Numbers stay text until then: ``"abc"`` as a weight is reported by the recipe checker, not
guessed at here.

Paths (external files, decontamination files) are relative to the recipe's folder, as in the
file; ``save`` rewrites absolute ones relative to it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.mix.recipe import Recipe, RecipeError, parse_recipe

if TYPE_CHECKING:
    from studio.mix.recipe import Source

STORED_FILTERS = ("runs", "personas", "styles", "models", "topics")


def split_list(text: str) -> list[str]:
    """``"a, b ,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_gates(text: str) -> dict[str, str]:
    """``"dup_line_frac: <= 0.3, fineweb: keep"`` -> ``{"dup_line_frac": "<= 0.3", ...}``.

    An entry without a colon keeps an empty value, so the recipe checker names it.
    """
    gates: dict[str, str] = {}
    for entry in split_list(text):
        name, _, value = entry.partition(":")
        gates[name.strip()] = value.strip()
    return gates


def format_gates(gates: dict[str, str]) -> str:
    return ", ".join(f"{name}: {value}" for name, value in gates.items())


def _scalar(text: str) -> int | float | str | None:
    """What YAML would read for a typed number: int, float, or the text itself; None if blank."""
    text = text.strip().replace("_", "")
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _number_text(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(value)


def _merge(doc: Any, fields: dict[str, Any]) -> None:
    """Make the YAML mapping ``doc`` say ``fields``, touching only what differs.

    Keys not in ``fields`` are removed (the draft writes every key a recipe has); equal values
    are left alone with their comments; mappings, and lists of the same length, are merged
    item by item; anything else is replaced.
    """
    from studio.library.saver import _plain, _yaml_value

    for key in [k for k in doc if k not in fields]:
        del doc[key]
    for key, value in fields.items():
        if key in doc and _plain(doc[key]) == _plain(value):
            continue
        existing = doc.get(key)
        if isinstance(value, dict) and isinstance(existing, dict):
            _merge(existing, value)
        elif isinstance(value, list) and isinstance(existing, list) and len(existing) == len(value):
            for index, item in enumerate(value):
                if isinstance(item, dict) and isinstance(existing[index], dict):
                    _merge(existing[index], item)
                elif _plain(existing[index]) != _plain(item):
                    existing[index] = _yaml_value(item)
        else:
            doc[key] = _yaml_value(value)


def _relative(path: str, base: Path) -> str:
    """A path as the recipe file should hold it: relative to the recipe's folder."""
    if not path or not Path(path).is_absolute():
        return path
    try:
        return os.path.relpath(path, base)
    except ValueError:  # another drive on Windows: keep it absolute
        return path


@dataclass
class SourceDraft:
    """One source as typed: stored generations (by filters) or an external file."""

    name: str
    kind: str = "stored"  # "stored" or "file"
    runs: list[str] = field(default_factory=list)
    personas: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    path: str = ""
    text_field: str = "text"
    amount: str = "weight"  # "weight" or "tokens"
    weight: str = "1"
    tokens: str = ""
    upsample: str = ""
    gates: dict[str, str] = field(default_factory=dict)

    @property
    def external(self) -> bool:
        return self.kind == "file"

    def document(self, base: Path | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name}
        if self.external:
            doc["path"] = _relative(self.path.strip(), base) if base else self.path.strip()
            if self.text_field.strip() and self.text_field.strip() != "text":
                doc["text_field"] = self.text_field.strip()
        else:
            for key in STORED_FILTERS:
                values = getattr(self, key)
                if values:
                    doc[key] = list(values)
        if self.amount == "tokens":
            doc["tokens"] = _scalar(self.tokens)
        else:
            doc["weight"] = _scalar(self.weight)
        upsample = _scalar(self.upsample)
        if upsample is not None and upsample != 1:
            doc["upsample"] = upsample
        if self.gates:
            doc["gates"] = dict(self.gates)
        return doc

    @classmethod
    def from_source(cls, source: Source, base: Path) -> SourceDraft:
        gates = {g.name: "keep" if g.op == "keep" else f"{g.op} {g.value:g}" for g in source.gates}
        return cls(
            name=source.name,
            kind="file" if source.external else "stored",
            runs=list(source.runs),
            personas=list(source.personas),
            styles=list(source.styles),
            models=list(source.models),
            topics=list(source.topics),
            path=_relative(str(source.path), base) if source.path else "",
            text_field=source.text_field,
            amount="tokens" if source.tokens is not None else "weight",
            weight=_number_text(source.weight),
            tokens="" if source.tokens is None else str(source.tokens),
            upsample="" if source.upsample == 1 else _number_text(source.upsample),
            gates=gates,
        )


@dataclass
class RecipeDraft:
    """A whole recipe as typed on the export screen."""

    name: str = "mixture"
    description: str = ""
    seed: str = "0"
    budget_tokens: str = ""
    tokenizer: str = "cl100k_base"
    db: str = ""
    sources: list[SourceDraft] = field(default_factory=list)
    exact: bool = True
    near_threshold: str = ""
    keep: str = "source_order"
    decontaminate: list[str] = field(default_factory=list)
    ngram: str = "10"
    decontaminate_field: str = "text"
    format: str = "jsonl"
    shard_docs: str = "100000"
    compression: str = "none"

    def document(self, base: Path | None = None) -> dict[str, Any]:
        """The recipe mapping, in the order docs/recipes.md writes it."""
        doc: dict[str, Any] = {"name": self.name.strip()}
        if self.description.strip():
            doc["description"] = self.description.strip()
        for key in ("seed", "budget_tokens"):
            value = _scalar(getattr(self, key))
            if value is not None:
                doc[key] = value
        if self.tokenizer.strip() and self.tokenizer.strip() != "cl100k_base":
            doc["tokenizer"] = self.tokenizer.strip()
        if self.db.strip():
            doc["db"] = _relative(self.db.strip(), base) if base else self.db.strip()
        doc["sources"] = [s.document(base) for s in self.sources]
        dedup: dict[str, Any] = {"exact": self.exact}
        near = _scalar(self.near_threshold)
        if near is not None:
            dedup["near_threshold"] = near
        if self.keep != "source_order":
            dedup["keep"] = self.keep
        doc["dedup"] = dedup
        if self.decontaminate:
            decon: dict[str, Any] = {
                "against": [_relative(p, base) if base else p for p in self.decontaminate],
            }
            ngram = _scalar(self.ngram)
            if ngram is not None:
                decon["ngram"] = ngram
            if self.decontaminate_field.strip() and self.decontaminate_field.strip() != "text":
                decon["text_field"] = self.decontaminate_field.strip()
            doc["decontaminate"] = decon
        output: dict[str, Any] = {"format": self.format}
        shard_docs = _scalar(self.shard_docs)
        if shard_docs is not None:
            output["shard_docs"] = shard_docs
        if self.compression != "none":
            output["compression"] = self.compression
        doc["output"] = output
        return doc

    def yaml(self, path: Path) -> str:
        """The recipe file's text for a recipe saved at ``path``.

        When ``path`` already holds a recipe, its document is updated in place: comments,
        key order and the formatting of every unchanged value stay as their author wrote
        them, and a save with nothing changed gives the same bytes.
        """
        from studio.library.yamldoc import yaml_round_trip

        yaml = yaml_round_trip()
        fields = self.document(path.parent)
        doc: Any = fields
        try:
            existing = yaml.load(path.read_text(encoding="utf-8")) if path.is_file() else None
        except Exception:  # unreadable or not YAML: written afresh (the save replaces it)
            existing = None
        if isinstance(existing, dict):
            _merge(existing, fields)
            doc = existing
        sink = io.StringIO()
        yaml.dump(doc, sink)
        return sink.getvalue()

    def check(self, path: Path) -> Recipe:
        """The recipe ``load_recipe`` would read from ``path`` once saved; or ``RecipeError``."""
        recipe, errors = parse_recipe(self.yaml(path), path)
        if errors or recipe is None:
            raise RecipeError(errors)
        return recipe

    def save(self, path: Path) -> Recipe:
        """Check, then write atomically; nothing is written when the recipe has problems."""
        from studio.library.saver import atomic_write_text

        text = self.yaml(path)
        recipe, errors = parse_recipe(text, path)
        if errors or recipe is None:
            raise RecipeError(errors)
        atomic_write_text(path, text)
        return recipe

    @classmethod
    def from_recipe(cls, recipe: Recipe) -> RecipeDraft:
        base = recipe.path.parent if recipe.path else Path.cwd()
        decon = recipe.decontaminate
        return cls(
            name=recipe.name,
            description=recipe.description,
            seed=str(recipe.seed),
            budget_tokens="" if recipe.budget_tokens is None else str(recipe.budget_tokens),
            tokenizer=recipe.tokenizer,
            db=_relative(str(recipe.db), base) if recipe.db else "",
            sources=[SourceDraft.from_source(s, base) for s in recipe.sources],
            exact=recipe.dedup.exact,
            near_threshold=_number_text(recipe.dedup.near_threshold),
            keep=recipe.dedup.keep,
            decontaminate=[_relative(str(p), base) for p in decon.against] if decon else [],
            ngram=str(decon.ngram) if decon else "10",
            decontaminate_field=decon.text_field if decon else "text",
            format=recipe.output.format,
            shard_docs=str(recipe.output.shard_docs),
            compression=recipe.output.compression,
        )
