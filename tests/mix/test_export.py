"""Mixture export: recipe checking, removal stages, allocation, shards and manifest."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from studio.mix import RecipeError, export_mixture, load_recipe
from studio.mix.export import ExportError, exact_key
from studio.prompts import Message, Prompt
from studio.store import Generation, Store

if TYPE_CHECKING:
    from tests.conftest import CliRunner

WORDS = """
force mass energy motion velocity wave light heat atom field charge orbit planet cell
gene protein market price trade river mountain forest animal plant water stone window
garden music number shape line circle square triangle pattern measure balance weight
spring summer winter autumn morning evening question answer reason method result
""".split()
BENCHMARK_SENTENCE = "the quick brown fox jumps over the lazy dog near the quiet river bank at dawn"


def prose(rng: random.Random, n_sentences: int = 8) -> str:
    sentences = []
    for _ in range(n_sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 14))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def near_copy(text: str) -> str:
    words = text.split()
    words[len(words) // 2] = "unusual"
    return " ".join(words)


@pytest.fixture
def stored_run(tmp_path: Path) -> tuple[Path, str, list[str]]:
    """A run of 30 distinct texts plus an exact copy, a near copy and a contaminated text."""
    rng = random.Random(7)
    texts = [prose(rng) for _ in range(30)]
    texts.append(texts[0].upper())  # exact duplicate after normalisation
    texts.append(near_copy(texts[1]))  # near duplicate
    texts.append(prose(rng) + " " + BENCHMARK_SENTENCE.capitalize() + ".")  # contaminated
    texts.append("   \n  ")  # empty
    db = tmp_path / "studio.db"
    with Store(db) as store:
        run = store.create_run({"test": True}, name="textbooks", n_jobs=len(texts))
        prompt = Prompt((Message("user", "Write."),), "college", "physics/mechanics", "story", "en")
        store.save_prompt(prompt)
        for i, text in enumerate(texts):
            store.record_generation(
                Generation(
                    id=f"job{i:03d}",
                    run_id=run.id,
                    prompt_hash=prompt.hash,
                    model="offline/default",
                    sample_index=i,
                    params={},
                    status="ok",
                    persona_id="college" if i % 2 else "young-children",
                    topic_path="physics/mechanics/energy" if i % 3 else "physics/optics",
                    style_id="story",
                    text=text,
                )
            )
    return db, run.id, texts


@pytest.fixture
def web_jsonl(tmp_path: Path, stored_run: tuple[Path, str, list[str]]) -> Path:
    rng = random.Random(99)
    stored_texts = stored_run[2]
    lines = [json.dumps({"body": prose(rng), "url": f"https://example.com/{i}"}) for i in range(40)]
    lines.insert(5, json.dumps({"body": stored_texts[2]}))  # duplicates a stored text
    lines.insert(10, "{not json")
    lines.insert(12, json.dumps({"title": "no body"}))
    lines.insert(14, '{"body": "half a surrogate pair: \\udc00"}')  # valid JSON, not text
    path = tmp_path / "web.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def bench_jsonl(tmp_path: Path) -> Path:
    path = tmp_path / "bench.jsonl"
    path.write_text(json.dumps({"text": f"Q: {BENCHMARK_SENTENCE}?"}) + "\n", encoding="utf-8")
    return path


def write_recipe(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def mixed_recipe(tmp_path: Path, run_id: str, **extra: str) -> Path:
    return write_recipe(
        tmp_path,
        f"""\
