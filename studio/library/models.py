"""The library's plain data: personas, topic trees and style templates.

These are frozen dataclasses built by the loader from YAML files under ``personas/``. Nothing
here touches the disk; the loader and the saver do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.library.errors import LibraryError


_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def slugify(title: str) -> str:
    """A topic node's key from its title: NFKC, lower case, runs of non-word chars -> '-'.

    Word characters include CJK ideographs, so ``力学`` stays ``力学``.
    """
    text = unicodedata.normalize("NFKC", title).lower()
    return _NON_WORD.sub("-", text).strip("-_") or "untitled"


@dataclass(frozen=True)
class Persona:
    """An audience the text is written for, and how to write for it."""

    id: str
    name: str
    language: str
    audience: str
    reading_level: str
    tone: str
    instructions: str
    do: tuple[str, ...] = ()
    dont: tuple[str, ...] = ()
    description: str = ""
    tags: tuple[str, ...] = ()
    source: Path | None = field(default=None, compare=False)

    def as_context(self) -> dict[str, Any]:
        """The fields a style template sees as ``persona``."""
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "audience": self.audience,
            "reading_level": self.reading_level,
            "tone": self.tone,
            "instructions": self.instructions,
            "do": list(self.do),
            "dont": list(self.dont),
            "description": self.description,
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class SamplingDefaults:
    """Sampling parameters a style suggests; a run may override each of them."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None

    def as_dict(self) -> dict[str, float | int]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class StyleTemplate:
    """How the text is written (textbook, blog post, story...) as sandboxed Jinja2 templates."""

    id: str
    name: str
    prompt: str
    system: str = ""
    description: str = ""
    format: str = ""
    defaults: SamplingDefaults = SamplingDefaults()
    tags: tuple[str, ...] = ()
    source: Path | None = field(default=None, compare=False)
    # 1-based file lines where the template strings start, so template errors point into the file.
    prompt_line: int = field(default=0, compare=False)
    system_line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class TopicNode:
    """One node of a topic tree. Its identity is its path, built from the keys above it."""

    title: str
    key: str
    description: str = ""
    children: tuple[TopicNode, ...] = ()
    explicit_id: bool = False


@dataclass(frozen=True)
class Topic:
    """A node resolved within its tree: what prompts are rendered from."""

    tree_id: str
    tree_name: str
    path: str
    title: str
    description: str
    ancestors: tuple[TopicNode, ...]
    children: tuple[str, ...]
    language: str

    @property
    def depth(self) -> int:
        return len(self.ancestors) + 1

    def as_context(self) -> dict[str, Any]:
        """The fields a style template sees as ``topic``."""
        return {
            "title": self.title,
            "description": self.description,
            "path": self.path,
            "ancestors": [{"title": a.title, "description": a.description} for a in self.ancestors],
            "tree": {"id": self.tree_id, "name": self.tree_name},
            "children": list(self.children),
        }


@dataclass(frozen=True)
class TopicTree:
    """A subject > unit > lesson hierarchy of topics in one file."""

    id: str
    name: str
    language: str
    roots: tuple[TopicNode, ...]
    description: str = ""
    source: Path | None = field(default=None, compare=False)

    def walk(self) -> Iterator[Topic]:
        """Every node, depth first, in file order."""

        def visit(
            node: TopicNode, ancestors: tuple[TopicNode, ...], prefix: str
        ) -> Iterator[Topic]:
            path = f"{prefix}/{node.key}"
            yield Topic(
                tree_id=self.id,
                tree_name=self.name,
                path=path,
                title=node.title,
                description=node.description,
                ancestors=ancestors,
                children=tuple(c.title for c in node.children),
                language=self.language,
            )
            for child in node.children:
                yield from visit(child, (*ancestors, node), path)

        for root in self.roots:
            yield from visit(root, (), self.id)

    def find(self, path: str) -> Topic | None:
        for topic in self.walk():
            if topic.path == path:
                return topic
        return None

    def leaves(self) -> list[Topic]:
        return [t for t in self.walk() if not t.children]

    def subtree(self, path: str) -> list[Topic]:
        """The node at ``path`` and everything below it."""
        return [t for t in self.walk() if t.path == path or t.path.startswith(path + "/")]


@dataclass(frozen=True)
class Library:
    """Everything loaded from a library folder, plus the errors found on the way."""

    root: Path
    personas: tuple[Persona, ...] = ()
    topic_trees: tuple[TopicTree, ...] = ()
    styles: tuple[StyleTemplate, ...] = ()
    errors: tuple[LibraryError, ...] = ()

    def persona(self, persona_id: str) -> Persona:
        for p in self.personas:
            if p.id == persona_id:
                return p
        raise KeyError(_unknown("persona", persona_id, [p.id for p in self.personas]))

    def style(self, style_id: str) -> StyleTemplate:
        for s in self.styles:
            if s.id == style_id:
                return s
        raise KeyError(_unknown("style", style_id, [s.id for s in self.styles]))

    def tree(self, tree_id: str) -> TopicTree:
        for t in self.topic_trees:
            if t.id == tree_id:
                return t
        raise KeyError(_unknown("topic tree", tree_id, [t.id for t in self.topic_trees]))

    def topic(self, path: str) -> Topic:
        tree_id = path.split("/", 1)[0]
        tree = self.tree(tree_id)
        found = tree.find(path.rstrip("/"))
        if found is None:
            raise KeyError(_unknown("topic", path, [t.path for t in tree.walk()]))
        return found

    def topics(self) -> list[Topic]:
        return [t for tree in self.topic_trees for t in tree.walk()]


def _unknown(kind: str, wanted: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"unknown {kind} {wanted!r}{hint}"
