"""What a recipe would ask of each source, before exporting: supply, targets, deficits.

The export screen shows this live while weights change. Supply is measured the way the export
reads (same readers, empty texts dropped, tiktoken counts); targets come from the export's own
``token_targets``. Both are counted *before* dedup, gates and decontamination, so a deficit
shown here is a lower bound on the one the export will report.

``cancellable`` lets a caller stop an export while stopping is harmless: before the write
stage, when nothing in the output folder has been touched yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.mix.export import Progress, token_targets
from studio.mix.sources import SourceReport, external_documents, stored_documents

if TYPE_CHECKING:
    from studio.mix.recipe import Recipe, Source
    from studio.store import Store

WRITE_STAGE = "write"


@dataclass(frozen=True)
class SourceSupply:
    """What one source holds: non-empty documents and their tokens, and unreadable lines."""

    docs: int
    tokens: int
    problems: int = 0


@dataclass(frozen=True)
class SourcePlan:
    """One source's part of the mixture. ``asked_tokens`` is None until it can be known."""

    name: str
    asked_tokens: int | None
    share: float | None
    supply: SourceSupply | None
    upsample: float = 1.0

    @property
    def deliverable_tokens(self) -> int | None:
        if self.supply is None:
            return None
        return int(self.supply.tokens * self.upsample)

    @property
    def deficit_tokens(self) -> int | None:
        if self.asked_tokens is None or self.deliverable_tokens is None:
            return None
        return max(0, self.asked_tokens - self.deliverable_tokens)


def supply_key(source: Source, tokenizer: str) -> tuple[Any, ...]:
    """What a source's supply depends on (not its weight): a cache key for ``measure_source``."""
    if source.path is not None:
        try:
            stat = source.path.stat()
            stamp: tuple[float, int] | None = (stat.st_mtime, stat.st_size)
        except OSError:
            stamp = None
        return (tokenizer, "file", str(source.path), source.text_field, stamp)
    return (tokenizer, "stored", source.runs, source.personas, source.styles, source.models,
            source.topics)  # fmt: skip


def read_texts(source: Source, store: Store | None) -> tuple[list[str], int]:
    """The non-empty texts a source yields, and how many lines could not be read."""
    report = SourceReport(source.name)
    if source.external:
        docs = external_documents(source, 0, report)
    else:
        if store is None:
            raise ValueError(f"source {source.name!r} reads stored runs but no database is open")
        docs = stored_documents(store, source, 0, report)
    texts = [d.text for d in docs if d.text.strip()]
    return texts, report.n_problems


def count_supply(texts: list[str], problems: int, tokenizer: str) -> SourceSupply:
    from studio.tokens import count_tokens_batch

    return SourceSupply(len(texts), sum(count_tokens_batch(texts, tokenizer)), problems)


def measure_source(source: Source, store: Store | None, tokenizer: str) -> SourceSupply:
    texts, problems = read_texts(source, store)
    return count_supply(texts, problems, tokenizer)


def plan_mixture(recipe: Recipe, supply: Mapping[str, SourceSupply]) -> list[SourcePlan]:
    """Tokens asked of each source and its share, as the export's allocation computes them.

    Without a budget the targets depend on every weighted source's supply; until each is
    measured, weighted sources are shown with no target.
    """
    weighted = [s for s in recipe.sources if s.weight is not None]
    known = recipe.budget_tokens is not None or all(s.name in supply for s in weighted)
    targets: dict[str, int | None] = {}
    if known:
        available = {name: s.tokens for name, s in supply.items()}
        targets = token_targets(recipe, {s.name: available.get(s.name, 0) for s in recipe.sources})
    else:
        targets = {s.name: s.tokens for s in recipe.sources if s.tokens is not None}
    asked_total = sum(t for t in targets.values() if t is not None)
    plans = []
    for source in recipe.sources:
        asked = targets.get(source.name)
        share = asked / asked_total if asked is not None and asked_total else None
        plans.append(
            SourcePlan(source.name, asked, share, supply.get(source.name), source.upsample)
        )
    return plans


class ExportCancelled(Exception):
    """The export was stopped before it touched the output folder."""


def cancellable(progress: Progress, stop: Callable[[], bool]) -> Progress:
    """Wrap ``progress`` so the export stops at its next report while stopping is safe.

    From the write stage on, the previous export has been cleared and shards are being
    written; stopping then would leave a folder with no manifest, so ``stop`` is ignored.
    """

    def report(stage: str, done: int, total: int) -> None:
        if stage != WRITE_STAGE and stop():
            raise ExportCancelled("export cancelled; the output folder was not touched")
        progress(stage, done, total)

    return report
