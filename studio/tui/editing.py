"""What the library editors need from the core, in one place: field checks and YAML merges.

The rules themselves live in ``studio.library.schema`` and the round-trip YAML in the
loader and saver; this module only composes them for a form: check one field as it is
typed, and fold a form's values into the YAML text being edited, keeping its comments.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

LIST_FIELDS = frozenset({"do", "dont", "tags"})


def field_error(kind: str, name: str, value: Any) -> str | None:
    """The message for one form field of a persona or style, or None when it is fine."""
    from studio.library.schema import PERSONA_FIELDS, STYLE_FIELDS

    rules = {"persona": PERSONA_FIELDS, "style": STYLE_FIELDS}[kind]
    rule = rules.get(name)
    if rule is None:
        return None
    empty = value is None or (isinstance(value, str) and not value.strip()) or value == []
    if empty:
        return "is required" if rule.required else None
    if rule.check is not None and isinstance(value, str):
        return rule.check(value.strip())
    return None


def merge_fields(text: str, fields: dict[str, Any], path: Path) -> str:
    """``text`` with ``fields`` set on its top-level mapping; comments and key order kept.

    When ``text`` does not parse as a mapping, the fields are written to a fresh document.
    """
    from ruamel.yaml.comments import CommentedMap

    from studio.library.loader import parse_yaml, yaml_round_trip
    from studio.library.saver import update_mapping

    doc: Any = None
    if text.strip():
        doc, errors = parse_yaml(text, path)
        if errors:
            doc = None
    if not isinstance(doc, dict):
        doc = CommentedMap()
    update_mapping(doc, fields)
    buffer = io.StringIO()
    yaml_round_trip().dump(doc, buffer)
    return buffer.getvalue()


def split_lines(text: str) -> list[str]:
    """A TextArea's lines as list items: blank lines dropped, a leading ``- `` tolerated."""
    items = []
    for line in text.splitlines():
        item = line.strip()
        if item.startswith("- "):
            item = item[2:].strip()
        if item:
            items.append(item)
    return items


def split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in text.split(",") if tag.strip()]
