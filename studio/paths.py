"""Where the library lives: ``--library``, else ``./personas``, else the shipped library."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_library_dir() -> Path:
    """The library that ships with the studio (inside the wheel, or beside the source tree)."""
    for candidate in (_PACKAGE / "_shipped" / "personas", _PACKAGE.parent / "personas"):
        if candidate.is_dir():
            return candidate
    return _PACKAGE / "_shipped" / "personas"


def resolve_library_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("STUDIO_LIBRARY")
    if env:
        return Path(env).expanduser()
    local = Path.cwd() / "personas"
    if local.is_dir():
        return local
    return shipped_library_dir()
