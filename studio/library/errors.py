"""Errors found in library files, each pinned to a file, a line and a field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LibraryError:
    """One problem in one library file.

    ``line`` is 1-based; 0 means the problem concerns the whole file (it is empty, or cannot
    be read). ``field`` is a dotted path into the document (``topics[0].children[2].title``)
    or ``-`` when no single field is at fault.
    """

    path: Path
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"

    def relative_to(self, root: Path) -> LibraryError:
        """The same error with its path shown relative to ``root`` when it lies below it."""
        try:
            shown = self.path.relative_to(root)
        except ValueError:
            return self
        return LibraryError(shown, self.line, self.field, self.message)


class LibraryFileError(Exception):
    """Raised when an operation needs a valid file and the file is not valid."""

    def __init__(self, errors: list[LibraryError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
