"""Fixtures for the TUI tests: a library copy, a real SQLite file with runs, no cursor blink."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from textual.app import App
    from textual.pilot import Pilot

TEXTS_A = [
    "Light bends when it passes from air into water because its speed changes. "
    "The ratio of the speeds is the refractive index, and Snell's law relates the angles.",
    "A lens focuses light by refraction at two curved surfaces. The focal length depends on "
    "the curvature and on the refractive index of the glass.",
    "Total internal reflection happens when light meets a boundary beyond the critical angle. "
    "Optical fibres carry signals this way over long distances.",
]
TEXTS_B = [
    "Once upon a time a ray of light went swimming. It slowed down in the water and turned.",
    "Once upon a time a ray of light went swimming. It slowed down in the water and turned.",
    "Once upon a time a little lens wanted to help its friends see the stars at night.",
]


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots differ from one run to the next."""
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input.cursor_blink, "_default", False)
    monkeypatch.setattr(TextArea.cursor_blink, "_default", False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")


def seed_run(db_path: Path, library_dir: Path, name: str, texts: list[str], stamp: str) -> str:
    """A finished run of ``texts`` on the offline model, stored the way a run stores them."""
    from studio.library import load_library
    from studio.prompts import render_prompt
    from studio.store import Generation, Store

    library = load_library(library_dir)
    persona = library.persona("high-school")
    topic = library.topics()[3]
    style = library.style("textbook-academic")
    prompt = render_prompt(persona, topic, style)
    with Store(db_path) as store:
        run = store.create_run(
            {"models": ["offline/default"], "personas": [persona.id], "styles": [style.id]},
            name=name,
            n_jobs=len(texts),
            run_id=f"{stamp[:10].replace('-', '')}-{name}",
        )
        store.save_prompt(prompt)
        for index, text in enumerate(texts):
            store.record_generation(
                Generation(
                    id=f"{name}-{index}",
                    run_id=run.id,
                    prompt_hash=prompt.hash,
                    model="offline/default",
                    sample_index=index,
                    params={"temperature": 0.7},
                    status="ok",
                    persona_id=persona.id,
                    topic_path=topic.path,
                    style_id=style.id,
                    text=text,
                    finish_reason="stop",
                    prompt_tokens=100,
                    completion_tokens=len(text.split()),
                    latency_ms=1200.0,
                    ttft_ms=80.0,
                    created_at=stamp,
                )
            )
        store.set_run_status(run.id, "done")
        # Fixed times, so screenshots do not depend on the clock.
        store.conn.execute(
            "UPDATE runs SET created_at = ?, updated_at = ? WHERE id = ?", (stamp, stamp, run.id)
        )
        return run.id


@pytest.fixture
def db_with_runs(tmp_path: Path, library_copy: Path) -> tuple[Path, list[str]]:
    db_path = tmp_path / "studio.db"
    ids = [
        seed_run(db_path, library_copy, "optics-plain", TEXTS_A, "2026-01-05T10:00:00.000Z"),
        seed_run(db_path, library_copy, "optics-story", TEXTS_B, "2026-01-06T11:30:00.000Z"),
    ]
    return db_path, ids


async def settle(app: App[object], pilot: Pilot[object]) -> None:
    """Wait until every worker is done and the messages they posted are handled.

    Exclusive workers (a re-render replacing an older one) end cancelled; that is expected.
    """
    from textual.worker import WorkerCancelled

    for _ in range(3):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await pilot.pause()
