"""Persona x topic x style -> chat messages, through a sandboxed Jinja2 environment.

Style templates are user-written text from files anyone can edit, so they run in Jinja2's
``ImmutableSandboxedEnvironment``: a template that reaches for Python internals
(``{{ persona.__class__ }}``) or mutates its context fails with a ``PromptError`` that names
the file, line and field. ``StrictUndefined`` turns a misspelt variable into an error instead
of silently rendering an empty string into thousands of prompts.
"""

from __future__ import annotations

import hashlib
import json
import types
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from studio.library.models import Persona, StyleTemplate, Topic

# The names a style template may use. Anything else is an error at load time.
TEMPLATE_VARIABLES = frozenset({"persona", "topic", "extract", "language"})
_TEMPLATE_FILENAME = "<template>"


class PromptError(Exception):
    """A template failed to compile or render; ``str()`` reads ``file:line: field: message``."""

    def __init__(self, path: Path | None, line: int, field_name: str, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field_name
        self.message = message
        super().__init__(f"{path or '<style>'}:{line}: {field_name}: {message}")


@dataclass(frozen=True)
class Message:
    role: str
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt: the exact messages a model receives, and where they came from."""

    messages: tuple[Message, ...]
    persona_id: str
    topic_path: str
    style_id: str
    language: str
    defaults: dict[str, float | int] = field(default_factory=dict)

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON of the messages: equal text, equal hash."""
        return content_hash(self.message_dicts())

    def message_dicts(self) -> list[dict[str, str]]:
        return [m.as_dict() for m in self.messages]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace, for hashing."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """The one sandboxed environment every style template is compiled in."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def check_template(source: str) -> tuple[int, str] | None:
    """Compile ``source``; return (1-based template line, message) for the first problem."""
    from jinja2 import TemplateSyntaxError, meta

    env = template_environment()
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        return exc.lineno, f"template syntax error: {exc.message}"
    unknown = sorted(meta.find_undeclared_variables(ast) - TEMPLATE_VARIABLES)
    if unknown:
        allowed = ", ".join(sorted(TEMPLATE_VARIABLES))
        line = _first_line_mentioning(source, unknown[0])
        return line, f"unknown template variable {unknown[0]!r}; templates may use {allowed}"
    return None


def _first_line_mentioning(source: str, name: str) -> int:
    for number, text in enumerate(source.splitlines(), start=1):
        if name in text:
            return number
    return 1


@lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    return template_environment().from_string(source)


def _render(source: str, context: dict[str, Any], style: StyleTemplate, which: str) -> str:
    from jinja2 import TemplateError

    start = style.prompt_line if which == "prompt" else style.system_line
    try:
        template = _compiled(source)
        return template.render(context).strip()
    except TemplateError as exc:
        line = getattr(exc, "lineno", None) or _template_line(exc.__traceback__)
        kind = type(exc).__name__
        message = exc.message if getattr(exc, "message", None) else str(exc)
        file_line = start + line - 1 if start and line else start or line or 0
        raise PromptError(style.source, file_line, which, f"{kind}: {message}") from None


def _template_line(tb: types.TracebackType | None) -> int:
    """The template line of the innermost frame that ran template code."""
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_prompt(
    persona: Persona,
    topic: Topic,
    style: StyleTemplate,
    extract: str | None = None,
) -> Prompt:
    """Render the messages for one persona, topic and style."""
    context = {
        "persona": persona.as_context(),
        "topic": topic.as_context(),
        "extract": extract or "",
        "language": persona.language,
    }
    messages: list[Message] = []
    if style.system.strip():
        system = _render(style.system, context, style, "system")
        if system:
            messages.append(Message("system", system))
    messages.append(Message("user", _render(style.prompt, context, style, "prompt")))
    return Prompt(
        messages=tuple(messages),
        persona_id=persona.id,
        topic_path=topic.path,
        style_id=style.id,
        language=persona.language,
        defaults=style.defaults.as_dict(),
    )
