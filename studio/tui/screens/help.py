"""F1: how the screen in front works, and every key it answers to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

if TYPE_CHECKING:
    from textual.app import ComposeResult


class HelpScreen(ModalScreen[None]):
    """A modal with the screen's own help text and a table of its active keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="help.close"),
        Binding("f1", "dismiss", "Close", show=False, id="help.close_f1"),
    ]

    def __init__(self, about: Screen[Any]) -> None:
        super().__init__()
        self.about = about

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(self._text())

    def _text(self) -> str:
        intro = getattr(self.about, "HELP", "") or ""
        rows = ["| key | does |", "|---|---|"]
        seen: set[str] = set()
        for active in self.about.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.description in seen:
                continue
            seen.add(binding.description)
            shown = self.app.get_key_display(binding)
            rows.append(f"| `{shown}` | {binding.description} |")
        rows.append("| `ctrl+p` | Command palette: every action by name |")
        return (
            f"# {getattr(self.about, 'TITLE', None) or 'Synth Studio'}\n\n{intro}\n\n"
            "## Keys\n\n" + "\n".join(rows) + "\n\nKeys can be remapped by binding id in "
            "`$STUDIO_HOME/keymap.toml` (a `[keys]` table).\n\n*escape closes this help.*"
        )
