"""Load and validate a library folder: personas, topic trees and style templates.

Layout::

    personas/*.yaml           one persona per file
    personas/topics/*.yaml    one topic tree per file
    personas/styles/*.yaml    one style template per file

Every file is checked on its own and every problem is reported at once as
``file:line: field: message``. A broken file is left out; the valid files still load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from studio.library.errors import LibraryError
from studio.library.models import (
    Library,
    Persona,
    SamplingDefaults,
    StyleTemplate,
    TopicNode,
    TopicTree,
    slugify,
)
from studio.library.schema import (
    NODE_FIELDS,
    PERSONA_FIELDS,
    SAMPLING_FIELDS,
    STYLE_FIELDS,
    TREE_FIELDS,
)
from studio.library.yamldoc import (
    FieldChecker,
    item_line,
    key_line,
    load_checked,
    parse_document,
    read_text,
    text_start_line,
    value_line,
)
from studio.library.yamldoc import (  # re-exported: callers read YAML through the loader
    parse_yaml as parse_yaml,
)
from studio.library.yamldoc import (
    yaml_round_trip as yaml_round_trip,
)

YAML_SUFFIXES = (".yaml", ".yml")
T = TypeVar("T")


def library_files(root: Path) -> dict[str, list[Path]]:
    """The files of each kind below ``root``, sorted so loading order is stable."""

    def yaml_in(folder: Path, recursive: bool) -> list[Path]:
        if not folder.is_dir():
            return []
        found = folder.rglob("*") if recursive else folder.glob("*")
        return sorted(p for p in found if p.is_file() and p.suffix in YAML_SUFFIXES)

    return {
        "persona": yaml_in(root, recursive=False),
        "topics": yaml_in(root / "topics", recursive=True),
        "style": yaml_in(root / "styles", recursive=True),
    }


def load_library(root: Path) -> Library:
    """Load every file under ``root``. Never raises for bad files: see ``Library.errors``."""
    files = library_files(root)
    errors: list[LibraryError] = []
    personas = _load_kind(root, files["persona"], parse_persona, errors)
    trees = _load_kind(root, files["topics"], parse_topic_tree, errors)
    styles = _load_kind(root, files["style"], parse_style, errors)
    return Library(
        root=root,
        personas=tuple(personas),
        topic_trees=tuple(trees),
        styles=tuple(styles),
        errors=tuple(errors),
    )


def _load_kind(
    root: Path,
    paths: Iterable[Path],
    parse: Callable[[str, Path], tuple[T | None, list[LibraryError]]],
    errors: list[LibraryError],
) -> list[T]:
    loaded: list[T] = []
    seen: dict[str, tuple[Path, int]] = {}
    for path in paths:
        text, read_error = read_text(path)
        if read_error is not None:
            errors.append(read_error)
            continue
        item, file_errors = parse(text, path)
        errors.extend(file_errors)
        if item is None:
            continue
        item_id: str = item.id  # type: ignore[attr-defined]
        id_line = _id_line(text)
        if item_id in seen:
            other, other_line = seen[item_id]
            other_shown = other.relative_to(root) if other.is_relative_to(root) else other
            errors.append(
                LibraryError(
                    path,
                    id_line,
                    "id",
                    f"duplicate id {item_id!r}, already used in {other_shown}:{other_line}",
                )
            )
            continue
        seen[item_id] = (path, id_line)
        loaded.append(item)
    return loaded


def _id_line(text: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("id:"):
            return number
    return 1


def _str_tuple(values: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(v) for v in values.get(key) or ())


# ---------------------------------------------------------------------------------------------
# The three kinds


def parse_persona(text: str, path: Path) -> tuple[Persona | None, list[LibraryError]]:
    doc, errors = parse_document(text, path, "persona")
    if doc is None:
        return None, errors
    check = FieldChecker(path, errors)
    good = check.mapping(doc, PERSONA_FIELDS, "", 1)
    if errors or good is None:
        return None, errors
    persona = Persona(
        id=good["id"],
        name=str(good["name"]),
        language=good["language"],
        audience=str(good["audience"]),
        reading_level=str(good["reading_level"]),
        tone=str(good["tone"]),
        instructions=str(good["instructions"]).strip(),
        do=_str_tuple(good, "do"),
        dont=_str_tuple(good, "dont"),
        description=str(good.get("description") or ""),
        tags=_str_tuple(good, "tags"),
        source=path,
    )
    return persona, errors


def parse_style(text: str, path: Path) -> tuple[StyleTemplate | None, list[LibraryError]]:
    from studio.prompts import check_template

    doc, errors = parse_document(text, path, "style template")
    if doc is None:
        return None, errors
    check = FieldChecker(path, errors)
    good = check.mapping(doc, STYLE_FIELDS, "", 1)
    defaults = SamplingDefaults()
    if good is not None and "defaults" in good:
        sampling = check.mapping(
            good["defaults"], SAMPLING_FIELDS, "defaults", value_line(doc, "defaults")
        )
        if sampling is not None:
            defaults = SamplingDefaults(
                temperature=_float_or_none(sampling.get("temperature")),
                top_p=_float_or_none(sampling.get("top_p")),
                max_tokens=sampling.get("max_tokens"),
            )
    if good is None:
        return None, errors
    for field_name in ("system", "prompt"):
        source = good.get(field_name)
        if not isinstance(source, str):
            continue
        problem = check_template(source)
        if problem is not None:
            template_line, message = problem
            line = text_start_line(doc, field_name) + template_line - 1
            check.error(line, field_name, message)
    if errors:
        return None, errors
    style = StyleTemplate(
        id=good["id"],
        name=str(good["name"]),
        prompt=str(good["prompt"]),
        system=str(good.get("system") or ""),
        description=str(good.get("description") or ""),
        format=str(good.get("format") or ""),
        defaults=defaults,
        tags=_str_tuple(good, "tags"),
        source=path,
        prompt_line=text_start_line(doc, "prompt"),
        system_line=text_start_line(doc, "system") if "system" in doc else 0,
    )
    return style, errors


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_topic_tree(text: str, path: Path) -> tuple[TopicTree | None, list[LibraryError]]:
    doc, errors = parse_document(text, path, "topic tree")
    if doc is None:
        return None, errors
    check = FieldChecker(path, errors)
    good = check.mapping(doc, TREE_FIELDS, "", 1)
    if good is None or "topics" not in good:
        return None, errors
    roots = _nodes(check, good["topics"], "topics", doc, "topics")
    if errors:
        return None, errors
    tree = TopicTree(
        id=good["id"],
        name=str(good["name"]),
        language=good["language"],
        roots=roots,
        description=str(good.get("description") or ""),
        source=path,
    )
    return tree, errors


def _nodes(
    check: FieldChecker, seq: Any, where: str, parent: Any, key: str
) -> tuple[TopicNode, ...]:
    if not seq:
        check.error(value_line(parent, key), where, "must list at least one topic")
        return ()
    nodes: list[TopicNode] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(seq):
        name = f"{where}[{index}]"
        line = item_line(seq, index, parent, key)
        good = check.mapping(raw, NODE_FIELDS, name, line)
        if good is None or "title" not in good:
            continue
        children: tuple[TopicNode, ...] = ()
        if good.get("children") is not None:
            children = _nodes(check, good["children"], f"{name}.children", raw, "children")
        node_key = str(good["id"]) if "id" in good else slugify(str(good["title"]))
        if node_key in seen:
            check.error(
                key_line(raw, "id" if "id" in good else "title"),
                f"{name}.{'id' if 'id' in good else 'title'}",
                f"two sibling topics share the key {node_key!r} (the other is on line "
                f"{seen[node_key]}); give one a different title or an explicit id",
            )
            continue
        seen[node_key] = line
        nodes.append(
            TopicNode(
                title=str(good["title"]),
                key=node_key,
                description=str(good.get("description") or ""),
                children=children,
                explicit_id="id" in good,
            )
        )
    return tuple(nodes)


def load_one(path: Path, kind: str) -> Any:
    """Load a single file of ``kind`` (persona, topics, style) or raise ``LibraryFileError``."""
    parse = {"persona": parse_persona, "topics": parse_topic_tree, "style": parse_style}[kind]
    return load_checked(path, parse)
