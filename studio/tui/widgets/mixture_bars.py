"""A bar per mixture source: its share of the budget, what it holds, and how short it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.widgets import Static

if TYPE_CHECKING:
    from studio.mix.plan import SourcePlan

BAR_WIDTH = 30
NAME_WIDTH = 14


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


class MixtureBars(Static):
    """Draws ``SourcePlan`` rows: █ tokens the source can give, ▒ its deficit, ░ the rest."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "mixture-bars--name",
        "mixture-bars--fill",
        "mixture-bars--short",
        "mixture-bars--rest",
        "mixture-bars--detail",
        "mixture-bars--warning",
    }

    def show(
        self,
        plans: list[SourcePlan],
        *,
        counting: set[str] | frozenset[str] = frozenset(),
        problems: dict[str, str] | None = None,
        budget: int | None = None,
    ) -> None:
        problems = problems or {}
        style = self.get_component_rich_style
        text = Text(no_wrap=True, overflow="ellipsis")
        for plan in plans:
            share = plan.share or 0.0
            filled = round(share * BAR_WIDTH)
            short = 0
            if plan.deficit_tokens and plan.asked_tokens:
                short = max(1, round(filled * plan.deficit_tokens / plan.asked_tokens))
            text.append(f"{plan.name[:NAME_WIDTH]:<{NAME_WIDTH}} ", style("mixture-bars--name"))
            text.append("█" * (filled - short), style("mixture-bars--fill"))
            text.append("▒" * short, style("mixture-bars--short"))
            text.append("░" * (BAR_WIDTH - filled), style("mixture-bars--rest"))
            text.append(f" {'' if plan.share is None else f'{share:.0%}':>4}\n")
            detail = f"  asked {_count(plan.asked_tokens)} · "
            if plan.name in problems:
                text.append(detail, style("mixture-bars--detail"))
                text.append(f"⚠ {problems[plan.name]}\n", style("mixture-bars--warning"))
                continue
            if plan.supply is None:
                has = "counting…" if plan.name in counting else "not counted"
            else:
                has = f"has {plan.supply.tokens:,} tok in {plan.supply.docs:,} docs"
                if plan.supply.problems:
                    has += f" ({plan.supply.problems:,} bad lines)"
            text.append(detail + has, style("mixture-bars--detail"))
            if plan.deficit_tokens:
                text.append(f"  ⚠ short {plan.deficit_tokens:,}", style("mixture-bars--warning"))
            text.append("\n")
        asked = [p.asked_tokens for p in plans]
        held = [p.supply.tokens for p in plans if p.supply is not None]
        total = "all" if budget is None else f"{budget:,}"
        text.append(
            f"budget {total} tok · asked "
            f"{sum(a for a in asked if a is not None):,}"
            f"{'+' if None in asked else ''} · available {sum(held):,}"
            f"{'+' if len(held) < len(plans) else ''}",
            style("mixture-bars--detail"),
        )
        self.update(text)
