"""Recipe drafts (the export screen's model), live plans and safe cancelling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.mix import RecipeError, export_mixture, load_recipe
from studio.mix.draft import RecipeDraft, SourceDraft, format_gates, parse_gates
from studio.mix.plan import (
    ExportCancelled,
    SourceSupply,
    cancellable,
    measure_source,
    plan_mixture,
    supply_key,
)
from studio.store import Store


def web_file(folder: Path, texts: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "web.jsonl"
    lines = [json.dumps({"body": t}) for t in texts]
    path.write_text("\n".join([*lines, "{broken"]) + "\n", encoding="utf-8")
    return path


def two_sources(web: Path) -> RecipeDraft:
    return RecipeDraft(
        name="blend",
        seed="7",
        budget_tokens="1000",
        sources=[
            SourceDraft(
                "textbooks", runs=["r1"], personas=["college"], weight="0.75",
                gates=parse_gates("dup_line_frac: <= 0.3, fineweb: keep"),
            ),
            SourceDraft("web", kind="file", path=str(web), text_field="body", weight="0.25"),
        ],
        near_threshold="0.8",
        shard_docs="50",
    )  # fmt: skip


def test_gate_text_round_trips() -> None:
    gates = parse_gates("dup_line_frac: <= 0.3, fineweb: keep,  c4 ")
    assert gates == {"dup_line_frac": "<= 0.3", "fineweb": "keep", "c4": ""}
    assert parse_gates(format_gates(gates)) == gates


def test_saved_draft_loads_with_the_same_sources_and_relative_paths(tmp_path: Path) -> None:
    web = web_file(tmp_path / "data", ["Some web text."])
    draft = two_sources(web)
    path = tmp_path / "recipes" / "blend.yaml"
    path.parent.mkdir()
    saved = draft.save(path)
    assert "path: ../data/web.jsonl" in path.read_text("utf-8")
    loaded = load_recipe(path)
    assert loaded.sources == saved.sources
    assert [(s.name, s.weight) for s in loaded.sources] == [("textbooks", 0.75), ("web", 0.25)]
    assert loaded.sources[1].path == web.resolve()
    assert [str(g) for g in loaded.sources[0].gates] == ["dup_line_frac <= 0.3", "fineweb: keep"]
    assert (loaded.seed, loaded.budget_tokens, loaded.output.shard_docs) == (7, 1000, 50)
    assert loaded.dedup.near_threshold == 0.8
    # Opening the file gives back the same draft.
    again = RecipeDraft.from_recipe(loaded)
    assert again.document(path.parent) == draft.document(path.parent)


def test_a_bad_draft_names_the_field_and_writes_nothing(tmp_path: Path) -> None:
    draft = RecipeDraft(name="x", sources=[SourceDraft("a", runs=["r"], weight="lots")])
    path = tmp_path / "x.yaml"
    with pytest.raises(RecipeError) as info:
        draft.save(path)
    assert [e.field for e in info.value.errors] == ["sources[0].weight"]
    assert not path.exists()
    draft.sources[0].weight = "2"
    draft.sources[0].gates = {"dup_line_fraction": "<= 0.3"}
    with pytest.raises(RecipeError) as info:
        draft.check(path)
    assert "did you mean 'dup_line_frac'" in info.value.errors[0].message


def test_plan_splits_the_budget_and_reports_short_sources(tmp_path: Path) -> None:
    recipe = two_sources(web_file(tmp_path, ["x"])).check(tmp_path / "r.yaml")
    plans = plan_mixture(recipe, {"textbooks": SourceSupply(10, 900), "web": SourceSupply(3, 100)})
    assert [(p.name, p.asked_tokens) for p in plans] == [("textbooks", 750), ("web", 250)]
    assert [p.share for p in plans] == [0.75, 0.25]
    assert [p.deficit_tokens for p in plans] == [0, 150]


def test_plan_without_budget_waits_for_every_weighted_supply(tmp_path: Path) -> None:
    draft = two_sources(web_file(tmp_path, ["x"]))
    draft.budget_tokens = ""
    recipe = draft.check(tmp_path / "r.yaml")
    waiting = plan_mixture(recipe, {"web": SourceSupply(3, 100)})
    assert [p.asked_tokens for p in waiting] == [None, None]
    plans = plan_mixture(recipe, {"textbooks": SourceSupply(10, 900), "web": SourceSupply(3, 100)})
    # The largest mixture keeping 3:1: web (100 tokens) is the limit.
    assert [p.asked_tokens for p in plans] == [300, 100]
    assert [p.deficit_tokens for p in plans] == [0, 0]


def test_measure_counts_what_the_export_reads(tmp_path: Path) -> None:
    web = web_file(tmp_path, ["One two three.", "   ", "Four five."])
    recipe = two_sources(web).check(tmp_path / "r.yaml")
    supply = measure_source(recipe.sources[1], None, recipe.tokenizer)
    assert (supply.docs, supply.problems) == (2, 1)
    assert supply.tokens > 0
    key = supply_key(recipe.sources[1], recipe.tokenizer)
    assert key == supply_key(recipe.sources[1], recipe.tokenizer)
    web.write_text(json.dumps({"body": "changed"}) + "\n", encoding="utf-8")
    assert supply_key(recipe.sources[1], recipe.tokenizer) != key


def test_cancelling_stops_before_the_output_folder_is_touched(tmp_path: Path) -> None:
    web = web_file(tmp_path, [f"Text number {i} about rivers." for i in range(5)])
    draft = RecipeDraft(
        name="w", sources=[SourceDraft("web", kind="file", path=str(web), text_field="body")]
    )
    recipe = draft.check(tmp_path / "w.yaml")
    out = tmp_path / "out"
    first = export_mixture(recipe, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    seen: list[str] = []
    with pytest.raises(ExportCancelled), Store(tmp_path / "s.db") as store:
        export_mixture(
            recipe, out, store, cancellable(lambda s, d, t: seen.append(s), lambda: True)
        )
    assert seen == []
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # Once writing has begun, a stop request is ignored: the export finishes whole.
    stages: list[str] = []
    stop = cancellable(lambda s, d, t: stages.append(s), lambda: "tokens" in stages)
    second = export_mixture(recipe, out, None, stop)
    assert second.manifest == first.manifest
    assert stages[-1] == "write"


def test_saving_over_a_recipe_keeps_its_comments_and_changes_only_what_changed(
    tmp_path: Path,
) -> None:
    web = web_file(tmp_path / "data", ["Some web text."])
    path = tmp_path / "blend.yaml"
    two_sources(web).save(path)
    text = path.read_text("utf-8")
    text = "# Our spring blend: textbooks first.\n" + text.replace(
        "  - name: web\n", "  # web text from the crawl\n  - name: web\n"
    ).replace("dedup:\n", "dedup:  # near copies out\n")
    path.write_text(text, encoding="utf-8")
    draft = RecipeDraft.from_recipe(load_recipe(path))
    draft.save(path)
    assert path.read_text("utf-8") == text  # nothing changed: the same bytes
    draft.sources[1].weight = "0.4"
    draft.near_threshold = ""  # cleared in the form: the key goes
    draft.description = "Now with more web text."
    draft.save(path)
    saved = path.read_text("utf-8")
    assert "# Our spring blend: textbooks first." in saved
    assert "# web text from the crawl" in saved and "# near copies out" in saved
    assert "near_threshold" not in saved
    loaded = load_recipe(path)
    assert [s.weight for s in loaded.sources] == [0.75, 0.4]
    assert loaded.description == "Now with more web text." and loaded.dedup.near_threshold is None
