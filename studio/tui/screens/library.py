"""Library: personas, topic trees and style templates, each with its editor in a tab."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane

from studio.tui.widgets.persona_editor import PersonaEditor
from studio.tui.widgets.style_editor import StyleEditor
from studio.tui.widgets.topic_editor import TopicEditor

if TYPE_CHECKING:
    from collections.abc import Iterable

    from studio.library import Library
    from studio.tui.app import StudioApp


TOPIC_ACTIONS = (
    ("add", "Add a child under the highlighted node"),
    ("rename", "Rename the highlighted node"),
    ("move", "Move the highlighted node under another"),
    ("delete", "Delete the highlighted node and its children"),
    ("describe", "Edit the highlighted node's description"),
    ("suggest", "Ask a model for subtopics; keep those ticked"),
)


class LibraryScreen(Screen[None]):
    """The library folder, editable. Ctrl+S saves the editor in front."""

    TITLE = "Library"
    HELP = (
        "**Personas**: pick one on the left (enter), edit it in the **Form** or as raw "
        "**YAML**; problems show under each field and under the YAML with their line. "
        "**Topics**: every topic tree; on a node, **a** adds a child, **r** renames, **m** moves, "
        "**d** deletes, **e** edits the description, **g** asks a model for subtopics and "
        "adds the ones you tick. **Styles**: edit a template and watch the "
        "rendered prompt for the persona and topic picked on the right.\n\n"
        "**ctrl+s** saves (the file is validated first; nothing invalid is written). Leaving an "
        "editor with unsaved changes asks first. **ctrl+n** starts a new persona."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="library.save"),
        Binding("ctrl+n", "new_persona", "New persona", id="library.new_persona"),
        Binding("ctrl+r", "reload", "Reload", show=False, id="library.reload"),
    ]

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="lib-tabs"):
            with TabPane("Personas", id="personas"):
                yield PersonaEditor(id="persona-editor")
            with TabPane("Topics", id="topics"):
                yield TopicEditor(id="topic-editor")
            with TabPane("Styles", id="styles"):
                yield StyleEditor(id="style-editor")
        yield Static("Loading the library…", id="lib-status", classes="status-line")
        yield Footer()

    def on_mount(self) -> None:
        self.studio.library_screen = self
        self.watch(self.app, "library", self._library_changed)
        self.watch(self.app, "library_error", self._library_failed)

    def _library_changed(self, library: Library | None) -> None:
        if library is None:
            return
        status = (
            f"{library.root.name}/ · {len(library.personas)} personas · "
            f"{len(library.topic_trees)} topic trees · {len(library.styles)} styles"
        )
        if library.errors:
            first = library.errors[0].relative_to(library.root)
            status += f" · {len(library.errors)} file problem(s), first: {first}"
        self.query_one("#lib-status", Static).update(status)

    def _library_failed(self, error: str) -> None:
        if error:
            self.query_one("#lib-status", Static).update(error)

    def active_editor(self) -> PersonaEditor | TopicEditor | StyleEditor:
        tab = self.query_one("#lib-tabs", TabbedContent).active
        editor_id = {"personas": "persona", "topics": "topic", "styles": "style"}[tab]
        return self.query_one(f"#{editor_id}-editor")  # type: ignore[return-value]

    def unsaved(self) -> list[PersonaEditor | TopicEditor | StyleEditor]:
        editors: list[Any] = [self.query_one(PersonaEditor), self.query_one(TopicEditor)]
        editors.append(self.query_one(StyleEditor))
        return [editor for editor in editors if editor.dirty]

    # -- actions -------------------------------------------------------------------------------

    def action_save(self) -> None:
        self.active_editor().save()

    def save_all(self) -> bool:
        return all(editor.save() for editor in self.unsaved())

    def action_reload(self) -> None:
        self.studio.reload_library()

    def action_new_persona(self) -> None:
        from studio.tui.screens.dialogs import TextPromptScreen

        editor = self.query_one(PersonaEditor)
        library = self.studio.library

        def create(persona_id: str | None) -> None:
            from studio.tui.editing import field_error

            if not persona_id:
                return
            problem = field_error("persona", "id", persona_id)
            if problem:
                self.notify(f"id {problem}", title="persona: new", severity="error")
                return
            if library is not None and persona_id in {p.id for p in library.personas}:
                self.notify(f"{persona_id} already exists", title="persona: new", severity="error")
                return
            self.query_one("#lib-tabs", TabbedContent).active = "personas"
            editor.start_new(persona_id, self.studio.library_dir)

        def ask() -> None:
            self.app.push_screen(
                TextPromptScreen("New persona id", placeholder="for example: nurses-in-training"),
                create,
            )

        editor.leave_then(ask)

    def show_tab(self, tab: str) -> None:
        self.query_one("#lib-tabs", TabbedContent).active = tab

    def topic_action(self, action: str) -> None:
        self.show_tab("topics")
        self.query_one(TopicEditor).apply_action(action)

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("persona: new", "Start a new persona file", self.action_new_persona)
        yield SystemCommand("persona: edit", "Show the persona editor", self._tab("personas"))
        yield SystemCommand("library: save", "Save the editor in front (ctrl+s)", self.action_save)
        yield SystemCommand("topic: edit", "Show the topic tree editor", self._tab("topics"))
        for action, about in TOPIC_ACTIONS:
            yield SystemCommand(f"topic: {action}", about, self._topic(action))
        yield SystemCommand("style: edit", "Show the style template editor", self._tab("styles"))

    def _tab(self, tab: str) -> Any:
        return lambda: self.show_tab(tab)

    def _topic(self, action: str) -> Any:
        return lambda: self.topic_action(action)
