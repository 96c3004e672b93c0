"""``studio score`` and ``studio compare`` run as a user runs them (subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import realprose

from studio.prompts import Message, Prompt
from studio.store import Generation, Store

REPO = Path(__file__).resolve().parents[2]


def _studio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "studio", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,
    )


def test_score_file_reports_bad_lines_and_scores_the_rest(tmp_path: Path) -> None:
    texts = realprose.pydoc_topics()[:8]
    lines = [json.dumps({"id": i, "text": t}).encode() for i, t in enumerate(texts)]
    lines.insert(2, b'{"id": "broken", ')
    lines.insert(4, b'{"id": "latin-1", "text": "caf\xe9"}')
    lines.insert(5, b'{"id": "no text"}')
    lines.insert(6, b'{"id": "empty", "text": "   "}')
    lines.insert(7, json.dumps({"id": "huge", "text": "word " * 2_100_000}).encode())
    lines.insert(8, json.dumps({"id": "bell", "text": "ring \u0007 ring"}).encode())
    lines.insert(9, b'{"id": "half a pair", "text": "a lone \\ud800 surrogate"}')
    zh = realprose.chinese_tutorial()
    lines.append(json.dumps({"id": "zh", "text": zh}, ensure_ascii=False).encode())
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")

    result = _studio("score", str(src), "--json", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    for number, problem in [
        (3, "invalid JSON"),
        (5, "not UTF-8"),
        (6, "missing field"),
        (7, "empty text"),
        (8, "over the"),
        (9, "control character"),
        (10, "lone surrogate U+D800 at character 7"),
    ]:
        reported = [ln for ln in result.stderr.splitlines() if f"line {number}: " in ln]
        assert len(reported) == 1 and problem in reported[0]
    out = [json.loads(x) for x in result.stdout.splitlines()]
    rows, summary = out[:-1], out[-1]
    assert [r["id"] for r in rows] == [*range(8), "zh"]
    assert rows[0]["text"] == texts[0] and set(rows[0]["filters"]) == {
        "gopher_repetition",
        "gopher_quality",
        "c4",
        "fineweb",
    }
    assert rows[0]["metrics"]["n_tokens"] > 0  # tiktoken, offline
    assert rows[-1]["metrics"]["language"] == "zh"
    assert all(f["keep"] for f in rows[-1]["filters"].values())
    assert summary["n_texts"] == 9 and summary["skipped_lines"] == 7
    assert 0 < summary["distinct_2"] <= 1

    out_file = tmp_path / "scored.jsonl"
    plain = _studio("score", str(src), "--out", str(out_file), "--text-field", "text", cwd=tmp_path)
    assert plain.returncode == 3 and plain.stdout == ""
    assert "summary: 9 texts" in plain.stderr
    assert len(out_file.read_text().splitlines()) == 9


def test_score_clean_file_exits_zero(tmp_path: Path) -> None:
    src = tmp_path / "ok.jsonl"
    src.write_text("\n".join(json.dumps({"body": t}) for t in realprose.pydoc_topics()[:3]))
    result = _studio("score", str(src), "--text-field", "body", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 3
    missing = _studio("score", str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def _seed_run(store: Store, name: str, texts: list[str], personas: list[str]) -> str:
    run = store.create_run({"models": ["offline/default"]}, name=name, n_jobs=len(texts))
    prompt = Prompt((Message("user", "Write."),), "college", "physics/forces", "story", "en")
    store.save_prompt(prompt)
    for i, (text, persona) in enumerate(zip(texts, personas, strict=True)):
        store.record_generation(
            Generation(
                id=f"{name}-{i}",
                run_id=run.id,
                prompt_hash=prompt.hash,
                model="offline/default",
                sample_index=i,
                params={},
                status="ok",
                persona_id=persona,
                topic_path=f"physics/t{i % 3}",
                style_id="story",
                text=text,
            )
        )
    return run.id


def test_score_run_stores_scores_and_compare_reports(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    docs = [t for t in realprose.stdlib_docstrings(max_files=80) if len(t) > 500][:24]
    looped = [d[:300] + (" " + d[:120]) * 6 for d in docs[:24]]
    with Store(db) as store:
        run_a = _seed_run(store, "a", docs, ["kids", "college"] * 12)
        run_b = _seed_run(store, "b", looped, ["kids", "college"] * 12)
    scored = _studio("--db", str(db), "score", "--run", run_a, "--json", cwd=tmp_path)
    assert scored.returncode == 0, scored.stderr
    payload = json.loads(scored.stdout)
    groups = {(g["group_by"], g["group_key"]) for g in payload["groups"]}
    assert {
        ("all", "all"),
        ("persona", "kids"),
        ("persona", "college"),
        ("topic", "physics/t0"),
    } <= groups
    with Store(db) as store:
        assert len(store.text_metrics(run_a)) == 24
        overall = next(r for r in store.run_metrics(run_a) if r["group_by"] == "all")
        assert overall["metrics"]["cross_group_similarity"]["labels"] == ["kids", "college"]

    compared = _studio("--db", str(db), "compare", run_a, run_b, "--json", cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr
    result = json.loads(compared.stdout)
    by_metric = {m["metric"]: m for m in result["metrics"]}
    assert by_metric["dup_5_gram_char_frac"]["significant"] is True
    assert by_metric["dup_5_gram_char_frac"]["effect_size"] > 0.5
    assert result["correction"] == "holm"
    table = _studio("--db", str(db), "compare", run_a, run_b, cwd=tmp_path)
    assert table.returncode == 0 and "dup_5_gram_char_frac" in table.stdout
    unknown = _studio("--db", str(db), "compare", run_a, "nope", cwd=tmp_path)
    assert unknown.returncode != 0 and unknown.stderr
