"""Rendering persona x topic x style into messages, in a sandbox."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from studio.library import Library, load_library, load_one
from studio.prompts import PromptError, render_prompt

SHIPPED = Path(__file__).resolve().parents[1] / "personas"


@pytest.fixture(scope="module")
def lib() -> Library:
    return load_library(SHIPPED)


def _first_leaf(lib: Library, language: str) -> str:
    tree = next(t for t in lib.topic_trees if t.language.startswith(language))
    return tree.leaves()[0].path


def test_every_shipped_style_renders_for_every_persona(lib: Library) -> None:
    for style in lib.styles:
        for persona in lib.personas:
            topic = lib.topic(_first_leaf(lib, persona.language[:2]))
            prompt = render_prompt(persona, topic, style)
            user = prompt.messages[-1]
            assert user.role == "user"
            assert topic.title in user.content
            assert prompt.persona_id == persona.id and prompt.style_id == style.id


def test_chinese_persona_gets_a_chinese_prompt(lib: Library) -> None:
    persona = next(p for p in lib.personas if p.language.startswith("zh"))
    topic = lib.topic(_first_leaf(lib, "zh"))
    prompt = render_prompt(persona, topic, lib.style("textbook-academic"))
    text = "".join(m.content for m in prompt.messages)
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert han / len(text) > 0.3


def test_hash_is_stable_and_follows_content(lib: Library) -> None:
    persona = lib.persona("college")
    topic = lib.topic(_first_leaf(lib, "en"))
    style = lib.style("blog-post")
    first = render_prompt(persona, topic, style)
    again = render_prompt(persona, topic, style)
    assert first.hash == again.hash
    assert len(first.hash) == 64
    changed = render_prompt(dataclasses.replace(persona, tone="dry"), topic, style)
    assert changed.hash != first.hash
    assert render_prompt(persona, topic, style, extract="A seed text.").hash != first.hash or (
        "extract" not in style.prompt
    )


def _style(tmp_path: Path, prompt: str) -> Path:
    path = tmp_path / "styles" / "s.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"id: s\nname: S\nprompt: |\n{prompt}", encoding="utf-8")
    return path


def test_template_reaching_for_python_internals_fails_clearly(tmp_path: Path, lib: Library) -> None:
    path = _style(tmp_path, "  Line one.\n  {{ persona.__class__.__mro__ }}\n")
    style = load_one(path, "style")
    with pytest.raises(PromptError) as info:
        render_prompt(lib.persona("college"), lib.topic(_first_leaf(lib, "en")), style)
    message = str(info.value)
    assert message.startswith(f"{path}:5: prompt: SecurityError:")
    assert "__class__" in message and "unsafe" in message


def test_template_cannot_mutate_its_context(tmp_path: Path, lib: Library) -> None:
    path = _style(tmp_path, "  {{ persona.do.append('x') }}\n")
    style = load_one(path, "style")
    with pytest.raises(PromptError, match="SecurityError"):
        render_prompt(lib.persona("college"), lib.topic(_first_leaf(lib, "en")), style)


def test_runtime_error_names_the_line(tmp_path: Path, lib: Library) -> None:
    path = _style(tmp_path, "  Topic: {{ topic.title }}\n  Missing: {{ topic.nope }}\n")
    style = load_one(path, "style")
    with pytest.raises(PromptError) as info:
        render_prompt(lib.persona("college"), lib.topic(_first_leaf(lib, "en")), style)
    assert str(info.value).startswith(f"{path}:5: prompt: UndefinedError:")
    assert "nope" in str(info.value)
