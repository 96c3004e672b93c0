"""Write library files back, keeping their comments and key order.

Edits go through ruamel.yaml's round-trip document: a changed value is replaced in place, so
the comments around it and the order of the keys survive. Every write is validated by parsing
the new text with the same loader a user's ``studio library check`` runs, and lands through a
temporary file and ``os.replace``, so a crash never leaves half a file.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from studio.library.errors import LibraryError, LibraryFileError
from studio.library.loader import parse_persona, parse_style, parse_topic_tree
from studio.library.models import Persona, StyleTemplate, TopicTree, slugify
from studio.library.yamldoc import parse_yaml, read_text, yaml_round_trip

Parser = Callable[[str, Path], tuple[Any, list[LibraryError]]]
PARSERS: dict[str, Parser] = {
    "persona": parse_persona,
    "style": parse_style,
    "topics": parse_topic_tree,
}


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary sibling and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_text(path: Path, text: str, kind: str) -> Any:
    """Validate ``text`` as a file of ``kind`` and write it; return the parsed object.

    This is what the TUI's raw-YAML editor calls: nothing is written when the text has errors.
    """
    item, errors = PARSERS[kind](text, path)
    if errors or item is None:
        raise LibraryFileError(errors)
    atomic_write_text(path, text)
    return item


def _load_document(path: Path) -> Any:
    from ruamel.yaml.comments import CommentedMap

    if not path.exists():
        return CommentedMap()
    text, read_error = read_text(path)
    if read_error is not None:
        raise LibraryFileError([read_error])
    doc, errors = parse_yaml(text, path)
    if errors and errors[0].message == "file is empty":
        return CommentedMap()
    if errors:
        raise LibraryFileError(errors)
    if not isinstance(doc, dict):
        return CommentedMap()
    return doc


def _dump(doc: Any) -> str:
    buffer = io.StringIO()
    yaml_round_trip().dump(doc, buffer)
    return buffer.getvalue()


def _yaml_value(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedSeq
    from ruamel.yaml.scalarstring import LiteralScalarString

    if isinstance(value, str) and "\n" in value.strip():
        return LiteralScalarString(value.rstrip("\n") + "\n")
    if isinstance(value, list | tuple):
        return CommentedSeq([_yaml_value(v) for v in value])
    if isinstance(value, dict):
        return {k: _yaml_value(v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return str(value).rstrip("\n")
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def update_mapping(doc: Any, fields: dict[str, Any]) -> None:
    """Set ``fields`` on ``doc`` in place; empty optional values remove their key.

    Unchanged values are left untouched so their formatting and comments stay as written.
    New keys go after the existing ones, in the order given.
    """
    for key, value in fields.items():
        empty = value is None or value == "" or value == () or value == [] or value == {}
        if empty:
            if key in doc:
                del doc[key]
            continue
        if key in doc and _plain(doc[key]) == _plain(value):
            continue
        existing = doc.get(key)
        if isinstance(value, list | tuple) and isinstance(existing, list):
            # Keep the sequence object (and its comments); replace its items.
            existing[:] = [_yaml_value(v) for v in value]
            continue
        if isinstance(value, dict) and isinstance(existing, dict):
            update_mapping(existing, value)
            continue
        doc[key] = _yaml_value(value)


def persona_fields(persona: Persona) -> dict[str, Any]:
    return {
        "id": persona.id,
        "name": persona.name,
        "description": persona.description,
        "language": persona.language,
        "audience": persona.audience,
        "reading_level": persona.reading_level,
        "tone": persona.tone,
        "instructions": persona.instructions,
        "do": list(persona.do),
        "dont": list(persona.dont),
        "tags": list(persona.tags),
    }


def style_fields(style: StyleTemplate) -> dict[str, Any]:
    return {
        "id": style.id,
        "name": style.name,
        "description": style.description,
        "format": style.format,
        "system": style.system,
        "prompt": style.prompt,
        "defaults": style.defaults.as_dict(),
        "tags": list(style.tags),
    }


def _save(path: Path, fields: dict[str, Any], kind: str) -> Any:
    doc = _load_document(path)
    update_mapping(doc, fields)
    return save_text(path, _dump(doc), kind)


def save_persona(persona: Persona, path: Path | None = None) -> Persona:
    """Write ``persona`` to ``path`` (default: the file it came from)."""
    target = path or persona.source
    if target is None:
        raise ValueError("persona has no source file; pass a path")
    saved: Persona = _save(target, persona_fields(persona), "persona")
    return saved


def save_style(style: StyleTemplate, path: Path | None = None) -> StyleTemplate:
    """Write ``style`` to ``path`` (default: the file it came from)."""
    target = path or style.source
    if target is None:
        raise ValueError("style has no source file; pass a path")
    saved: StyleTemplate = _save(target, style_fields(style), "style")
    return saved


class TopicTreeDocument:
    """Edit a topic tree file in place: add, rename, move and delete nodes by path.

    Each edit changes the round-trip document, so comments on untouched nodes survive, and
    is checked by re-parsing: an edit that would make two siblings share a key is refused
    with ``LibraryFileError`` and leaves the document as it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.doc = _load_document(path)
        self.tree = self._parse()

    def _parse(self) -> TopicTree:
        tree, errors = parse_topic_tree(_dump(self.doc), self.path)
        if errors or tree is None:
            raise LibraryFileError(errors)
        return tree

    def _locate(self, path: str) -> tuple[Any, int]:
        """The sequence that holds the node at ``path``, and the node's index in it."""
        parts = path.strip("/").split("/")
        if parts[0] != self.tree.id or len(parts) < 2:
            raise KeyError(f"topic path {path!r} is not in tree {self.tree.id!r}")
        seq = self.doc["topics"]
        for depth, part in enumerate(parts[1:], start=1):
            for index, node in enumerate(seq):
                key = str(node["id"]) if "id" in node else slugify(str(node["title"]))
                if key == part:
                    if depth == len(parts) - 1:
                        return seq, index
                    if "children" not in node or node["children"] is None:
                        raise KeyError(f"no topic at {path!r}")
                    seq = node["children"]
                    break
            else:
                raise KeyError(f"no topic at {path!r}")
        raise KeyError(f"no topic at {path!r}")

    def _children_of(self, parent_path: str | None) -> Any:
        from ruamel.yaml.comments import CommentedSeq

        if parent_path is None or parent_path.strip("/") == self.tree.id:
            return self.doc["topics"]
        seq, index = self._locate(parent_path)
        node = seq[index]
        if node.get("children") is None:
            node["children"] = CommentedSeq()
        return node["children"]

    def _apply(self, change: Callable[[], None]) -> TopicTree:
        before = _dump(self.doc)
        change()
        try:
            self.tree = self._parse()
        except LibraryFileError:
            self.doc = parse_yaml(before, self.path)[0]
            raise
        return self.tree

    def add(self, parent_path: str | None, title: str, description: str = "") -> str:
        """Add a child under ``parent_path`` (the tree's top level when None); return its path."""
        from ruamel.yaml.comments import CommentedMap

        node = CommentedMap(title=title)
        if description:
            node["description"] = description
        self._apply(lambda: self._children_of(parent_path).append(node))
        prefix = parent_path.strip("/") if parent_path else self.tree.id
        return f"{prefix}/{slugify(title)}"

    def rename(self, path: str, title: str) -> str:
        """Give the node a new title; its path follows unless it has an explicit id."""
        seq, index = self._locate(path)
        node = seq[index]
        self._apply(lambda: node.__setitem__("title", title))
        key = str(node["id"]) if "id" in node else slugify(title)
        return f"{path.rstrip('/').rsplit('/', 1)[0]}/{key}"

    def describe(self, path: str, description: str) -> None:
        seq, index = self._locate(path)
        self._apply(lambda: update_mapping(seq[index], {"description": description}))

    def move(self, path: str, new_parent: str | None, position: int | None = None) -> str:
        """Move the node (with its children) under ``new_parent``; return its new path."""
        target_prefix = new_parent.strip("/") if new_parent else self.tree.id
        if target_prefix == path.strip("/") or target_prefix.startswith(path.strip("/") + "/"):
            raise ValueError("cannot move a topic under itself")
        seq, index = self._locate(path)
        node = seq[index]

        def change() -> None:
            del seq[index]
            children = self._children_of(new_parent)
            children.insert(len(children) if position is None else position, node)
            if not seq:
                self._drop_empty_children()

        self._apply(change)
        key = str(node["id"]) if "id" in node else slugify(str(node["title"]))
        return f"{target_prefix}/{key}"

    def delete(self, path: str) -> None:
        """Remove the node and everything below it."""
        seq, index = self._locate(path)

        def change() -> None:
            del seq[index]
            self._drop_empty_children()

        self._apply(change)

    def _drop_empty_children(self) -> None:
        def visit(nodes: Any) -> None:
            for node in nodes:
                children = node.get("children")
                if children is not None:
                    if len(children) == 0:
                        del node["children"]
                    else:
                        visit(children)

        visit(self.doc["topics"])

    def text(self) -> str:
        return _dump(self.doc)

    def save(self) -> TopicTree:
        saved: TopicTree = save_text(self.path, self.text(), "topics")
        self.tree = saved
        return saved
