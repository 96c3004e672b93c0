"""The run log: ``$STUDIO_HOME/logs/generate.log``, every line passed through the redactor."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.generate.redact import Redactor

# A library logs through its own logger and leaves output to the application; without this
# the root's last-resort handler would print our warnings on stderr, across a TUI.
logging.getLogger("studio").addHandler(logging.NullHandler())


class RedactingFilter(logging.Filter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redact(record.getMessage())
        record.args = None
        return True


def open_run_log(path: Path, redact: Redactor, level: int = logging.INFO) -> logging.Handler:
    """Append the ``studio`` logger's records to ``path``; remove the handler when done."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(level)
    handler.addFilter(RedactingFilter(redact))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("studio")
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler


def close_run_log(handler: logging.Handler) -> None:
    logging.getLogger("studio").removeHandler(handler)
    handler.close()
