"""Filter decisions: ``{"keep": bool, "reason": str | None}`` with datatrove's reason strings."""

from __future__ import annotations

from typing import TypedDict


class FilterResult(TypedDict):
    """One filter's decision. ``reason`` is datatrove's reason string, or None when kept."""

    keep: bool
    reason: str | None


KEEP: FilterResult = {"keep": True, "reason": None}


def drop(reason: str) -> FilterResult:
    """A decision to drop the text, for ``reason``."""
    return {"keep": False, "reason": reason}
