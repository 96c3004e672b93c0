"""Preview: pick personas, a topic, a style and 1-4 models; see the prompt; stream samples.

The run is a thread worker owned by this screen, with its own event loop: events from
``studio.generate`` reach the sample panes in one batch every ~50 ms, and the panes draw once
per batch. Escape cancels the runner (thread-safely); it records what had streamed as
cancelled generations. Every preview is a stored run (see the Runs screen).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Footer,
    Header,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState

from studio.tui.generation import FullCollections
from studio.tui.screens.dialogs import PickScreen
from studio.tui.widgets.sample_pane import SamplePane
from studio.tui.widgets.style_editor import prompt_renderable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from textual.app import ComposeResult

    from studio.generate import PreparedRun, RunSummary
    from studio.library import Library
    from studio.metrics.scorer import TextScorer
    from studio.prompts import Prompt
    from studio.store import Generation
    from studio.tui.app import StudioApp
    from studio.tui.generation import PreviewRequest, PreviewRun

MAX_MODELS = 4


class PromptsRendered(Message):
    def __init__(self, prompts: list[Prompt], problems: list[str]) -> None:
        super().__init__()
        self.prompts = prompts
        self.problems = problems


class ModelsFound(Message):
    def __init__(self, models: list[tuple[str, str]]) -> None:
        super().__init__()
        self.models = models


class SampleScored(Message):
    """A finished sample with its metrics, and the flags among every sample finished so far.

    The pane shows its end state, numbers, metrics and badges in one update, so the screen
    is laid out once per finished sample rather than three times while others stream.
    """

    def __init__(
        self,
        generation: Generation,
        score: dict[str, Any] | None,
        flags: tuple[int, dict[str, int], dict[str, str]] | None,
    ) -> None:
        super().__init__()
        self.generation = generation
        self.score = score
        self.flags = flags  # (sequence number, near-dup clusters, shared openings)


class PreviewScreen(Screen[None]):
    """Side-by-side samples from up to four models."""

    TITLE = "Preview"
    HELP = (
        "Tick one or more **personas** and **models** (space), pick a **topic** and a "
        "**style**, set the number of samples and the sampling parameters, and press "
        "**ctrl+j** (or **alt+enter**) to run. The **Prompt** tab shows the exact messages each "
        "model receives. Samples stream into one column per model with their tokens, cost, "
        "latency and time to first token; when a sample completes it gets its metrics and a "
        "badge for each failed quality gate. Near-duplicate samples and shared openings are "
        "flagged. **escape** cancels a running preview and keeps the partial texts as "
        "cancelled; **x** cancels one sample (the focused one, or pick it) and **X** every "
        "sample of one model; the others stream on. "
        "Every preview is stored as a run.\n\n"
        "Jump to a control: **alt+p** personas, **alt+t** topic, **alt+s** style, "
        "**alt+m** models, **alt+n** samples."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j", "run", "Run", id="preview.run"),
        Binding("alt+enter", "run", "Run", show=False, id="preview.run_alt"),
        Binding("escape", "cancel", "Cancel", id="preview.cancel"),
        Binding("x", "cancel_sample", "Cancel sample", id="preview.cancel_sample"),
        Binding("X", "cancel_model", "Cancel model", show=False, id="preview.cancel_model"),
        Binding("ctrl+o", "toggle_view", "Prompt/samples", id="preview.toggle"),
        Binding("alt+p", "jump('#pv-personas')", "Personas", show=False, id="preview.personas"),
        Binding("alt+t", "jump('#pv-topic')", "Topic", show=False, id="preview.topic"),
        Binding("alt+s", "jump('#pv-style')", "Style", show=False, id="preview.style"),
        Binding("alt+m", "jump('#pv-models')", "Models", show=False, id="preview.models"),
        Binding("alt+n", "jump('#pv-n')", "Samples", show=False, id="preview.samples"),
    ]

    def action_jump(self, selector: str) -> None:
        self.query_one(selector).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out run while a preview runs, and cancel while none does."""
        if action == "cancel":
            return True if self.preview_running else None
        if action in ("cancel_sample", "cancel_model"):
            return self.preview_running  # shown only while samples stream
        if action == "run":
            return None if self.preview_running else True
        return True

    def __init__(self) -> None:
        super().__init__()
        self.panes: dict[str, SamplePane] = {}
        self.pane_models: dict[str, str] = {}
        self.run_id: str | None = None
        self.finished_texts: dict[str, str] = {}
        self.flag_sequence = 0
        self.flags_shown = 0
        self.pending_flags: tuple[dict[str, int], dict[str, str]] | None = None
        self.preview: PreviewRun | None = None
        self.preview_worker: Worker[None] | None = None
        self.scorer: TextScorer | None = None
        self.scorer_lock = threading.Lock()
        self.full_collections = FullCollections()
        self.seed = 0
        self.prompts: list[Prompt] = []

    @property
    def studio(self) -> StudioApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="pv-body"):
            with VerticalScroll(id="pv-setup"):
                yield Label("Personas", classes="field-label")
                yield SelectionList[str](id="pv-personas")
                yield Label("Topic", classes="field-label")
                yield Select[str]([], prompt="topic", id="pv-topic")
                yield Label("Style", classes="field-label")
                yield Select[str]([], prompt="style", id="pv-style")
                yield Label(f"Models (1 to {MAX_MODELS})", classes="field-label")
                yield SelectionList[str](id="pv-models")
                yield Input(placeholder="another model, e.g. openai/gpt-4o-mini", id="pv-extra")
                yield Input(placeholder="API base of an OpenAI-compatible server (optional)",
                            id="pv-api-base")  # fmt: skip
                with Horizontal(id="pv-params", classes="pv-params"):
                    with Vertical():
                        yield Label("Samples", classes="field-label")
                        yield Input("2", id="pv-n", type="integer", compact=True)
                    with Vertical():
                        yield Label("Temperature", classes="field-label")
                        yield Input("", placeholder="style", id="pv-temperature", compact=True)
                    with Vertical():
                        yield Label("Top p", classes="field-label")
                        yield Input("", placeholder="style", id="pv-top-p", compact=True)
                with Horizontal(id="pv-params-2", classes="pv-params"):
                    with Vertical():
                        yield Label("Max tokens", classes="field-label")
                        yield Input("", placeholder="style", id="pv-max-tokens", compact=True)
                    with Vertical():
                        yield Label("Seed", classes="field-label")
                        yield Input("", placeholder="new each run", id="pv-seed",
                                    type="integer", compact=True)  # fmt: skip
            with TabbedContent(id="pv-tabs"):
                with TabPane("Prompt", id="pv-prompt-tab"), VerticalScroll():
                    yield Static("Loading the library…", id="pv-prompt")
                with TabPane("Samples", id="pv-samples-tab"):
                    yield Horizontal(id="pv-columns")
        yield Static("Pick personas, a topic, a style and models; ctrl+j runs.", id="pv-status",
                     classes="status-line")  # fmt: skip
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "library", self._library_changed)
        self.find_models()
        self.warm_scoring()

    @work(thread=True, group="preview-score")
    def warm_scoring(self) -> None:
        """Build the scorer and load the near-dup code now, not while the first samples stream.

        The imports, regex compiles and rule tables take ~100 ms with the GIL held; done in
        the middle of a stream they showed as frame gaps.
        """
        from studio.metrics.scorer import TextScorer
        from studio.tui.generation import sample_flags

        with self.scorer_lock:
            if self.scorer is None:
                self.scorer = TextScorer()
            self.scorer.score("A short text to warm the scorer. It has two sentences.")
        sample_flags({"a": "one two three four five six", "b": "one two three four five six"})

    # -- choices -------------------------------------------------------------------------------

    def _library_changed(self, library: Library | None) -> None:
        if library is None:
            return
        personas = self.query_one("#pv-personas", SelectionList)
        chosen = set(personas.selected) or {library.personas[0].id} if library.personas else set()
        personas.clear_options()
        personas.add_options(
            [(f"{p.name} ({p.id})", p.id, p.id in chosen) for p in library.personas]
        )
        topic = self.query_one("#pv-topic", Select)
        style = self.query_one("#pv-style", Select)
        keep_topic, keep_style = topic.value, style.value
        leaves = [t for t in library.topics() if not t.children]
        topic.set_options([(t.path, t.path) for t in leaves])
        style.set_options([(f"{s.name} ({s.id})", s.id) for s in library.styles])
        if isinstance(keep_topic, str) and keep_topic in {t.path for t in leaves}:
            topic.value = keep_topic
        elif leaves:
            topic.value = leaves[0].path
        if isinstance(keep_style, str) and keep_style in {s.id for s in library.styles}:
            style.value = keep_style
        elif library.styles:
            style.value = library.styles[0].id
        self.render_prompts()

    @work(thread=True, exclusive=True, group="preview-models")
    def find_models(self) -> None:
        """Offline models plus configured endpoints, read without importing litellm."""
        models: list[tuple[str, str]] = []
        try:
            from studio.generate.config import OFFLINE_MODELS, available_models, load_config
        except ImportError:
            self.post_message(ModelsFound([]))
            return
        models += [(f"{m}  (offline)", m) for m in OFFLINE_MODELS]
        try:
            rows = available_models(load_config())
        except Exception as exc:  # a broken models config must not hide the offline models
            self.app.call_from_thread(
                self.notify, str(exc), title="models config", severity="warning"
            )
            rows = []
        for row in rows:
            name = str(row.get("model", ""))
            if row.get("kind") == "offline" or name.endswith("/*"):
                continue
            models.append((f"{name}  ({row.get('kind')})", name))
        self.post_message(ModelsFound(models))

    def on_models_found(self, message: ModelsFound) -> None:
        listing = self.query_one("#pv-models", SelectionList)
        listing.clear_options()
        first = {value for _, value in message.models[:1]}
        listing.add_options([(label, value, value in first) for label, value in message.models])

    @on(SelectionList.SelectedChanged, "#pv-personas")
    @on(Select.Changed, "#pv-topic, #pv-style")
    def _choice_changed(self) -> None:
        self.render_prompts()

    @on(SelectionList.SelectedChanged, "#pv-models")
    def _models_changed(self) -> None:
        chosen = self.chosen_models()
        if len(chosen) > MAX_MODELS:
            self.notify(f"At most {MAX_MODELS} models side by side.", severity="warning")

    def chosen_models(self) -> list[str]:
        models = list(self.query_one("#pv-models", SelectionList).selected)
        extra = self.query_one("#pv-extra", Input).value.strip()
        if extra:
            models.append(extra)
        return models

    def render_prompts(self) -> None:
        library = self.studio.library
        if library is None:
            return
        personas = list(self.query_one("#pv-personas", SelectionList).selected)
        topic = self.query_one("#pv-topic", Select).value
        style = self.query_one("#pv-style", Select).value
        if not personas or not isinstance(topic, str) or not isinstance(style, str):
            self.query_one("#pv-prompt", Static).update(
                "Pick at least one persona, a topic and a style."
            )
            return
        self._render_in_worker(library, personas, topic, style)

    @work(thread=True, exclusive=True, group="preview-prompts")
    def _render_in_worker(
        self, library: Library, personas: list[str], topic: str, style: str
    ) -> None:
        from studio.prompts import PromptError, render_prompt

        prompts, problems = [], []
        for persona_id in personas:
            try:
                prompts.append(
                    render_prompt(
                        library.persona(persona_id), library.topic(topic), library.style(style)
                    )
                )
            except (PromptError, KeyError) as exc:
                problems.append(f"{persona_id}: {exc}")
        self.post_message(PromptsRendered(prompts, problems))

    def on_prompts_rendered(self, message: PromptsRendered) -> None:
        self.prompts = message.prompts
        parts: list[Any] = [Text(p, style="bold red") for p in message.problems]
        for prompt in message.prompts:
            parts.append(Text(f"\n{prompt.persona_id} × {prompt.topic_path} × {prompt.style_id}",
                              style="bold underline"))  # fmt: skip
            parts.append(prompt_renderable(prompt))
        self.query_one("#pv-prompt", Static).update(Group(*parts))

    # -- running -------------------------------------------------------------------------------

    def action_toggle_view(self) -> None:
        tabs = self.query_one("#pv-tabs", TabbedContent)
        tabs.active = "pv-samples-tab" if tabs.active == "pv-prompt-tab" else "pv-prompt-tab"

    def params(self) -> dict[str, Any] | None:
        """Samples and sampling parameters from the inputs; None (and a notice) when invalid."""

        def read(selector: str, kind: type[int] | type[float], what: str) -> Any:
            text = self.query_one(selector, Input).value.strip()
            try:
                return kind(text) if text else None
            except ValueError:
                raise ValueError(
                    f"{what}: {text!r} is not a{'n integer' if kind is int else ' number'}"
                ) from None

        try:
            values: dict[str, Any] = {
                "samples": read("#pv-n", int, "Samples") or 1,
                "temperature": read("#pv-temperature", float, "Temperature"),
                "top_p": read("#pv-top-p", float, "Top p"),
                "max_tokens": read("#pv-max-tokens", int, "Max tokens"),
                "seed": read("#pv-seed", int, "Seed"),
            }
        except ValueError as exc:
            self.notify(str(exc), title="preview: parameters", severity="error")
            return None
        checks = (
            (1 <= values["samples"] <= 20, "Samples must be 1 to 20."),
            (values["temperature"] is None or 0 <= values["temperature"] <= 2,
             "Temperature must be 0 to 2."),
            (values["top_p"] is None or 0 < values["top_p"] <= 1,
             "Top p must be above 0 and at most 1."),
            (values["max_tokens"] is None or values["max_tokens"] >= 1,
             "Max tokens must be at least 1."),
        )  # fmt: skip
        problems = [message for ok, message in checks if not ok]
        if problems:
            self.notify(" ".join(problems), title="preview: parameters", severity="error")
            return None
        return values

    def action_run(self) -> None:
        from studio.tui.generation import PreviewRequest, generation_available

        if not generation_available():
            self.notify("studio.generate is not installed.", title="preview: run", severity="error")
            return
        library = self.studio.library
        personas = list(self.query_one("#pv-personas", SelectionList).selected)
        topic = self.query_one("#pv-topic", Select).value
        style = self.query_one("#pv-style", Select).value
        models = self.chosen_models()
        params = self.params()
        if library is None or params is None:
            return
        if not personas or not isinstance(topic, str) or not isinstance(style, str):
            self.notify("Pick at least one persona, a topic and a style.", severity="warning")
            return
        if not 1 <= len(models) <= MAX_MODELS:
            self.notify(f"Pick 1 to {MAX_MODELS} models.", severity="warning")
            return
        if self.preview_running:
            self.notify("A preview is running; escape cancels it.", severity="warning")
            return
        seed = params.pop("seed")
        if seed is None:  # a new seed each run, so reruns give new samples
            self.seed += 1
            seed = self.seed
        request = PreviewRequest(
            personas=tuple(personas),
            topic=topic,
            style=style,
            models=tuple(dict.fromkeys(models)),
            seed=seed,
            api_base=self.query_one("#pv-api-base", Input).value.strip() or None,
            **params,
        )
        self.start(request)

    @property
    def preview_running(self) -> bool:
        return (
            self.preview is not None
            and self.preview_worker is not None
            and (self.preview_worker.is_running)
        )

    def start(self, request: PreviewRequest) -> None:
        from studio.tui.generation import PreviewRun

        self.query_one("#pv-columns", Horizontal).remove_children()
        self.panes.clear()
        self.pane_models.clear()
        self.finished_texts.clear()
        self.flags_shown = self.flag_sequence
        self.pending_flags = None
        self.query_one("#pv-tabs", TabbedContent).active = "pv-samples-tab"
        self.set_status(f"Planning {len(request.models)} model(s) × {request.samples} sample(s)…")
        self.preview = PreviewRun(request)
        self.full_collections.pause()
        self.preview_worker = self.stream(self.preview)
        self.refresh_bindings()

    def set_status(self, text: str) -> None:
        self.query_one("#pv-status", Static).update(text)

    def flush(self) -> None:
        for pane in self.panes.values():
            if pane.has_pending:
                pane.flush()

    @work(thread=True, exclusive=True, group="preview-run", exit_on_error=False)
    def stream(self, preview: PreviewRun) -> None:
        """Run the preview on this worker thread's own event loop, off the UI loop."""
        from textual.worker import get_current_worker

        from studio.tui.generation import PreviewCallbacks, run_preview_threaded

        library = self.studio.library
        assert library is not None
        worker = get_current_worker()
        call = self.app.call_from_thread

        def planned(prepared: PreparedRun) -> None:
            # An async callback: call_from_thread returns once the panes are mounted.
            build: Callable[[PreparedRun], Any] = self.build_panes
            call(build, prepared)

        callbacks = PreviewCallbacks(
            planned=planned,
            events=lambda batch: call(self.on_run_events, batch),
            finished=lambda summary, error: call(self.run_finished, summary, error),
            abandoned=lambda: worker.is_cancelled,
        )
        run_preview_threaded(preview, library, self.studio.store, callbacks)

    async def build_panes(self, prepared: PreparedRun) -> None:
        from studio.tui.generation import job_title

        self.run_id = prepared.run.id
        several = len({job.prompt.persona_id for job in prepared.pending}) > 1
        columns = self.query_one("#pv-columns", Horizontal)
        by_model: dict[str, list[SamplePane]] = {m: [] for m in prepared.plan.spec.models}
        for job in prepared.pending:
            pane = SamplePane(job.id, job_title(job, several))
            self.panes[job.id] = pane
            self.pane_models[job.id] = job.model
            by_model.setdefault(job.model, []).append(pane)
        for model, panes in by_model.items():
            if not panes:
                continue
            column = VerticalScroll(classes="model-column")
            await columns.mount(column)
            await column.mount(Static(model, classes="model-title"), *panes)
        self.set_status(
            f"Run {prepared.run.id}: {len(prepared.pending)} samples streaming · escape cancels"
        )
        # The runner starts when this returns: let the new panes' first (costly) frame be
        # drawn before the first tokens arrive, not in the middle of the streams.
        painted = asyncio.Event()
        self.call_after_refresh(painted.set)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(painted.wait(), 1.0)

    def on_run_events(self, events: list[Any]) -> None:
        """A batch of runner events (~50 ms worth), in order; then one draw per pane."""
        for event in events:
            self.on_run_event(event)
        self.flush()

    def on_run_event(self, event: Any) -> None:
        """One runner event, on the UI loop: panes buffer text; ``flush`` draws it."""
        from studio.generate import JobDelta, JobFailed, JobFinished, JobStarted

        if isinstance(event, JobDelta):
            pane = self.panes.get(event.job_id)
            if pane is not None:
                pane.append(event.text)
        elif isinstance(event, JobStarted):
            if (pane := self.panes.get(event.job_id)) is not None:
                pane.started(event.attempt)
        elif isinstance(event, JobFailed):
            if event.will_retry and (pane := self.panes.get(event.job_id)) is not None:
                pane.retrying(f"{event.error_class}: {event.message}", event.delay)
        elif isinstance(event, JobFinished):
            generation = event.generation
            if generation.status == "ok" and generation.text:
                # The pane finishes when its metrics are in (a few ms): one update, not three.
                self.finished_texts[generation.id] = generation.text
                self.flag_sequence += 1
                self.score_sample(generation, dict(self.finished_texts), self.flag_sequence)
            else:
                self.finish_sample(generation, None)

    def run_finished(self, summary: RunSummary | None, error: str) -> None:
        self.flush()
        if summary is None:
            self.set_status(error)
            self.notify(error, title="preview: not run", severity="error")
            return
        self.set_status(
            f"Run {summary.run_id}: {summary.ok} ok, {summary.error} failed, "
            f"{summary.cancelled} cancelled · {summary.completion_tokens} tokens · "
            f"{summary.elapsed_s:.1f}s · stored (F4 Runs)"
        )

    def resume_full_collections(self) -> None:
        """Once the run is over and every sample shows its end state, collect the heap.

        Called after the frame that shows the last sample finished, so the pass (tens of ms)
        happens while nothing streams.
        """
        if not self.full_collections.paused or self.preview_running:
            return
        if any(pane.state in ("waiting", "streaming") for pane in self.panes.values()):
            return
        self.call_after_refresh(self.full_collections.resume)

    def on_unmount(self) -> None:
        self.full_collections.resume(collect=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "preview-run":
            self.refresh_bindings()
            if event.worker.is_finished:
                self.resume_full_collections()
        if event.worker.group == "preview-run" and event.state == WorkerState.ERROR:
            self.flush()
            error = event.worker.error
            self.set_status(f"Preview failed: {type(error).__name__}: {error}")
            self.notify(str(error), title="preview: failed", severity="error")

    @work(thread=True, group="preview-score")
    def score_sample(self, generation: Generation, texts: dict[str, str], sequence: int) -> None:
        """Metrics for one finished sample and flags among all finished so far, off the UI."""
        from studio.metrics.scorer import TextScorer
        from studio.tui.generation import sample_flags

        score: dict[str, Any] | None = None
        flags: tuple[int, dict[str, int], dict[str, str]] | None = None
        try:
            # One scorer, reused for its caches; they are not thread-safe: one text at a time.
            with self.scorer_lock:
                if self.scorer is None:
                    self.scorer = TextScorer()
                score = self.scorer.score(generation.text or "").as_dict()
            flags = (sequence, *sample_flags(texts))
        except Exception as exc:  # the sample is stored either way; show it without numbers
            self.log.error(f"scoring sample {generation.id[:12]} failed: {exc!r}")
        self.post_message(SampleScored(generation, score, flags))

    def on_sample_scored(self, message: SampleScored) -> None:
        if message.flags is not None and message.flags[0] >= self.flags_shown:
            self.flags_shown, self.pending_flags = message.flags[0], message.flags[1:]
        self.finish_sample(message.generation, message.score)

    def finish_sample(self, generation: Generation, score: dict[str, Any] | None) -> None:
        """Show a finished sample; once none streams, every sample's details and the flags.

        While others stream, a sample shows its end state and one line (no layout); the
        details and badges, which change the panes' heights, come together at the end: one
        layout pass, after the streams.
        """
        pane = self.panes.get(generation.id)
        live = [p for p in self.live_panes() if p is not pane]
        if pane is not None:
            pane.finished(generation, score, brief=bool(live))
        if live:
            return
        with self.app.batch_update():
            for each in self.panes.values():
                each.show_details()
            if self.pending_flags is not None:
                near_dups, openings = self.pending_flags
                self.pending_flags = None
                for job_id, each in self.panes.items():
                    cluster = near_dups.get(job_id)
                    each.set_badge(
                        "near-dup", f"≈ near-duplicate group {cluster}" if cluster else None
                    )
                    opening = openings.get(job_id)
                    each.set_badge("opening", f"shared opening “{opening}…”" if opening else None)
        self.call_later(self.resume_full_collections)

    def action_cancel(self) -> None:
        if self.preview is None or not self.preview_running:
            return
        self.preview.cancel()
        self.set_status("Cancelling: partial texts are kept as cancelled…")

    def focused_pane(self) -> SamplePane | None:
        """The sample pane holding the focus (its text), if any."""
        node = self.focused
        while node is not None and not isinstance(node, SamplePane):
            node = node.parent  # type: ignore[assignment]
        return node

    def cancel_panes(self, panes: list[SamplePane], what: str) -> None:
        live = [pane for pane in panes if pane.state in ("waiting", "streaming")]
        if self.preview is None or not self.preview_running or not live:
            self.notify(f"{what}: nothing left to cancel", severity="warning")
            return
        self.preview.cancel_jobs([pane.job_id for pane in live])
        for pane in live:
            pane.cancelling()

    def live_panes(self) -> list[SamplePane]:
        return [pane for pane in self.panes.values() if pane.state in ("waiting", "streaming")]

    def action_cancel_sample(self) -> None:
        """Cancel the focused sample, or pick one to cancel; the others stream on."""
        pane = self.focused_pane()
        if pane is not None:
            self.cancel_panes([pane], pane.title_text)
            return
        live = {pane.job_id: pane for pane in self.live_panes()}
        if not live:
            self.notify("Every sample has finished.", severity="warning")
            return
        options = [(job_id, f"{self.pane_models[job_id]} · {pane.title_text}")
                   for job_id, pane in live.items()]  # fmt: skip

        def picked(job_id: str | None) -> None:
            if job_id is not None and job_id in self.panes:
                self.cancel_panes([self.panes[job_id]], self.panes[job_id].title_text)

        self.app.push_screen(PickScreen("Cancel which sample?", options), picked)

    def action_cancel_model(self) -> None:
        """Cancel every sample of one model: the focused sample's, or one picked."""
        pane = self.focused_pane()

        def cancel(model: str | None) -> None:
            if model is not None:
                panes = [self.panes[i] for i, m in self.pane_models.items() if m == model]
                self.cancel_panes(panes, model)

        if pane is not None:
            cancel(self.pane_models[pane.job_id])
            return
        models = list(dict.fromkeys(self.pane_models[pane.job_id] for pane in self.live_panes()))
        if not models:
            self.notify("Every sample has finished.", severity="warning")
            return
        self.app.push_screen(
            PickScreen("Cancel every sample of which model?", [(m, m) for m in models]), cancel
        )

    def palette_commands(self) -> Iterable[SystemCommand]:
        yield SystemCommand("preview: run", "Stream samples (ctrl+j)", self.action_run)
        yield SystemCommand("preview: cancel", "Cancel the running preview", self.action_cancel)
        yield SystemCommand(
            "preview: cancel sample", "Cancel one sample (x)", self.action_cancel_sample
        )
        yield SystemCommand(
            "preview: cancel model",
            "Cancel every sample of one model (X)",
            self.action_cancel_model,
        )
        yield SystemCommand("preview: toggle view", "Prompt or samples", self.action_toggle_view)
        for name, selector in (("personas", "#pv-personas"), ("topic", "#pv-topic"),
                               ("style", "#pv-style"), ("models", "#pv-models"),
                               ("samples", "#pv-n")):  # fmt: skip
            yield SystemCommand(
                f"preview: choose {name}", f"Focus the {name} control", self._focus(selector)
            )

    def _focus(self, selector: str) -> Callable[[], None]:
        return lambda: self.action_jump(selector)
