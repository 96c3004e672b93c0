"""The style template editor: the template's YAML beside the prompt it renders, live.

Every edit (after a short pause) is parsed and rendered in a thread worker for the persona and
topic picked above the preview, so a template error shows up as the line and message the
loader or the sandbox reports, and a good template shows the exact messages a model receives.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from studio.tui.widgets.leaving import confirm_leave, show_errors

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.timer import Timer

    from studio.library import Library, LibraryError, StyleTemplate
    from studio.prompts import Prompt
    from studio.tui.app import StudioApp


class StyleList(OptionList):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="style.down"),
        Binding("k", "cursor_up", "Up", show=False, id="style.up"),
    ]


class PreviewRendered(Message):
    """The result of rendering the edited template: a prompt, or what went wrong."""

    def __init__(
        self, text: str, prompt: Prompt | None, errors: list[LibraryError], problem: str
    ) -> None:
        super().__init__()
        self.text = text
        self.prompt = prompt
        self.errors = errors
        self.problem = problem


def prompt_renderable(prompt: Prompt) -> Group:
    """Messages as role headings over their text."""
    parts: list[Text] = []
    for message in prompt.messages:
        parts.append(Text(f"── {message.role} ", style="bold reverse"))
        parts.append(Text(message.content + "\n"))
    parts.append(Text(f"prompt hash {prompt.hash[:12]}", style="dim"))
    return Group(*parts)


class StyleEditor(Horizontal):
    """Edit one style template file, with the rendered prompt beside it."""

    dirty: reactive[bool] = reactive(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path: Path | None = None
        self.style_id: str | None = None
        self.loaded_text = ""
        self._timer: Timer | None = None
        self.prompt: Prompt | None = None
        """The prompt the current text renders, or None while it has a problem."""

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(classes="lib-side"):
            yield Static("Styles", classes="section-title")
            yield StyleList(id="style-list")
        with Vertical(classes="lib-main"):
            yield Static("", id="style-file", classes="file-title")
            yield TextArea(id="style-yaml", show_line_numbers=True, tab_behavior="indent")
            yield Static("", id="style-errors", classes="errors -hidden")
        with Vertical(id="style-preview-pane"):
            yield Select[str]([], prompt="persona", id="style-persona")
            yield Select[str]([], prompt="topic", id="style-topic")
            with VerticalScroll(id="style-preview-box"):
                yield Static("", id="style-preview")

    def on_mount(self) -> None:
        self.watch(self.app, "library", self._library_changed)

    def _library_changed(self, library: Library | None) -> None:
        if library is None:
            return
        listing = self.query_one(StyleList)
        listing.clear_options()
        listing.add_options([Option(f"{s.name}  [dim]{s.id}[/]", id=s.id) for s in library.styles])
        persona = self.query_one("#style-persona", Select)
        topic = self.query_one("#style-topic", Select)
        keep_persona, keep_topic = persona.value, topic.value
        persona.set_options([(f"{p.name} ({p.id})", p.id) for p in library.personas])
        topic.set_options([(t.path, t.path) for t in library.topics() if not t.children])
        ids = {p.id for p in library.personas}
        paths = {t.path for t in library.topics()}
        if isinstance(keep_persona, str) and keep_persona in ids:
            persona.value = keep_persona
        elif library.personas:
            persona.value = library.personas[0].id
        if isinstance(keep_topic, str) and keep_topic in paths:
            topic.value = keep_topic
        elif library.topics():
            topic.value = next(t.path for t in library.topics() if not t.children)
        style_ids = [s.id for s in library.styles]
        if self.style_id in style_ids:
            listing.highlighted = style_ids.index(self.style_id)
            if not self.dirty:
                self.open(library.style(self.style_id))
        elif self.path is None and library.styles:
            listing.highlighted = 0
            self.open(library.styles[0])

    @on(OptionList.OptionSelected, "#style-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        library = self.studio.library
        if library is None or event.option.id is None or event.option.id == self.style_id:
            return
        style = library.style(event.option.id)
        self.leave_then(lambda: self.open(style))

    def leave_then(self, proceed: Any) -> None:
        confirm_leave(self, self.dirty, self.style_id or "this style", self.save, proceed)

    def open(self, style: StyleTemplate) -> None:
        assert style.source is not None
        self.path = style.source
        self.style_id = style.id
        self.loaded_text = style.source.read_text(encoding="utf-8")
        self.query_one("#style-yaml", TextArea).load_text(self.loaded_text)
        self._update_dirty()
        self.render_preview()

    # -- live preview --------------------------------------------------------------------------

    @on(TextArea.Changed, "#style-yaml")
    def _changed(self) -> None:
        self._update_dirty()
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(0.25, self.render_preview)

    @on(Select.Changed, "#style-persona, #style-topic")
    def _context_changed(self) -> None:
        self.render_preview()

    def render_preview(self) -> None:
        library = self.studio.library
        persona_id = self.query_one("#style-persona", Select).value
        topic_path = self.query_one("#style-topic", Select).value
        if self.path is None or library is None:
            return
        text = self.query_one("#style-yaml", TextArea).text
        persona = library.persona(persona_id) if isinstance(persona_id, str) else None
        topic = library.topic(topic_path) if isinstance(topic_path, str) else None
        self._render_in_worker(text, self.path, persona, topic)

    @work(thread=True, exclusive=True, group="style-preview")
    def _render_in_worker(self, text: str, path: Path, persona: Any, topic: Any) -> None:
        from studio.library.loader import parse_style
        from studio.prompts import PromptError, render_prompt

        style, errors = parse_style(text, path)
        if style is None or errors:
            self.post_message(PreviewRendered(text, None, errors, ""))
            return
        if persona is None or topic is None:
            self.post_message(PreviewRendered(text, None, [], "Pick a persona and a topic."))
            return
        try:
            prompt = render_prompt(persona, topic, style)
        except PromptError as exc:
            self.post_message(PreviewRendered(text, None, [], str(exc)))
            return
        self.post_message(PreviewRendered(text, prompt, [], ""))

    def on_preview_rendered(self, message: PreviewRendered) -> None:
        if message.text != self.query_one("#style-yaml", TextArea).text:
            return  # an older edit; a newer render is on its way
        show_errors(self.query_one("#style-errors", Static), message.errors)
        preview = self.query_one("#style-preview", Static)
        self.prompt = message.prompt
        if message.prompt is not None:
            preview.update(prompt_renderable(message.prompt))
            preview.remove_class("-stale")
        elif message.problem:
            errors = self.query_one("#style-errors", Static)
            errors.update(Text(message.problem))
            errors.remove_class("-hidden")
            preview.add_class("-stale")
        else:
            preview.add_class("-stale")

    # -- saving --------------------------------------------------------------------------------

    def _update_dirty(self) -> None:
        self.dirty = self.query_one("#style-yaml", TextArea).text != self.loaded_text

    def watch_dirty(self) -> None:
        name = self.path.name if self.path else ""
        self.query_one("#style-file", Static).update(
            f"styles/{name}  [b]● unsaved[/b]" if self.dirty else f"styles/{name}"
        )

    def save(self) -> bool:
        from studio.library import LibraryFileError
        from studio.library.saver import save_text

        if self.path is None:
            return False
        text = self.query_one("#style-yaml", TextArea).text
        try:
            style = save_text(self.path, text, "style")
        except LibraryFileError as exc:
            show_errors(self.query_one("#style-errors", Static), exc.errors)
            self.notify(f"{len(exc.errors)} problem(s); nothing written.", severity="error")
            return False
        self.loaded_text = text
        self.style_id = style.id
        self._update_dirty()
        self.notify(f"Saved {self.path.name}", title="style: save")
        self.studio.reload_library()
        return True
