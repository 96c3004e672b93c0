"""The persona editor: a list of personas, a form and the raw YAML of the one being edited.

The YAML text is the document being edited; the form is a view of it. Switching from the form
to the YAML folds the form's values into the text (comments and key order kept), and switching
back parses the text into the form. Ctrl+S saves through ``studio.library.saver.save_text``,
which validates before it writes; its errors come back inline, under the form's fields and as
``line: field: message`` under the YAML.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import (
    Input,
    Label,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)
from textual.widgets.option_list import Option

from studio.tui.editing import field_error, merge_fields, split_lines, split_tags
from studio.tui.widgets.leaving import confirm_leave, show_errors

if TYPE_CHECKING:
    from textual.app import ComposeResult
    from textual.timer import Timer

    from studio.library import Library, LibraryError, Persona
    from studio.tui.app import StudioApp

# (field, label, widget): "line" is an Input, "text" a TextArea, "list" one item per line.
FORM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("id", "Id (file key; lower case, digits, - or _)", "line"),
    ("name", "Name", "line"),
    ("language", "Language (BCP-47: en, zh, zh-Hant...)", "line"),
    ("audience", "Audience", "line"),
    ("reading_level", "Reading level", "line"),
    ("tone", "Tone", "line"),
    ("description", "Description", "line"),
    ("tags", "Tags (comma separated)", "line"),
    ("instructions", "Instructions", "text"),
    ("do", "Do (one per line)", "list"),
    ("dont", "Don't (one per line)", "list"),
)


class PersonaList(OptionList):
    """Personas by name; vim keys move the highlight."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="persona.down"),
        Binding("k", "cursor_up", "Up", show=False, id="persona.up"),
    ]


