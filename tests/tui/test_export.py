"""Export screen: sources and weights, live proportions, the export worker, the recipe file."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from textual.widgets import Input, OptionList, SelectionList, Static

from studio.mix import load_recipe
from studio.mix.plan import measure_source
from studio.tui.app import StudioApp
from studio.tui.screens.export import ExportProgress, ExportScreen, manifest_summary
from studio.tui.screens.help import HelpScreen
from studio.tui.widgets.mixture_bars import MixtureBars
from tests.mix.test_export import prose
from tests.tui.conftest import TEXTS_A, TEXTS_B, seed_run, settle

if TYPE_CHECKING:
    from textual.message import Message

SIZE = (120, 40)


def web_jsonl(tmp_path: Path) -> Path:
    rng = random.Random(3)
    lines = [json.dumps({"body": prose(rng, 4), "url": f"https://x.org/{i}"}) for i in range(12)]
    lines.append("{not json")
    path = tmp_path / "data" / "web.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def test_two_sources_proportions_export_and_saved_recipe(
    tmp_path: Path, library_copy: Path
) -> None:
    db = tmp_path / "studio.db"
    run_a = seed_run(db, library_copy, "optics-plain", TEXTS_A, "2026-01-05T10:00:00.000Z")
    seed_run(db, library_copy, "optics-story", TEXTS_B, "2026-01-06T11:30:00.000Z")
    web = web_jsonl(tmp_path)
    recipe_path = tmp_path / "recipes" / "blend.yaml"
    recipe_path.parent.mkdir()

    app = StudioApp(db_path=db, library_dir=library_copy, start_mode="runs")
    seen: list[Message] = []
    async with app.run_test(size=SIZE, message_hook=seen.append) as pilot:
        await settle(app, pilot)
        await pilot.press("f5")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#ex-recipe-path", Input).value = str(recipe_path)
        screen.query_one("#ex-name", Input).value = "blend"
        screen.query_one("#ex-budget", Input).value = "400"
        screen.query_one("#ex-shard-docs", Input).value = "5"
        await settle(app, pilot)

        # A stored source: one run, ticked in the picker.
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        runs = screen.query_one("#ex-src-runs", SelectionList)
        assert runs.option_count == 2
        runs.select(run_a)
        screen.query_one("#ex-src-name", Input).value = "textbooks"
        screen.query_one("#ex-src-amount-value", Input).value = "3"
        await settle(app, pilot)

        # An external file, relative to the recipe's folder, with its text field.
        await pilot.press("ctrl+f")
        await settle(app, pilot)
        screen.query_one("#ex-src-path", Input).value = "../data/web.jsonl"
        screen.query_one("#ex-src-field", Input).value = "body"
        screen.query_one("#ex-src-amount-value", Input).value = "1"
        await settle(app, pilot)

        assert screen.errors == []
        assert screen.recipe is not None
        assert [(s.name, s.weight) for s in screen.recipe.sources] == [
            ("textbooks", 3.0),
            ("web", 1.0),
        ]
        # Proportions: 3:1 of a 400-token budget; supply counted as the export reads it.
        plans = {p.name: p for p in screen.plans}
        assert (plans["textbooks"].asked_tokens, plans["web"].asked_tokens) == (300, 100)
        assert (plans["textbooks"].share, plans["web"].share) == (0.75, 0.25)
        web_supply = measure_source(screen.recipe.sources[1], None, "cl100k_base")
        assert plans["web"].supply == web_supply
        assert web_supply.docs == 12 and web_supply.problems == 1
        assert plans["textbooks"].supply is not None
        assert plans["textbooks"].supply.docs == 3
        # Three short optics texts cannot give 300 tokens: the deficit shows.
        assert plans["textbooks"].deficit_tokens == 300 - plans["textbooks"].supply.tokens > 0
        assert plans["web"].deficit_tokens == 0
        shown = str(screen.query_one("#ex-bars", MixtureBars).render())
        assert "75%" in shown and "25%" in shown
        assert f"short {plans['textbooks'].deficit_tokens:,}" in shown
        assert f"has {web_supply.tokens:,} tok in 12 docs" in shown

        # Changing a weight moves the bars without recounting.
        screen.query_one("#ex-src-amount-value", Input).value = "3"
        await settle(app, pilot)
        assert [p.share for p in screen.plans] == [0.5, 0.5]
        screen.query_one("#ex-src-amount-value", Input).value = "1"
        await settle(app, pilot)

        # Export in a worker; the summary shows the manifest.
        await pilot.press("ctrl+j")
        await settle(app, pilot)
        assert not screen.exporting
        out = recipe_path.parent / "exports" / "blend"
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        assert screen.manifest == manifest
        shards = sorted(out.glob("shard-*.jsonl"))
        assert [s.name for s in shards] == [s["file"] for s in manifest["shards"]]
        docs = [json.loads(line) for s in shards for line in s.read_text("utf-8").splitlines()]
        totals = manifest["totals"]
        assert totals["docs"] == len(docs) == sum(s["docs"] for s in manifest["shards"])
        assert totals["tokens"] == sum(d["n_tokens"] for d in docs)
        assert all(s["docs"] <= 5 for s in manifest["shards"])
        by_source = {s["name"]: s for s in manifest["sources"]}
        assert by_source["textbooks"]["asked_tokens"] == 300
        assert by_source["web"]["asked_tokens"] == 100
        assert by_source["web"]["skipped_lines"] == 1
        assert sum(s["delivered_docs"] for s in manifest["sources"]) == totals["docs"]
        removed = sum(s["removed"] for s in manifest["stages"])
        available = sum(s["available_docs"] for s in manifest["sources"])
        assert removed + available == 3 + 12
        assert not screen.query_one("#ex-summary-box").has_class("-hidden")
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(manifest_summary(manifest, out))
        summary = console.export_text()
        assert f"Wrote {totals['docs']:,} documents, {totals['tokens']:,} tokens" in summary
        assert f"⚠ {by_source['textbooks']['deficit_tokens']:,}" in summary

        # The progress bar was fed stage by stage, ending with the shards written.
        stages = [m.stage for m in seen if isinstance(m, ExportProgress)]
        assert stages[0] == "read" and stages[-1] == "write" and "tokens" in stages

        # Escape before the export starts writing stops it and leaves the last export alone.
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        # Both on this tick: the worker's thread cannot have started yet.
        screen.action_run_export()
        screen.action_cancel_export()
        await settle(app, pilot)
        assert not screen.exporting
        assert "cancelled" in str(screen.query_one("#ex-status", Static).render())
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before

        # Save: the file loads with the same sources and weights, paths relative to it.
        await pilot.press("ctrl+s")
        await settle(app, pilot)
    saved = load_recipe(recipe_path)
    assert [(s.name, s.weight, s.tokens) for s in saved.sources] == [
        ("textbooks", 3.0, None),
        ("web", 1.0, None),
    ]
    assert saved.sources[0].runs == (run_a,)
    assert saved.sources[1].path == web.resolve()
    assert saved.sources[1].text_field == "body"
    assert (saved.budget_tokens, saved.output.shard_docs) == (400, 5)
    assert "path: ../data/web.jsonl" in recipe_path.read_text("utf-8")


async def test_recipe_errors_show_inline_and_a_bad_file_does_not_crash(
    tmp_path: Path, library_copy: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsources:\n  - name: a\n    weight: -1\n", encoding="utf-8")
    app = StudioApp(db_path=tmp_path / "studio.db", library_dir=library_copy, start_mode="export")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        await pilot.press("ctrl+n")
        await settle(app, pilot)
        screen.query_one("#ex-src-amount-value", Input).value = "heavy"
        await settle(app, pilot)
        assert screen.recipe is None
        assert any(e.startswith("sources[0]: needs a path") for e in screen.errors)
        assert any(e.startswith("sources[0].weight:") for e in screen.errors)
        assert not screen.query_one("#ex-errors").has_class("-hidden")

        # ctrl+j with a broken recipe shows the problems and starts nothing.
        await pilot.press("ctrl+j")
        await settle(app, pilot)
        assert not screen.exporting and screen.manifest is None

        # Opening a bad recipe file lists file:line: field: message.
        screen.query_one("#ex-recipe-path", Input).value = str(bad)
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        shown = str(screen.query_one("#ex-errors").render())
        assert f"{bad}:4: sources[0].weight: must be greater than 0" in shown
        # Saving a broken draft writes nothing.
        target = tmp_path / "never.yaml"
        screen.query_one("#ex-recipe-path", Input).value = str(target)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert not target.exists()


async def test_open_a_recipe_file_fills_the_form(tmp_path: Path, library_copy: Path) -> None:
    web = web_jsonl(tmp_path)
    path = tmp_path / "mix.yaml"
    path.write_text(
        "name: webonly\nbudget_tokens: 50\nsources:\n"
        "  - {name: a, path: data/web.jsonl, text_field: body, tokens: 20}\n"
        "  - {name: b, path: data/web.jsonl, text_field: body, weight: 1,"
        " gates: {fineweb: keep}}\n",
        encoding="utf-8",
    )
    app = StudioApp(db_path=tmp_path / "studio.db", library_dir=library_copy, start_mode="export")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        screen.query_one("#ex-recipe-path", Input).value = str(path)
        await pilot.press("ctrl+o")
        await settle(app, pilot)
        assert [s.name for s in screen.draft.sources] == ["a", "b"]
        assert screen.query_one("#ex-sources", OptionList).option_count == 2
        assert screen.query_one("#ex-src-path", Input).value == "data/web.jsonl"
        assert screen.query_one("#ex-name", Input).value == "webonly"
        plans = {p.name: p for p in screen.plans}
        assert (plans["a"].asked_tokens, plans["b"].asked_tokens) == (20, 30)
        assert plans["a"].supply == plans["b"].supply  # one file, counted once
        assert plans["a"].supply is not None and plans["a"].supply.docs == 12
        await pilot.press("ctrl+p")
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(screen)}
        assert {"export: run", "export: save recipe", "export: open", "go: export"} <= titles
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "ctrl+j" in app.screen._text()
    assert web.exists()
