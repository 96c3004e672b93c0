"""YAML documents with line positions, and the checks that apply field rules to them.

Shared by every file format the studio reads (library files, mixture recipes, eval suites) so
that each reports problems the same way: ``file:line: field: message``, all at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from studio.library.errors import LibraryError, LibraryFileError
from studio.library.schema import (
    EXPECTED,
    FieldRule,
    kind_matches,
    type_name,
    unknown_key_message,
)

T = TypeVar("T")


def read_text(path: Path) -> tuple[str, LibraryError | None]:
    """Read a file as strict UTF-8, or say exactly where it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        message = f"not valid UTF-8: byte 0x{byte:02x} at column {column}; save the file as UTF-8"
        return "", LibraryError(path, line, "-", message)


def yaml_round_trip() -> Any:
    """A round-trip YAML instance: keeps comments and key order, records line numbers."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    # Never rewrap: a saved file keeps the lines its author wrote, however long.
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def parse_yaml(text: str, path: Path) -> tuple[Any, list[LibraryError]]:
    """Parse ``text``; syntax errors (and duplicate keys) come back with their line."""
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        return None, [LibraryError(path, 1, "-", "file is empty")]
    try:
        return yaml_round_trip().load(text), []
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        # A problem found at the end of the stream belongs to the last line that has text.
        line = min(line, max(1, len(text.rstrip().splitlines())))
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        if "duplicate key" in problem:
            key = _duplicate_key(exc)
            return None, [LibraryError(path, line, key or "-", "duplicate key")]
        return None, [LibraryError(path, line, "-", f"YAML syntax error: {problem}")]
    except YAMLError as exc:
        return None, [LibraryError(path, 1, "-", f"YAML error: {exc}")]


def _duplicate_key(exc: Exception) -> str | None:
    problem = str(getattr(exc, "problem", ""))
    # ruamel says: found duplicate key "name" with value "..." (original value: "...")
    if '"' in problem:
        return problem.split('"')[1]
    return None


@dataclass
class FieldChecker:
    """Collects errors for one document while walking it with line positions."""

    path: Path
    errors: list[LibraryError]

    def error(self, line: int, field_name: str, message: str) -> None:
        self.errors.append(LibraryError(self.path, line, field_name, message))

    def mapping(
        self, node: Any, rules: dict[str, FieldRule], where: str, line: int
    ) -> dict[str, Any] | None:
        """Check one mapping against its rules; return the values that passed."""
        if not isinstance(node, dict):
            self.error(line, where or "-", f"expected a mapping, got {type_name(node)}")
            return None
        good: dict[str, Any] = {}
        for key, value in node.items():
            name = f"{where}.{key}" if where else str(key)
            rule = rules.get(str(key))
            if rule is None:
                self.error(key_line(node, key), name, unknown_key_message(key, rules))
                continue
            if value is None and not rule.required:
                continue
            if not kind_matches(rule.kind, value):
                self.error(
                    value_line(node, key),
                    name,
                    f"expected {EXPECTED[rule.kind]}, got {type_name(value)}",
                )
                continue
            if rule.kind == "str_list":
                bad = [i for i, item in enumerate(value) if not isinstance(item, str)]
                for i in bad:
                    self.error(
                        item_line(value, i, node, key),
                        f"{name}[{i}]",
                        (f"expected a string, got {type_name(value[i])}"),
                    )
                if bad:
                    continue
            if rule.check is not None and rule.kind not in ("mapping", "node_list"):
                problem = rule.check(value)
                if problem:
                    self.error(value_line(node, key), name, problem)
                    continue
            good[str(key)] = value
        for key, rule in rules.items():
            if rule.required and key not in node:
                self.error(line, f"{where}.{key}" if where else key, "missing required field")
            elif rule.required and node.get(key) is None:
                self.error(
                    key_line(node, key),
                    f"{where}.{key}" if where else key,
                    f"expected {EXPECTED[rule.kind]}, got nothing (null)",
                )
        return good


def key_line(node: Any, key: Any) -> int:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def value_line(node: Any, key: Any) -> int:
    try:
        return int(node.lc.value(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return key_line(node, key)


def item_line(seq: Any, index: int, parent: Any, key: Any) -> int:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return value_line(parent, key)


def text_start_line(node: Any, key: str) -> int:
    """The file line where a string value's text begins (after a ``|`` or ``>`` indicator)."""
    from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

    line = value_line(node, key)
    if isinstance(node.get(key), LiteralScalarString | FoldedScalarString):
        return line + 1
    return line


def parse_document(text: str, path: Path, what: str) -> tuple[Any, list[LibraryError]]:
    doc, errors = parse_yaml(text, path)
    if errors:
        return None, errors
    if not isinstance(doc, dict):
        return None, [
            LibraryError(path, 1, "-", f"expected a mapping of {what} fields, got {type_name(doc)}")
        ]
    return doc, []


def load_checked(
    path: Path,
    parse: Callable[[str, Path], tuple[T | None, list[LibraryError]]],
    error_type: type[LibraryFileError] = LibraryFileError,
) -> T:
    """Read and parse one file, or raise ``error_type`` listing every problem in it."""
    text, read_error = read_text(path)
    if read_error is not None:
        raise error_type([read_error])
    item, errors = parse(text, path)
    if errors or item is None:
        raise error_type(errors)
    return item
