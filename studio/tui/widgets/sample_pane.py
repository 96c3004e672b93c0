"""One streaming sample: its text, its numbers and its badges.

Deltas are buffered and drawn by ``flush()``, which the screen calls on a ~50 ms timer: one
append per pane per tick however fast the tokens come. The text is a ``StreamText``, which
re-wraps and repaints only its last lines; it follows the end of the text only while the user
has not scrolled up (as elia does).
"""

from __future__ import annotations

from time import monotonic
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.containers import Vertical
from textual.widgets import Static

from studio.tui import display
from studio.tui.widgets.stream_text import StreamText

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from studio.store import Generation

STATS_INTERVAL = 0.25  # seconds between redraws of a streaming sample's word count
STATE_CLASSES = ("-waiting", "-streaming", "-done", "-failed", "-cancelled")


class SamplePane(Vertical):
    """A sample's title, stats line, badges and text."""

    def __init__(self, job_id: str, title: str, **kwargs: Any) -> None:
        super().__init__(classes="sample -waiting", **kwargs)
        self.job_id = job_id
        self.title_text = title
        self.text = ""
        self._pending: list[str] = []
        self._stats_at = 0.0
        self._stats_text = "waiting…"
        self._details: tuple[str, list[tuple[str, str]]] | None = None
        self.state = "waiting"
        self.badges: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(self.title_text, classes="sample-title")
        yield Static("waiting…", classes="sample-stats")
        yield Static("", classes="sample-badges -hidden")
        yield StreamText(classes="sample-scroll sample-body")

    def set_state(self, state: str) -> None:
        self.state = state
        for name in STATE_CLASSES:
            self.set_class(name == f"-{state}", name)

    def set_stats(self, text: str) -> None:
        """Show ``text`` on the stats lines; the screen is laid out only if their height changes.

        A layout pass redraws every widget on the screen (10-40 ms here); while other samples
        stream, that is a visible stall, and most updates keep the same number of lines.
        """
        stats = self.query_one(".sample-stats", Static)
        width = stats.content_region.width
        console = self.app.console

        def height(value: str) -> int:
            return len(Text(value).wrap(console, width)) if value else 1

        previous, self._stats_text = self._stats_text, text
        stats.update(text, layout=width <= 0 or height(text) != height(previous))

    def started(self, attempt: int) -> None:
        self.set_state("streaming")
        note = f" (attempt {attempt})" if attempt > 1 else ""
        self.set_stats(f"streaming{note}…")

    def cancelling(self) -> None:
        self.set_stats("cancelling…")

    def append(self, delta: str) -> None:
        """Buffer a delta; nothing is drawn until the next ``flush``."""
        self._pending.append(delta)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        delta = "".join(pending)
        self.text += delta
        self.query_one(StreamText).append(delta)
        now = monotonic()
        if now - self._stats_at >= STATS_INTERVAL:
            # A few times a second is plenty for a counter, and each redraw of the line costs
            # a frame's worth of rendering. One line either way: no layout pass needed.
            self._stats_at = now
            self.set_stats(f"streaming… {len(self.text.split())} words")

    def retrying(self, message: str, delay: float) -> None:
        self.set_stats(f"retry in {delay:.1f}s: {message}")
        self.text = ""
        self._pending.clear()
        self.query_one(StreamText).clear()

    def finished(
        self, generation: Generation, score: dict[str, Any] | None = None, brief: bool = False
    ) -> None:
        """The sample's end state, numbers and (for a complete text) metrics and gate badges.

        ``brief`` (other samples still stream) shows the end state and one short line now and
        keeps the rest for ``show_details``: more stats lines and badges change the pane's
        layout, and a layout pass redraws the whole screen, a stall for the streams.
        """
        self.flush()
        if generation.text is not None and generation.text != self.text:
            self.text = generation.text
            self.query_one(StreamText).set_text(self.text)
        state = {"ok": "done", "error": "failed", "cancelled": "cancelled"}[generation.status]
        self.set_state(state)
        stats = [
            f"{display.count(generation.completion_tokens)} tok"
            + ("~" if generation.tokens_estimated else ""),
            display.cost(generation.cost_usd),
            f"latency {display.millis(generation.latency_ms)}",
            f"TTFT {display.millis(generation.ttft_ms)}",
        ]
        if generation.finish_reason and generation.finish_reason != "stop":
            stats.append(generation.finish_reason)
        if generation.status != "ok":
            stats.insert(0, generation.status.upper())
        lines = [" · ".join(stats)]
        badges: list[tuple[str, str]] = []
        if score is not None:
            metrics, filters = score["metrics"], score["filters"]
            lines.append(" · ".join(
                f"{name} {display.metric(metrics.get(name))}"
                for name in ("n_words", "dup_line_frac", "top_2_gram_char_frac",
                             "compression_ratio")
                if name in metrics
            ))  # fmt: skip
            badges += [
                (f"gate:{gate}", f"✗ {gate}: {result.get('reason')}")
                for gate, result in filters.items()
                if isinstance(result, dict) and not result.get("keep", True)
            ]
        if generation.status == "error" and generation.error_message:
            badges.append(("error", f"{generation.error_class}: {generation.error_message}"))
        self._details = ("\n".join(lines), badges)
        if brief:
            # One short line, as "streaming… N words" was: the pane keeps its height.
            self.set_stats(f"{state} · {display.count(generation.completion_tokens)} tok")
        else:
            self.show_details()

    def show_details(self) -> None:
        """Everything ``finished`` kept back: all stats lines and the badges."""
        if self._details is None:
            return
        text, badges = self._details
        self._details = None
        self.set_stats(text)
        for key, label in badges:
            self.set_badge(key, label)

    def set_badge(self, key: str, label: str | None) -> None:
        if self.badges.get(key) == label:
            return  # unchanged: no redraw (a badge line that changes lays the screen out)
        if label is None:
            self.badges.pop(key, None)
        else:
            self.badges[key] = label
        badges = self.query_one(".sample-badges", Static)
        line = Text()
        for index, value in enumerate(self.badges.values()):
            if index:
                line.append(" ")
            line.append(f" {value} ", style="reverse")
        badges.update(line)
        badges.set_class(not self.badges, "-hidden")
