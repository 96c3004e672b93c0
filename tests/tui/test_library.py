"""Library screen: edit and save a persona, validation inline, topic tree edits, style preview."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.widgets import Input, Static, TabbedContent, TextArea

from studio.tui.app import StudioApp
from studio.tui.screens.dialogs import ConfirmScreen, PickScreen, TextPromptScreen
from studio.tui.widgets.persona_editor import PersonaEditor
from studio.tui.widgets.style_editor import StyleEditor
from studio.tui.widgets.topic_editor import TopicEditor, TopicTreeView
from tests.tui.conftest import settle

if TYPE_CHECKING:
    import pytest

SIZE = (120, 40)


def library_app(tmp_path: Path, library: Path) -> StudioApp:
    return StudioApp(db_path=tmp_path / "studio.db", library_dir=library, start_mode="library")


async def test_edit_a_persona_in_the_form_and_save(tmp_path: Path, library_copy: Path) -> None:
    app = library_app(tmp_path, library_copy)
    path = library_copy / "college.yaml"
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        editor = app.screen.query_one(PersonaEditor)
        assert editor.path == path
        assert not editor.dirty
        app.screen.query_one("#pf-tone", Input).value = "calm, exact and warm"
        app.screen.query_one("#pf-do", TextArea).load_text("Derive every result.\nShow units.")
        await pilot.pause()
        assert editor.dirty
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not editor.dirty
    text = path.read_text(encoding="utf-8")
    assert "tone: calm, exact and warm" in text
    assert "- Derive every result.\n  - Show units.\n" in text or "- Show units." in text
    # Comments and key order survive the save.
    assert text.startswith("# Persona: college students")
    assert text.index("id: college") < text.index("tone:") < text.index("instructions:")
    persona = app.library.persona("college") if app.library else None
    assert persona is not None and persona.do == ("Derive every result.", "Show units.")


async def test_invalid_field_shows_inline_and_writes_nothing(
    tmp_path: Path, library_copy: Path
) -> None:
    app = library_app(tmp_path, library_copy)
    path = library_copy / "college.yaml"
    before = path.read_text(encoding="utf-8")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#pf-language", Input).value = "not a language"
        await pilot.pause()
        message = app.screen.query_one("#pe-language", Static)
        assert not message.has_class("-hidden")
        assert "BCP-47" in str(message.render())
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        errors = app.screen.query_one("#persona-errors", Static)
        assert not errors.has_class("-hidden")
        assert "language" in str(errors.render())
    assert path.read_text(encoding="utf-8") == before


async def test_edit_the_raw_yaml_and_save(tmp_path: Path, library_copy: Path) -> None:
    app = library_app(tmp_path, library_copy)
    path = library_copy / "college.yaml"
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#persona-tabs", TabbedContent).active = "persona-yaml-tab"
        await pilot.pause()
        yaml_area = app.screen.query_one("#persona-yaml", TextArea)
        yaml_area.load_text(yaml_area.text.replace("name: College students", "name: Undergrads"))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        # The form follows the saved file.
        assert app.screen.query_one("#pf-name", Input).value == "Undergrads"
    assert "name: Undergrads" in path.read_text(encoding="utf-8")


async def test_form_edits_carry_into_the_yaml_tab(tmp_path: Path, library_copy: Path) -> None:
    app = library_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#pf-reading_level", Input).value = "first-year undergraduate"
        await pilot.pause()
        app.screen.query_one("#persona-tabs", TabbedContent).active = "persona-yaml-tab"
        await pilot.pause()
        text = app.screen.query_one("#persona-yaml", TextArea).text
        assert "reading_level: first-year undergraduate" in text
        assert "# Persona: college students" in text


async def test_leaving_unsaved_changes_asks_first(tmp_path: Path, library_copy: Path) -> None:
    app = library_app(tmp_path, library_copy)
    path = library_copy / "college.yaml"
    before = path.read_text(encoding="utf-8")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        editor = app.screen.query_one(PersonaEditor)
        app.screen.query_one("#pf-tone", Input).value = "breezy"
        await pilot.pause()
        listing = app.screen.query_one("#persona-list")
        listing.focus()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#answer-discard")
        await settle(app, pilot)
        assert editor.persona_id == "curious-general-reader"
        assert not editor.dirty
    assert path.read_text(encoding="utf-8") == before


async def test_quitting_with_unsaved_changes_asks(tmp_path: Path, library_copy: Path) -> None:
    app = library_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#pf-tone", Input).value = "breezy"
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#answer-save")
        await settle(app, pilot)
    assert "tone: breezy" in (library_copy / "college.yaml").read_text(encoding="utf-8")


async def test_new_persona_is_written_on_save(tmp_path: Path, library_copy: Path) -> None:
    app = library_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"nurses", "enter")
        await pilot.pause()
        for name, value in (("audience", "nursing students"), ("reading_level", "college"),
                            ("tone", "clinical and kind")):  # fmt: skip
            app.screen.query_one(f"#pf-{name}", Input).value = value
        app.screen.query_one("#pf-instructions", TextArea).load_text("Use real cases.")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.library is not None
        assert app.library.persona("nurses").audience == "nursing students"
    assert (library_copy / "nurses.yaml").exists()


async def test_add_rename_move_and_delete_topic_nodes(tmp_path: Path, library_copy: Path) -> None:
    app = library_app(tmp_path, library_copy)
    path = library_copy / "topics" / "physics.yaml"
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#lib-tabs", TabbedContent).active = "topics"
        await pilot.pause()
        editor = app.screen.query_one(TopicEditor)
        view = app.screen.query_one(TopicTreeView)
        view.focus()
        editor._select("physics")
        await pilot.pause()
        assert editor.cursor_path() == "physics"

        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        await pilot.press(*"Plasma Physics", "enter")
        await pilot.pause()
        assert editor.cursor_path() == "physics/plasma-physics"
        assert editor.dirty

        await pilot.press("r")
        await pilot.pause()
        app.screen.query_one(Input).value = "Plasmas"
        await pilot.press("enter")
        await pilot.pause()
        assert editor.cursor_path() == "physics/plasmas"

        first_unit = editor.trees["physics"].roots[0]
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, PickScreen)
        app.screen.dismiss(f"physics/{first_unit.key}")
        await pilot.pause()
        assert editor.cursor_path() == f"physics/{first_unit.key}/plasmas"

        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not editor.dirty
        assert app.library is not None
        assert app.library.topic(f"physics/{first_unit.key}/plasmas").title == "Plasmas"
        assert "title: Plasmas" in path.read_text(encoding="utf-8")

        editor._select(f"physics/{first_unit.key}/plasmas")
        await pilot.press("d")
        await pilot.pause()
        await pilot.click("#answer-delete")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    text = path.read_text(encoding="utf-8")
    assert "Plasmas" not in text
    assert text.startswith("# Topic tree")


async def test_style_editor_renders_the_prompt_live(tmp_path: Path, library_copy: Path) -> None:
    app = library_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#lib-tabs", TabbedContent).active = "styles"
        await settle(app, pilot)
        editor = app.screen.query_one(StyleEditor)
        assert editor.style_id is not None
        preview = app.screen.query_one("#style-preview", Static)
        await settle(app, pilot)
        assert editor.prompt is not None
        assert editor.prompt.messages[-1].role == "user"
        assert editor.prompt.style_id == editor.style_id

        yaml_area = app.screen.query_one("#style-yaml", TextArea)
        yaml_area.load_text(
            yaml_area.text.replace("prompt: |", "prompt: |\n  {{ persona.nope }}", 1)
        )
        editor.render_preview()
        await settle(app, pilot)
        errors = app.screen.query_one("#style-errors", Static)
        assert not errors.has_class("-hidden")
        assert "nope" in str(errors.render())
        assert preview.has_class("-stale")
        assert editor.prompt is None


def test_suggestions_are_read_from_bullets_or_short_sentences() -> None:
    from studio.tui.suggestions import parse_suggestions

    assert parse_suggestions("Here you go:\n- Ohm's Law\n2) Circuits.\n* ohm's law\n") == [
        "Ohm's Law",
        "Circuits",
    ]
    assert parse_suggestions("Energy. A much longer sentence that is no title at all here.") == [
        "Energy"
    ]


async def test_suggest_subtopics_with_the_offline_model_adds_the_ticked_ones(
    tmp_path: Path, library_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.tui.screens.dialogs import PickManyScreen

    monkeypatch.setenv("STUDIO_OFFLINE_PACE_MS", "0")
    app = library_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.screen.query_one("#lib-tabs", TabbedContent).active = "topics"
        await pilot.pause()
        editor = app.screen.query_one(TopicEditor)
        app.screen.query_one(TopicTreeView).focus()
        editor._select("physics")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, TextPromptScreen)
        assert app.screen.query_one(Input).value == "offline/default"
        await pilot.press("enter")
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, PickManyScreen):
                break
        assert isinstance(app.screen, PickManyScreen)
        offered = app.screen.options
        assert offered
        await pilot.press("space", "enter")  # tick the first, keep it
        await pilot.pause()
        assert editor.dirty
        assert offered[0] in [node.title for node in editor.trees["physics"].roots]
