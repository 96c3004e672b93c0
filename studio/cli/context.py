"""What every command needs: where the database and the library are."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from studio.paths import resolve_db_path, resolve_library_dir

if TYPE_CHECKING:
    from studio.library import Library
    from studio.store import Store


@dataclass
class StudioContext:
    db_path: Path
    library_dir: Path
    _library: Library | None = field(default=None, repr=False)

    @classmethod
    def from_options(cls, db: str | None, library: str | None) -> StudioContext:
        return cls(db_path=resolve_db_path(db), library_dir=resolve_library_dir(library))

    @property
    def library(self) -> Library:
        if self._library is None:
            from studio.library import load_library

            self._library = load_library(self.library_dir)
        return self._library

    def store(self) -> Store:
        from studio.store import Store

        return Store(self.db_path)
