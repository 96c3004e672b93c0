"""Small modal questions: confirm, ask for a line of text, pick one of a list."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from textual.app import ComposeResult


class ConfirmScreen(ModalScreen[str]):
    """A question with a few answers; escape answers ``cancel``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss('cancel')", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        """``choices`` are (answer, button label) pairs; the first is the default."""
        super().__init__(classes="dialog")
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.question, classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                for index, (answer, label) in enumerate(self.choices):
                    if index == 0:
                        yield Button(label, id=f"answer-{answer}", variant="primary")
                    else:
                        yield Button(label, id=f"answer-{answer}")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _answered(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "answer-cancel").removeprefix("answer-"))


class TextPromptScreen(ModalScreen[str | None]):
    """Ask for one line of text; escape gives None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.title_text, classes="dialog-question")
            yield Input(self.value, placeholder=self.placeholder, id="dialog-input")
            yield Label("enter accepts · escape cancels", classes="dialog-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


class PickScreen(ModalScreen[str | None]):
    """Pick one of a list (type to move); escape gives None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        """``options`` are (value, label) pairs."""
        super().__init__(classes="dialog")
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.title_text, classes="dialog-question")
            yield OptionList(*[Option(label, id=value) for value, label in self.options])
            yield Label("enter picks · escape cancels", classes="dialog-hint")

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class PickManyScreen(ModalScreen[list[str] | None]):
    """Tick any of a list (space), enter or the button keeps them; escape gives None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel"),
        Binding("enter", "keep", "Keep ticked", id="dialog.keep", priority=True),
    ]

    def __init__(self, title: str, options: list[str]) -> None:
        super().__init__(classes="dialog")
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-box"):
            yield Label(self.title_text, classes="dialog-question")
            yield SelectionList[str](*[(option, option) for option in self.options])
            yield Label("space ticks · enter keeps the ticked ones · escape cancels",
                        classes="dialog-hint")  # fmt: skip
            with Horizontal(classes="dialog-buttons"):
                yield Button("Keep ticked", id="answer-keep", variant="primary")

    def action_keep(self) -> None:
        self.dismiss(list(self.query_one(SelectionList).selected))

    @on(Button.Pressed, "#answer-keep")
    def _keep(self) -> None:
        self.action_keep()
