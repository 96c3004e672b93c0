"""Where things live, resolved without importing anything heavy.

- the library: ``--library``, else ``$STUDIO_LIBRARY``, else ``./personas``, else the shipped one;
- the database: ``--db``, else ``$STUDIO_DB``, else ``$STUDIO_HOME/studio.db``, where
  ``STUDIO_HOME`` defaults to the platform's user data dir.
"""

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


def shipped_sample_db() -> Path | None:
    """The sample database (``sample_runs/studio.db``), in the wheel or beside the source."""
    for candidate in (
        _PACKAGE / "_shipped" / "sample_runs" / "studio.db",
        _PACKAGE.parent / "sample_runs" / "studio.db",
    ):
        if candidate.is_file():
            return candidate
    return None


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
    return default_db_path()


def default_db_path() -> Path:
    return studio_home() / DB_FILENAME


def seed_first_start(db_path: Path) -> bool:
    """On the very first start, begin the default database as a copy of the sample runs.

    Only when ``db_path`` does not exist yet, so nobody's data is ever touched: a newcomer
    opens the studio and sees scored runs at once, and the runs are theirs to keep or drop.
    """
    sample = shipped_sample_db()
    if sample is None or db_path.exists():
        return False
    import shutil

    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f".{db_path.name}.seed")
    shutil.copyfile(sample, tmp)
    os.replace(tmp, db_path)
    return True
