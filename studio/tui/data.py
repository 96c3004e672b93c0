"""The TUI's access to the database: one connection shared by thread workers, one at a time.

Screens never touch SQLite on the UI thread. A thread worker calls ``StoreHandle.use()``,
which opens the store on first use (the sqlite-utils import and the migration happen there,
off the UI thread) and serialises access, since workers may overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.store import Store


class StoreHandle:
    """A lazily opened store shared by the app's thread workers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._store: Store | None = None
        self._lock = threading.Lock()

    @contextmanager
    def use(self) -> Iterator[Store]:
        with self._lock:
            if self._store is None:
                from studio.store import Store

                self._store = Store(self.path, check_same_thread=False)
            yield self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