class PersonaEditor(Horizontal):
    """Edit one persona file at a time."""

    dirty: reactive[bool] = reactive(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path: Path | None = None
        self.persona_id: str | None = None
        self.loaded_text = ""
        self.synced: dict[str, Any] = {}
        self._validate_timer: Timer | None = None

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        with Vertical(classes="lib-side"):
            yield Static("Personas", classes="section-title")
            yield PersonaList(id="persona-list")
        with Vertical(classes="lib-main"):
            yield Static("", id="persona-file", classes="file-title")
            with TabbedContent(id="persona-tabs"):
                with TabPane("Form", id="persona-form-tab"), VerticalScroll(id="persona-form"):
                    for name, label, widget in FORM_FIELDS:
                        yield Label(label, classes="field-label")
                        if widget == "line":
                            yield Input(
                                id=f"pf-{name}",
                                classes="form-field",
                                compact=True,
                                select_on_focus=False,
                            )
                        else:
                            yield TextArea(id=f"pf-{name}", classes=f"form-field -{widget}")
                        yield Static("", id=f"pe-{name}", classes="field-error -hidden")
                with TabPane("YAML", id="persona-yaml-tab"):
                    yield TextArea(id="persona-yaml", show_line_numbers=True, tab_behavior="indent")
            yield Static("", id="persona-errors", classes="errors -hidden")

    def on_mount(self) -> None:
        self.watch(self.app, "library", self._library_changed)

    # -- the list ------------------------------------------------------------------------------

    def _library_changed(self, library: Library | None) -> None:
        if library is None:
            return
        listing = self.query_one(PersonaList)
        highlighted = listing.highlighted
        listing.clear_options()
        listing.add_options(
            [Option(f"{p.name}\n[dim]{p.id} · {p.language}[/]", id=p.id) for p in library.personas]
        )
        ids = [p.id for p in library.personas]
        if self.persona_id in ids:
            listing.highlighted = ids.index(self.persona_id)
            if not self.dirty:
                self.open(library.persona(self.persona_id))
        elif self.path is None and library.personas:
            listing.highlighted = 0
            self.open(library.personas[0])
        elif highlighted is not None and highlighted < len(ids):
            listing.highlighted = highlighted

    @on(OptionList.OptionSelected, "#persona-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        library = self.studio.library
        if library is None or event.option.id is None or event.option.id == self.persona_id:
            return
        persona = library.persona(event.option.id)
        self.leave_then(lambda: self.open(persona))

    def leave_then(self, proceed: Any) -> None:
        """Run ``proceed`` now, or after asking what to do with unsaved changes."""
        confirm_leave(self, self.dirty, self.persona_id or "this persona", self.save, proceed)

    # -- opening -------------------------------------------------------------------------------

    def open(self, persona: Persona) -> None:
        assert persona.source is not None
        self.path = persona.source
        self.persona_id = persona.id
        self.loaded_text = persona.source.read_text(encoding="utf-8")
        self.query_one("#persona-yaml", TextArea).load_text(self.loaded_text)
        self.fill_form(persona)
        self._show_errors([])
        self._update_dirty()

    def start_new(self, persona_id: str, library_root: Path) -> None:
        """A blank persona in ``<library>/<id>.yaml``, not yet written."""
        self.path = library_root / f"{persona_id}.yaml"
        self.persona_id = persona_id
        self.loaded_text = ""
        fields: dict[str, Any] = {name: "" for name, _, _ in FORM_FIELDS}
        fields.update(id=persona_id, name=persona_id.replace("-", " ").capitalize(), language="en")
        fields.update(do=[], dont=[], tags=[])
        self.query_one("#persona-yaml", TextArea).load_text("")
        self._set_form(fields)
        self.synced = {}
        self.query_one("#persona-tabs", TabbedContent).active = "persona-form-tab"
        self.query_one("#pf-audience").focus()
        self._update_dirty()

    def fill_form(self, persona: Persona) -> None:
        from studio.library.saver import persona_fields

        fields = persona_fields(persona)
        self._set_form(fields)
        self.synced = self.form_fields()

    def _set_form(self, fields: dict[str, Any]) -> None:
        for name, _, widget in FORM_FIELDS:
            value = fields.get(name)
            if widget == "line":
                shown = ", ".join(value) if isinstance(value, list) else str(value or "")
                self.query_one(f"#pf-{name}", Input).value = shown
            elif widget == "list":
                self.query_one(f"#pf-{name}", TextArea).load_text("\n".join(value or []))
            else:
                self.query_one(f"#pf-{name}", TextArea).load_text(str(value or ""))
            self._field_message(name, None)

    def form_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name, _, widget in FORM_FIELDS:
            if widget == "line":
                value = self.query_one(f"#pf-{name}", Input).value
                fields[name] = split_tags(value) if name == "tags" else value.strip()
            elif widget == "list":
                fields[name] = split_lines(self.query_one(f"#pf-{name}", TextArea).text)
            else:
                fields[name] = self.query_one(f"#pf-{name}", TextArea).text.strip()
        return fields

    # -- editing -------------------------------------------------------------------------------

    @on(Input.Changed, ".form-field")
    @on(TextArea.Changed, ".form-field")
    def _form_changed(self, event: Input.Changed | TextArea.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.text_area
        name = (widget.id or "").removeprefix("pf-")
        value = self.form_fields().get(name)
        self._field_message(name, field_error("persona", name, value))
        self._update_dirty()

    @on(TextArea.Changed, "#persona-yaml")
    def _yaml_changed(self) -> None:
        self._update_dirty()
        if self._validate_timer is not None:
            self._validate_timer.stop()
        self._validate_timer = self.set_timer(0.3, self.validate_yaml)

    def validate_yaml(self) -> list[LibraryError]:
        from studio.library.loader import parse_persona

        if self.path is None:
            return []
        _, errors = parse_persona(self.query_one("#persona-yaml", TextArea).text, self.path)
        if self.query_one("#persona-tabs", TabbedContent).active == "persona-yaml-tab":
            self._show_errors(errors)
        return errors

    @on(TabbedContent.TabActivated, "#persona-tabs")
    def _tab_switched(self, event: TabbedContent.TabActivated) -> None:
        if self.path is None:
            return
        yaml_area = self.query_one("#persona-yaml", TextArea)
        if event.pane.id == "persona-yaml-tab":
            fields = self.form_fields()
            if fields != self.synced:
                yaml_area.load_text(merge_fields(yaml_area.text, fields, self.path))
                self.synced = fields
            self.validate_yaml()
        else:
            from studio.library.loader import parse_persona

            persona, errors = parse_persona(yaml_area.text, self.path)
            if persona is not None:
                self.fill_form(persona)
                self._show_errors([])
            else:
                self._show_errors(errors)
                self.notify(
                    "The YAML has errors, so the form still shows the last valid version.",
                    severity="warning",
                )
        self._update_dirty()

    def pending_text(self) -> str:
        """The text a save would write: the YAML, with any form edits folded in."""
        assert self.path is not None
        text = self.query_one("#persona-yaml", TextArea).text
        fields = self.form_fields()
        if fields != self.synced:
            text = merge_fields(text, fields, self.path)
        return text

    def _update_dirty(self) -> None:
        if self.path is None:
            self.dirty = False
            return
        yaml_text = self.query_one("#persona-yaml", TextArea).text
        self.dirty = yaml_text != self.loaded_text or self.form_fields() != self.synced

    def watch_dirty(self) -> None:
        shown = str(self.path) if self.path is not None else ""
        with contextlib.suppress(ValueError):
            shown = str(Path(shown).relative_to(self.studio.library_dir.parent))
        self.query_one("#persona-file", Static).update(
            f"{shown}  [b]● unsaved[/b]" if self.dirty else shown
        )

    # -- saving --------------------------------------------------------------------------------

    def save(self) -> bool:
        """Validate and write the file; True when it was written."""
        from studio.library import LibraryFileError
        from studio.library.saver import save_text

        if self.path is None:
            return False
        text = self.pending_text()
        try:
            persona = save_text(self.path, text, "persona")
        except LibraryFileError as exc:
            self._show_errors(exc.errors)
            self.notify(f"{len(exc.errors)} problem(s); nothing written.", severity="error")
            return False
        self.loaded_text = text
        self.persona_id = persona.id
        self.query_one("#persona-yaml", TextArea).load_text(text)
        self.fill_form(persona)
        self._show_errors([])
        self._update_dirty()
        self.notify(f"Saved {self.path.name}", title="persona: save")
        self.studio.reload_library()
        return True

    def _show_errors(self, errors: list[LibraryError]) -> None:
        for name, _, _ in FORM_FIELDS:
            self._field_message(name, None)
        for error in errors:
            name = error.field.split("[", 1)[0].split(".", 1)[0]
            if name in {n for n, _, _ in FORM_FIELDS}:
                self._field_message(name, error.message)
        show_errors(self.query_one("#persona-errors", Static), errors)

    def _field_message(self, name: str, message: str | None) -> None:
        label = self.query_one(f"#pe-{name}", Static)
        label.update(message or "")
        label.set_class(not message, "-hidden")
        self.query_one(f"#pf-{name}").set_class(bool(message), "-invalid")
