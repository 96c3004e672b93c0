"""Committing generations off the event loop.

A SQLite commit with the full-text index costs about a millisecond; at hundreds of
generations a second that is most of an event loop's time. ``StoreWriter`` takes each
generation as it finishes and a thread of its own commits whatever has arrived since its last
commit, in one transaction: every generation is on disk a few milliseconds after it ends,
and the loop never waits for the disk.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.store import Generation

_STOP = None
MAX_BATCH = 256


class StoreWriter:
    """A sink for ``Runner``: ``writer(generation)`` queues it; ``close()`` flushes and joins."""

    def __init__(self, db_path: Path | str) -> None:
        self.db_path = Path(db_path)
        self._queue: queue.SimpleQueue[Generation | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="studio-store-writer", daemon=True)
        self._thread.start()
        self.written = 0

    def __call__(self, generation: Generation) -> None:
        if self._error is not None:
            raise RuntimeError(f"the store writer failed: {self._error}") from self._error
        self._queue.put(generation)

    def close(self) -> None:
        """Wait until everything queued is committed; re-raise the writer's error if any."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._error is not None:
            raise RuntimeError(f"the store writer failed: {self._error}") from self._error

    def _work(self) -> None:
        from studio.store import Store

        store = Store(self.db_path)
        try:
            stopping = False
            while not stopping:
                item = self._queue.get()
                batch: list[Generation] = []
                if item is _STOP:
                    stopping = True
                else:
                    batch.append(item)
                while len(batch) < MAX_BATCH:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stopping = True
                        break
                    batch.append(more)
                if batch and self._error is None:
                    try:
                        store.record_generations(batch)
                        self.written += len(batch)
                    except Exception as exc:  # kept and raised on the loop's side
                        self._error = exc
        finally:
            store.close()