name: textbooks-v1
seed: 11
budget_tokens: {extra.get("budget", "100000")}
sources:
  - name: textbooks
    runs: [{run_id}]
    weight: 0.6
  - name: web
    path: web.jsonl
    text_field: body
    weight: 0.4
{extra.get("upsample", "")}
dedup: {{exact: true, near_threshold: 0.8}}
decontaminate: {{against: [bench.jsonl], ngram: 10}}
output: {{format: jsonl, shard_docs: 16}}
""",
    )


def read_shards(out: Path, manifest: dict) -> list[dict]:  # type: ignore[type-arg]
    docs = []
    for shard in manifest["shards"]:
        data = (out / shard["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        rows = [json.loads(line) for line in data.decode().splitlines()]
        assert len(rows) == shard["docs"] <= 16
        assert sum(r["n_tokens"] for r in rows) == shard["tokens"]
        docs.extend(rows)
    return docs


def test_mixed_export_numbers_add_up(
    tmp_path: Path, stored_run: tuple[Path, str, list[str]], web_jsonl: Path, bench_jsonl: Path
) -> None:
    db, run_id, _ = stored_run
    recipe = load_recipe(mixed_recipe(tmp_path, run_id))
    out = tmp_path / "out"
    with Store(db) as store:
        result = export_mixture(recipe, out, store)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest == result.manifest
    docs = read_shards(out, manifest)

    sources = {s["name"]: s for s in manifest["sources"]}
    assert sources["textbooks"]["read_docs"] == 34
    assert sources["web"]["read_docs"] == 41
    assert sources["web"]["skipped_lines"] == 3
    assert any("invalid JSON" in p for p in sources["web"]["problems"])
    assert any("web.jsonl:15: lone surrogate U+DC00" in p for p in sources["web"]["problems"])
    assert any("no 'body' field" in p for p in sources["web"]["problems"])

    stages = {s["stage"]: s for s in manifest["stages"]}
    assert stages["empty"]["removed"] == 1
    assert stages["exact_dedup"]["removed"] == 2
    # The web copy of a stored text goes; the stored one (earlier source) stays.
    assert stages["exact_dedup"]["by_source"] == {"textbooks": 1, "web": 1}
    assert stages["decontaminate"]["removed"] == 1
    assert stages["near_dedup"]["removed"] == 1
    assert manifest["near_dup_clusters"] == 1

    # Every document read is accounted for: removed by a stage, or available to allocate.
    removed = sum(s["removed"] for s in manifest["stages"])
    available = sum(s["available_docs"] for s in manifest["sources"])
    assert removed + available == 34 + 41
    # Budget far above supply: each source delivers all it has and reports its deficit.
    for s in manifest["sources"]:
        assert s["delivered_docs"] == s["available_docs"]
        assert s["deficit_tokens"] == s["asked_tokens"] - s["delivered_tokens"] > 0
        assert s["upsampled_docs"] == 0
    assert manifest["totals"]["docs"] == len(docs) == available
    assert manifest["totals"]["tokens"] == sum(d["n_tokens"] for d in docs)

    # No exact or near duplicates and no contamination left.
    keys = [exact_key(d["text"]) for d in docs]
    assert len(keys) == len(set(keys))
    assert not any(BENCHMARK_SENTENCE in d["text"].lower() for d in docs)
    # The near copy (job031) goes; the original it copies (job001, earlier) stays.
    assert not any("unusual" in d["text"] for d in docs)
    assert any(d["provenance"].get("generation_id") == "job001" for d in docs)
    stored = [d for d in docs if d["source"] == "textbooks"]
    assert {"generation_id", "run_id", "persona", "topic", "style", "model"} <= set(
        stored[0]["provenance"]
    )
    web = [d for d in docs if d["source"] == "web"]
    assert set(web[0]["provenance"]) == {"file", "line"}


def test_export_is_byte_identical_and_replaces_its_previous_output(
    tmp_path: Path, stored_run: tuple[Path, str, list[str]], web_jsonl: Path, bench_jsonl: Path
) -> None:
    db, run_id, _ = stored_run
    recipe = load_recipe(mixed_recipe(tmp_path, run_id))
    with Store(db) as store:
        export_mixture(recipe, tmp_path / "a", store)
        export_mixture(recipe, tmp_path / "b", store)
        export_mixture(recipe, tmp_path / "a", store)  # over its own earlier export
    files_a = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files_a == sorted(p.name for p in (tmp_path / "b").iterdir())
    for name in files_a:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.endswith(".tmp")]


def test_budget_splits_by_weight(
    tmp_path: Path, stored_run: tuple[Path, str, list[str]], web_jsonl: Path, bench_jsonl: Path
) -> None:
    db, run_id, _ = stored_run
    recipe = load_recipe(mixed_recipe(tmp_path, run_id, budget="2000"))
    with Store(db) as store:
        manifest = export_mixture(recipe, tmp_path / "out", store).manifest
    sources = {s["name"]: s for s in manifest["sources"]}
    assert sources["textbooks"]["asked_tokens"] == 1200
    assert sources["web"]["asked_tokens"] == 800
    for s in sources.values():
        # Sampling stops at the first document that reaches the target.
        assert s["asked_tokens"] <= s["delivered_tokens"] < s["asked_tokens"] + 200
        assert s["deficit_tokens"] == 0


def test_upsampling_only_when_asked_and_capped(
    tmp_path: Path, stored_run: tuple[Path, str, list[str]], web_jsonl: Path, bench_jsonl: Path
) -> None:
    db, run_id, _ = stored_run
    path = mixed_recipe(tmp_path, run_id, budget="100000")
    text = path.read_text("utf-8").replace(
        "    weight: 0.6\n", "    weight: 0.6\n    upsample: 2\n"
    )
    path.write_text(text, encoding="utf-8")
    with Store(db) as store:
        manifest = export_mixture(load_recipe(path), tmp_path / "out", store).manifest
    textbooks = manifest["sources"][0]
    assert textbooks["delivered_docs"] == 2 * textbooks["available_docs"]
    assert textbooks["upsampled_docs"] == textbooks["available_docs"]
    assert textbooks["deficit_tokens"] > 0
    docs = read_shards(tmp_path / "out", manifest)
    assert (
        sum(1 for d in docs if d["provenance"].get("upsample_copy") == 1)
        == (textbooks["upsampled_docs"])
    )


def test_gates_remove_repetitive_texts(tmp_path: Path) -> None:
    rng = random.Random(3)
    clean = [prose(rng, 10) for _ in range(5)]
    looping = "\n".join(["The same line again and again here."] * 12)
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in [*clean, looping]), encoding="utf-8"
    )
    recipe = write_recipe(
        tmp_path,
        "name: gated\nsources:\n  - name: web\n    path: in.jsonl\n    weight: 1\n"
        "    gates: {dup_line_frac: '<= 0.3'}\n",
    )
    manifest = export_mixture(load_recipe(recipe), tmp_path / "out").manifest
    [gates] = [s for s in manifest["stages"] if s["stage"] == "gates"]
    assert gates["removed"] == 1
    assert gates["reasons"] == {"dup_line_frac <= 0.3": 1}
    assert manifest["totals"]["docs"] == 5


def test_bad_recipe_reports_every_problem_before_work(tmp_path: Path) -> None:
    path = write_recipe(
        tmp_path,
        """\
