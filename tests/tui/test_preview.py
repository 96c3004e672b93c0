"""Preview: stream samples from offline models side by side, cancel mid-stream, store the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, SelectionList, TabbedContent

from studio.store import Store
from studio.tui.app import StudioApp
from studio.tui.screens.dialogs import PickScreen
from studio.tui.screens.preview import PreviewScreen
from tests.generate.loopback import LoopbackServer
from tests.tui.conftest import settle

SIZE = (160, 50)


def preview_app(tmp_path: Path, library: Path) -> StudioApp:
    return StudioApp(db_path=tmp_path / "studio.db", library_dir=library, start_mode="preview")


async def wait_until_done(app: StudioApp, pilot: object, screen: PreviewScreen) -> None:
    assert screen.preview_worker is not None
    await screen.preview_worker.wait()
    await settle(app, pilot)


async def test_prompt_tab_shows_the_rendered_messages(tmp_path: Path, library_copy: Path) -> None:
    app = preview_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PreviewScreen)
        assert screen.query_one("#pv-tabs", TabbedContent).active == "pv-prompt-tab"
        assert screen.prompts and screen.prompts[0].messages[-1].role == "user"
        assert "offline/default" in screen.chosen_models()


async def test_three_offline_models_stream_side_by_side_and_are_stored(
    tmp_path: Path, library_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_OFFLINE_PACE_MS", "1")
    app = preview_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PreviewScreen)
        models = screen.query_one("#pv-models", SelectionList)
        models.select("offline/fast")
        models.select("offline/instant")
        screen.query_one("#pv-n", Input).value = "2"
        screen.query_one("#pv-max-tokens", Input).value = "120"
        await pilot.pause()
        await pilot.press("ctrl+j")
        await wait_until_done(app, pilot, screen)
        assert screen.query_one("#pv-tabs", TabbedContent).active == "pv-samples-tab"
        assert len(screen.query(".model-column")) == 3
        assert len(screen.panes) == 6
        assert {pane.state for pane in screen.panes.values()} == {"done"}
        assert all(pane.text for pane in screen.panes.values())
        run_id = screen.run_id
    assert run_id is not None
    with Store(tmp_path / "studio.db") as store:
        run = store.get_run(run_id)
        gens = store.generations(run_id)
    assert run.status == "done"
    assert run.n_ok == 6
    assert {g.model for g in gens} == {"offline/default", "offline/fast", "offline/instant"}
    assert all(g.text and g.ttft_ms is not None for g in gens)


async def test_x_picks_one_sample_to_cancel_and_the_others_finish(
    tmp_path: Path, library_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each offline model at its own pace: offline/slow streams for ~15 s unless cancelled.
    monkeypatch.delenv("STUDIO_OFFLINE_PACE_MS", raising=False)
    app = preview_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PreviewScreen)
        models = screen.query_one("#pv-models", SelectionList)
        models.deselect("offline/default")
        models.select("offline/slow")
        models.select("offline/fast")
        models.select("offline/instant")
        screen.query_one("#pv-n", Input).value = "1"
        screen.query_one("#pv-max-tokens", Input).value = "600"
        await pilot.pause()
        await pilot.press("ctrl+j")
        for _ in range(400):
            await pilot.pause(0.02)
            if screen.panes and all(pane.text for pane in screen.panes.values()):
                break
        # Nothing focused in the panes: x asks which sample.
        await pilot.press("x")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickScreen)
        options = picker.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        options.highlighted = next(i for i, label in enumerate(labels)
                                   if label.startswith("offline/slow"))  # fmt: skip
        await pilot.press("enter")
        await wait_until_done(app, pilot, screen)
        states = {screen.pane_models[p.job_id]: p.state for p in screen.panes.values()}
        assert states == {
            "offline/slow": "cancelled", "offline/fast": "done", "offline/instant": "done"
        }  # fmt: skip
        run_id = screen.run_id
    assert run_id is not None
    with Store(tmp_path / "studio.db") as store:
        gens = {g.model: g for g in store.generations(run_id)}
        run = store.get_run(run_id)
    assert gens["offline/slow"].status == "cancelled" and gens["offline/slow"].text
    assert gens["offline/fast"].status == gens["offline/instant"].status == "ok"
    assert (run.n_ok, run.n_cancelled) == (2, 1)


async def test_escape_cancels_and_keeps_partial_texts(
    tmp_path: Path, library_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_OFFLINE_PACE_MS", "40")
    app = preview_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PreviewScreen)
        await pilot.press("ctrl+j")
        # Wait for text to arrive in a pane, then cancel.
        for _ in range(400):
            await pilot.pause(0.05)
            if any(pane.text for pane in screen.panes.values()):
                break
        assert any(pane.text for pane in screen.panes.values())
        await pilot.press("escape")
        await wait_until_done(app, pilot, screen)
        assert {pane.state for pane in screen.panes.values()} == {"cancelled"}
        run_id = screen.run_id
    assert run_id is not None
    with Store(tmp_path / "studio.db") as store:
        run = store.get_run(run_id)
        gens = store.generations(run_id)
    assert run.status == "interrupted"
    assert {g.status for g in gens} == {"cancelled"}
    assert any(g.text for g in gens)


@pytest.fixture(scope="module")
def loopback() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    yield server
    server.stop()


async def test_preview_against_an_openai_compatible_server(
    tmp_path: Path, library_copy: Path, loopback: LoopbackServer
) -> None:
    """A rate limit on the first call is retried; both samples stream and are stored."""
    loopback.script("tui-loopback", "429:0", chunk_delay=0.005, words=30)
    app = preview_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PreviewScreen)
        screen.query_one("#pv-models", SelectionList).deselect_all()
        screen.query_one("#pv-extra", Input).value = "tui-loopback"
        screen.query_one("#pv-api-base", Input).value = loopback.base_url
        await pilot.pause()
        await pilot.press("ctrl+j")
        await wait_until_done(app, pilot, screen)
        assert {pane.state for pane in screen.panes.values()} == {"done"}
        run_id = screen.run_id
    assert run_id is not None
    with Store(tmp_path / "studio.db") as store:
        gens = store.generations(run_id)
    assert [g.status for g in gens] == ["ok", "ok"]
    assert all(g.model == "tui-loopback" and g.text for g in gens)
    assert max(g.attempts for g in gens) == 2
    assert len(loopback.requests_for("tui-loopback")) == 3


async def test_sampling_parameters_reach_the_stored_run_and_bad_ones_are_refused(
    tmp_path: Path, library_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIO_OFFLINE_PACE_MS", "1")
    app = preview_app(tmp_path, library_copy)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PreviewScreen)
        screen.query_one("#pv-n", Input).value = "1"
        screen.query_one("#pv-top-p", Input).value = "1.5"
        await pilot.press("ctrl+j")
        await pilot.pause()
        assert screen.preview_worker is None  # refused before anything ran
        assert any("Top p" in n.message for n in app._notifications)
        screen.query_one("#pv-top-p", Input).value = "0.5"
        screen.query_one("#pv-temperature", Input).value = "0.8"
        screen.query_one("#pv-seed", Input).value = "7"
        screen.query_one("#pv-max-tokens", Input).value = "60"
        await pilot.press("ctrl+j")
        await wait_until_done(app, pilot, screen)
        run_id = screen.run_id
    assert run_id is not None
    with Store(tmp_path / "studio.db") as store:
        (gen,) = store.generations(run_id)
    assert gen.status == "ok"
    assert gen.params["top_p"] == 0.5 and gen.params["temperature"] == 0.8
    assert gen.params["seed"] == 7 and gen.params["max_tokens"] == 60
