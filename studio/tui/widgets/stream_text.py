"""A scrolling block of wrapped text that grows at its end: the body of a streaming sample.

A ``Static`` holding the whole text re-wraps and re-renders all of it on every update, and
its growing height re-lays out the screen. This widget uses Textual's line API instead (as
``Log`` does, but wrapping words): an append re-wraps only the last paragraph, repaints only
the lines that changed, and the screen is laid out again only when the line count changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

if TYPE_CHECKING:
    from rich.style import Style


class StreamText(ScrollView, can_focus=True):
    """Wrapped text with ``append`` and ``set_text``; follows the end unless scrolled up."""

    DEFAULT_CSS = """
    StreamText {
        overflow-x: hidden;
        /* Always there: a scrollbar appearing mid-stream would lay the whole screen out. */
        overflow-y: scroll;
    }
    """

    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._paragraphs: list[str] = text.split("\n")
        self._lines: list[str] = []
        self._tail_start = 0  # index in _lines of the last paragraph's first line
        self._wrap_width = 0
        self._strips: dict[int, Strip] = {}
        self._style: Style | None = None

    @property
    def text(self) -> str:
        return "\n".join(self._paragraphs)

    # -- wrapping --------------------------------------------------------------------------

    def _wrap(self, paragraph: str) -> list[str]:
        width = self._wrap_width
        if not paragraph:
            return [""]
        if cell_len(paragraph) <= width:
            return [paragraph]
        return [line.plain.rstrip() for line in Text(paragraph).wrap(self.app.console, width)]

    def _rewrap_all(self) -> None:
        self._lines = []
        for paragraph in self._paragraphs[:-1]:
            self._lines += self._wrap(paragraph)
        self._tail_start = len(self._lines)
        self._lines += self._wrap(self._paragraphs[-1])
        self._strips.clear()
        self._sized(follow=False)
        self.refresh()

    def _sized(self, follow: bool) -> None:
        height = len(self._lines) if self.text else 0
        size = Size(self._wrap_width, height)
        if size != self.virtual_size:
            # A taller text needs no layout pass of the screen (a line-API widget draws its
            # own lines), only new scrollbar bounds; a scrollbar appearing still lays out.
            self.set_reactive(ScrollView.virtual_size, size)
            self._scroll_update(size)
        if follow:
            self.scroll_to(y=max(0, height - self.scrollable_content_region.height),
                           animate=False, immediate=True)  # fmt: skip

    def on_resize(self) -> None:
        width = max(1, self.scrollable_content_region.width)
        if width != self._wrap_width:
            self._wrap_width = width
            self._rewrap_all()

    # -- changing the text -----------------------------------------------------------------

    def append(self, text: str) -> None:
        """Add ``text`` at the end; scrolls along only when the end was in view."""
        if not text:
            return
        follow = self.scroll_y >= self.max_scroll_y - 1
        head, *rest = text.split("\n")
        self._paragraphs[-1] += head
        self._paragraphs += rest
        if not self._wrap_width:
            return  # not laid out yet: on_resize wraps everything
        first_changed = self._tail_start
        del self._lines[self._tail_start :]
        for paragraph in self._paragraphs[len(self._paragraphs) - len(rest) - 1 : -1]:
            self._lines += self._wrap(paragraph)
        self._tail_start = len(self._lines)
        self._lines += self._wrap(self._paragraphs[-1])
        for index in [i for i in self._strips if i >= first_changed]:
            del self._strips[index]
        self._sized(follow)
        top = first_changed - int(self.scroll_y)
        if top < self.scrollable_content_region.height:
            self.refresh_lines(max(0, top), len(self._lines) - first_changed)

    def set_text(self, text: str) -> None:
        self._paragraphs = text.split("\n")
        if self._wrap_width:
            self._rewrap_all()

    def clear(self) -> None:
        self.set_text("")

    # -- drawing ---------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._style = None

    def render_line(self, y: int) -> Strip:
        # Called for every visible line of every frame while the text scrolls along: the
        # style (an ancestor walk in Textual) and each finished strip are computed once.
        index = int(self.scroll_y) + y
        width = self.size.width
        style = self._style
        if style is None:
            style = self._style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        strip = self._strips.get(index)
        if strip is None or strip.cell_length != width:
            line = self._lines[index]
            strip = (
                Strip([Segment(line, style)], cell_len(line))
                .extend_cell_length(width, style)
                .crop(0, width)
                .apply_offsets(0, index)
            )
            self._strips[index] = strip
        return strip
