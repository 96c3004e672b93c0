"""Where the database lives: ``--db`` beats ``STUDIO_DB`` beats ``$STUDIO_HOME/studio.db``."""

from __future__ import annotations

import os
from pathlib import Path

DB_FILENAME = "studio.db"


def studio_home() -> Path:
    """``STUDIO_HOME``, else the platform's user data dir for the studio."""
    home = os.environ.get("STUDIO_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("synth-studio", appauthor=False))


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("STUDIO_DB")
    if env:
        return Path(env).expanduser()
    return studio_home() / DB_FILENAME
