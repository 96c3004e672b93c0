"""Saving library files keeps comments and key order, and never writes a broken file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from studio.library import (
    LibraryFileError,
    TopicTreeDocument,
    load_library,
    load_one,
    save_persona,
    save_style,
    save_text,
)

PERSONA = """\
# Who reads this, and how to write for them.
id: kids
name: Kids  # shown in lists
language: en
audience: children aged 6 to 8
reading_level: grade 1
tone: warm
instructions: |
  Use short sentences.
  One idea at a time.
do:
  - use concrete examples  # the most important rule
dont:
  - use jargon
"""

TREE = """\
# A small physics tree
id: physics
name: Physics
language: en
topics:
  - title: Mechanics  # the classic start
    children:
      - title: Kinematics
        children:
          - title: Velocity
      - title: Dynamics
  - title: Optics
"""


def test_save_persona_keeps_comments_and_key_order(tmp_path: Path) -> None:
    path = tmp_path / "kids.yaml"
    path.write_text(PERSONA, encoding="utf-8")
    persona = load_one(path, "persona")
    edited = dataclasses.replace(
        persona,
        tone="calm and patient",
        instructions="Use short sentences.\nOne idea at a time.\nEnd with a question.",
        description="Early readers",
    )
    save_persona(edited)
    text = path.read_text("utf-8")
    assert text.startswith("# Who reads this, and how to write for them.\nid: kids\n")
    assert "name: Kids  # shown in lists" in text
    assert "use concrete examples  # the most important rule" in text
    assert "tone: calm and patient\n" in text
    assert "  End with a question.\n" in text
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert keys == [
        "id",
        "name",
        "language",
        "audience",
        "reading_level",
        "tone",
        "instructions",
        "do",
        "dont",
        "description",
    ]
    assert load_one(path, "persona") == edited


def test_save_unchanged_persona_is_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "kids.yaml"
    path.write_text(PERSONA, encoding="utf-8")
    save_persona(load_one(path, "persona"))
    assert path.read_text("utf-8") == PERSONA


def test_save_text_refuses_invalid_yaml_and_leaves_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "kids.yaml"
    path.write_text(PERSONA, encoding="utf-8")
    with pytest.raises(LibraryFileError) as info:
        save_text(path, PERSONA.replace("tone: warm", "tone: [warm"), "persona")
    assert str(info.value.errors[0]).startswith(f"{path}:8: -: YAML syntax error")
    assert path.read_text("utf-8") == PERSONA
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kids.yaml"]  # no temp files left


def test_save_style_round_trip(library_copy: Path) -> None:
    lib = load_library(library_copy)
    style = lib.style("story")
    original = style.source.read_text("utf-8") if style.source else ""
    save_style(dataclasses.replace(style, description="Short stories that teach."))
    text = style.source.read_text("utf-8") if style.source else ""
    assert "description: Short stories that teach." in text
    # Everything else, including the header comment, is as it was.
    assert text.splitlines()[0] == original.splitlines()[0]
    assert load_library(library_copy).style("story").prompt == style.prompt


def test_topic_tree_add_rename_move_delete(tmp_path: Path) -> None:
    path = tmp_path / "physics.yaml"
    path.write_text(TREE, encoding="utf-8")
    doc = TopicTreeDocument(path)
    assert doc.add("physics/mechanics", "Energy", "Work, power and conservation") == (
        "physics/mechanics/energy"
    )
    assert doc.rename("physics/mechanics/energy", "Work and energy") == (
        "physics/mechanics/work-and-energy"
    )
    assert doc.move("physics/mechanics/kinematics/velocity", "physics/optics") == (
        "physics/optics/velocity"
    )
    doc.delete("physics/mechanics/dynamics")
    doc.save()
    tree = load_one(path, "topics")
    assert [t.path for t in tree.walk()] == [
        "physics/mechanics",
        "physics/mechanics/kinematics",
        "physics/mechanics/work-and-energy",
        "physics/optics",
        "physics/optics/velocity",
    ]
    text = path.read_text("utf-8")
    assert "# A small physics tree" in text and "# the classic start" in text
    assert tree.find("physics/mechanics/work-and-energy").description == (  # type: ignore[union-attr]
        "Work, power and conservation"
    )


def test_topic_edit_that_clashes_is_refused_and_undone(tmp_path: Path) -> None:
    path = tmp_path / "physics.yaml"
    path.write_text(TREE, encoding="utf-8")
    doc = TopicTreeDocument(path)
    with pytest.raises(LibraryFileError, match="share the key 'kinematics'"):
        doc.add("physics/mechanics", "kinematics")
    with pytest.raises(ValueError, match="under itself"):
        doc.move("physics/mechanics", "physics/mechanics/kinematics")
    with pytest.raises(KeyError):
        doc.rename("physics/nowhere", "x")
    with pytest.raises(LibraryFileError, match="at least one topic"):
        doc.delete("physics/mechanics") or doc.delete("physics/optics")
    # The refused edits left the document as it was before each of them.
    assert [t.path for t in doc.tree.walk()][:1] == ["physics/optics"]
    assert path.read_text("utf-8") == TREE  # nothing saved yet


def test_long_lines_are_not_rewrapped_on_save(tmp_path: Path) -> None:
    long_audience = "curious adults " * 12
    path = tmp_path / "kids.yaml"
    path.write_text(PERSONA.replace("children aged 6 to 8", long_audience.strip()), "utf-8")
    before = path.read_text("utf-8")
    persona = load_one(path, "persona")
    save_persona(dataclasses.replace(persona, tone="calm"))
    after = path.read_text("utf-8")
    assert after == before.replace("tone: warm", "tone: calm")
