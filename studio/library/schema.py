"""Field rules for the three kinds of library file, and the checks that apply them.

The rules are data (``FieldRule``) so that the loader can report every problem in a file at
once, each pinned to the line of the offending key or value.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
NODE_ID = re.compile(r"^[\w][\w-]*$", re.UNICODE)
# BCP-47 in the shape people write it: a 2-3 letter primary tag plus optional subtags.
BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

Check = Callable[[Any], str | None]


@dataclass(frozen=True)
class FieldRule:
    kind: str  # "str", "text", "str_list", "number", "int", "bool", "mapping", "list", "node_list"
    required: bool = False
    check: Check | None = None


def _slug(value: Any) -> str | None:
    if not SLUG.match(value):
        return "must be lower case letters, digits, '-' or '_' (for example 'young-children')"
    return None


def _node_id(value: Any) -> str | None:
    if not NODE_ID.match(value):
        return "must be letters, digits, '-' or '_' with no spaces or '/'"
    return None


def _language(value: Any) -> str | None:
    if not BCP47.match(value):
        return f"{value!r} is not a BCP-47 language tag (for example 'en', 'zh', 'zh-Hans')"
    return None


def _non_blank(value: Any) -> str | None:
    return "must not be blank" if not str(value).strip() else None


def _range(low: float, high: float, *, low_open: bool = False) -> Check:
    def check(value: Any) -> str | None:
        if not math.isfinite(value) or value > high or value < low or (low_open and value == low):
            bracket = "(" if low_open else "["
            return f"must be in {bracket}{low}, {high}], got {value}"
        return None

    return check


def _positive(value: Any) -> str | None:
    return f"must be a positive integer, got {value}" if value <= 0 else None


PERSONA_FIELDS: dict[str, FieldRule] = {
    "id": FieldRule("str", True, _slug),
    "name": FieldRule("str", True, _non_blank),
    "language": FieldRule("str", True, _language),
    "audience": FieldRule("str", True, _non_blank),
    "reading_level": FieldRule("str", True, _non_blank),
    "tone": FieldRule("str", True, _non_blank),
    "instructions": FieldRule("text", True, _non_blank),
    "do": FieldRule("str_list"),
    "dont": FieldRule("str_list"),
    "description": FieldRule("str"),
    "tags": FieldRule("str_list"),
}

STYLE_FIELDS: dict[str, FieldRule] = {
    "id": FieldRule("str", True, _slug),
    "name": FieldRule("str", True, _non_blank),
    "description": FieldRule("str"),
    "format": FieldRule("str"),
    "system": FieldRule("text"),
    "prompt": FieldRule("text", True, _non_blank),
    "defaults": FieldRule("mapping"),
    "tags": FieldRule("str_list"),
}

SAMPLING_FIELDS: dict[str, FieldRule] = {
    "temperature": FieldRule("number", False, _range(0.0, 2.0)),
    "top_p": FieldRule("number", False, _range(0.0, 1.0, low_open=True)),
    "max_tokens": FieldRule("int", False, _positive),
}

TREE_FIELDS: dict[str, FieldRule] = {
    "id": FieldRule("str", True, _slug),
    "name": FieldRule("str", True, _non_blank),
    "language": FieldRule("str", True, _language),
    "description": FieldRule("str"),
    "topics": FieldRule("node_list", True),
}

NODE_FIELDS: dict[str, FieldRule] = {
    "title": FieldRule("str", True, _non_blank),
    "id": FieldRule("str", False, _node_id),
    "description": FieldRule("str"),
    "children": FieldRule("node_list"),
}


def type_name(value: Any) -> str:
    """How a YAML value's type reads in an error message."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


EXPECTED = {
    "str": "a string",
    "text": "a string",
    "str_list": "a list of strings",
    "number": "a number",
    "int": "an integer",
    "bool": "true or false",
    "mapping": "a mapping",
    "list": "a list",
    "node_list": "a list of topic nodes",
}


def kind_matches(kind: str, value: Any) -> bool:
    if kind in ("str", "text"):
        return isinstance(value, str)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "mapping":
        return isinstance(value, dict)
    if kind in ("str_list", "node_list", "list"):
        return isinstance(value, list)
    raise ValueError(kind)


def did_you_mean(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_key_message(key: Any, rules: dict[str, FieldRule]) -> str:
    hint = did_you_mean(str(key), rules) or f"; expected one of: {', '.join(rules)}"
    return f"unknown key{hint}"
