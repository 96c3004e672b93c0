"""The Preview screen's bridge to ``studio.generate``: build the spec, run it, route events.

Nothing here imports ``studio.generate`` (or litellm) at module level: the import happens
inside the async worker that runs a preview, so start-up never pays for it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.tui.screens.preview import PreviewScreen


def generation_available() -> bool:
    return importlib.util.find_spec("studio.generate.runner") is not None


@dataclass(frozen=True)
class PreviewRequest:
    personas: tuple[str, ...]
    topic: str
    style: str
    models: tuple[str, ...]
    samples: int = 2
    temperature: float | None = None
    max_tokens: int | None = None


async def run_preview(screen: PreviewScreen, request: PreviewRequest) -> None:
    raise RuntimeError("studio.generate.runner is not available in this build")