name: broken
budget_tokens: -5
sources:
  - name: a
    runs: [r1]
    path: x.jsonl
    weight: 1
  - name: a
    path: missing.jsonl
  - name: c
    personas: [college]
    tokens: 100
    gates: {dup_line_fraction: "<= 0.3", fineweb: drop, n_words: "about 50"}
dedup: {near_threshold: 1.5}
output: {format: csv}
""",
    )
    with pytest.raises(RecipeError) as info:
        load_recipe(path)
    lines = [str(e.relative_to(tmp_path)) for e in info.value.errors]
    assert lines == [
        "recipe.yaml:2: budget_tokens: must be a positive integer, got -5",
        "recipe.yaml:4: sources[0]: a source reads either a file (path) or stored generations "
        "(runs), not both",
        f"recipe.yaml:6: sources[0].path: no such file: {tmp_path / 'x.jsonl'}",
        "recipe.yaml:8: sources[1].name: duplicate source name 'a' (also on line 4)",
        "recipe.yaml:8: sources[1]: needs exactly one of weight or tokens",
        f"recipe.yaml:9: sources[1].path: no such file: {tmp_path / 'missing.jsonl'}",
        "recipe.yaml:13: sources[2].gates.dup_line_fraction: unknown metric; did you mean "
        "'dup_line_frac'?",
        "recipe.yaml:13: sources[2].gates.fineweb: a filter gate must be 'keep', got 'drop'",
        "recipe.yaml:13: sources[2].gates.n_words: expected a comparison like '<= 0.3', "
        "got 'about 50'",
        "recipe.yaml:14: dedup.near_threshold: must be in (0, 1], got 1.5",
        "recipe.yaml:15: output.format: must be one of jsonl, parquet, got 'csv'",
    ]


def test_refuses_a_folder_that_is_not_an_export(tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text(json.dumps({"text": "Some words here."}) + "\n")
    recipe = write_recipe(tmp_path, "name: x\nsources:\n  - {name: w, path: in.jsonl, weight: 1}\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    with pytest.raises(ExportError, match=r"holds no manifest\.json"):
        export_mixture(load_recipe(recipe), out)
    assert (out / "precious.txt").read_text() == "keep me"


def test_parquet_and_gzip_outputs_are_deterministic(tmp_path: Path) -> None:
    rng = random.Random(5)
    (tmp_path / "in.jsonl").write_text(
        "".join(json.dumps({"text": prose(rng)}) + "\n" for _ in range(20)), encoding="utf-8"
    )
    for fmt, compression, suffix in (("parquet", "none", ".parquet"), ("jsonl", "gzip", ".gz")):
        recipe = write_recipe(
            tmp_path,
            f"name: x\nsources:\n  - {{name: w, path: in.jsonl, weight: 1}}\n"
            f"output: {{format: {fmt}, compression: {compression}, shard_docs: 8}}\n",
        )
        first = export_mixture(load_recipe(recipe), tmp_path / f"{fmt}1").manifest
        second = export_mixture(load_recipe(recipe), tmp_path / f"{fmt}2").manifest
        assert [s["sha256"] for s in first["shards"]] == [s["sha256"] for s in second["shards"]]
        assert len(first["shards"]) == 3 and first["shards"][0]["file"].endswith(suffix)
        assert first["totals"]["docs"] == 20


def test_cli_export(
    run_cli: CliRunner,
    tmp_path: Path,
    stored_run: tuple[Path, str, list[str]],
    web_jsonl: Path,
    bench_jsonl: Path,
) -> None:
    db, run_id, _ = stored_run
    recipe = mixed_recipe(tmp_path, run_id[:15])
    result = run_cli("--db", str(db), "export", str(recipe), "--out", str(tmp_path / "cli"))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "short by" in result.stderr
    manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text("utf-8"))
    assert manifest["totals"]["shards"] == len(list((tmp_path / "cli").glob("shard-*.jsonl")))
    bad = write_recipe(tmp_path, "name: x\nsources: []\nseed: many\n")
    failed = run_cli("export", str(bad), "--out", str(tmp_path / "bad"))
    assert failed.returncode == 1
    assert sorted(failed.stderr.splitlines()) == [
        "recipe.yaml:2: sources: must list at least one source",
        "recipe.yaml:3: seed: expected an integer, got a string",
    ]
    assert not (tmp_path / "bad").exists()


def test_numeric_run_prefix_reads_as_a_run_id(
    tmp_path: Path, stored_run: tuple[Path, str, list[str]]
) -> None:
    db, run_id, _ = stored_run
    prefix = run_id.split("-")[0]  # all digits: YAML reads it as an integer
    recipe = write_recipe(
        tmp_path, f"name: x\nsources:\n  - {{name: s, runs: [{prefix}], weight: 1}}\n"
    )
    loaded = load_recipe(recipe)
    assert loaded.sources[0].runs == (prefix,)
    with Store(db) as store:
        manifest = export_mixture(loaded, tmp_path / "out", store).manifest
    assert manifest["sources"][0]["read_docs"] == 34


def test_stored_token_counts_are_reused_and_equal_fresh_counts(
    tmp_path: Path,
    stored_run: tuple[Path, str, list[str]],
    web_jsonl: Path,
    bench_jsonl: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import studio.tokens
    from studio.scoring import score_run

    db, run_id, _ = stored_run
    recipe = load_recipe(mixed_recipe(tmp_path, run_id))
    with Store(db) as store:
        fresh = export_mixture(recipe, tmp_path / "fresh", store).manifest
        score_run(store, run_id)  # stores n_tokens with every text's metrics
        counted: list[str] = []
        real_job = studio.tokens.TokenCountJob

        def recording_job(texts: list[str], *args: object, **kwargs: object) -> object:
            counted.extend(texts)
            return real_job(texts, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(studio.tokens, "TokenCountJob", recording_job)
        reused = export_mixture(recipe, tmp_path / "reused", store).manifest
    # Only the web file's 41 texts were counted; the stored run's came with their scores.
    assert len(counted) == 41
    assert reused["totals"] == fresh["totals"]
    assert [s["delivered_tokens"] for s in reused["sources"]] == [
        s["delivered_tokens"] for s in fresh["sources"]
    ]
