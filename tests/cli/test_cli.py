"""The CLI, run as a subprocess the way a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from studio.prompts import Message, Prompt
from studio.store import Generation, Store
from tests.conftest import SHIPPED_LIBRARY, CliRunner

MALFORMED = Path(__file__).resolve().parents[1] / "library" / "malformed"


def test_help_is_light_and_never_imports_litellm(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from studio.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "heavy = sorted(m for m in ('litellm', 'scipy', 'textual', 'sqlite_utils', 'ruamel',"
        " 'jinja2', 'tiktoken', 'openai', 'numpy') if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert "Usage: studio" in result.stdout
    assert "HEAVY=\n" in result.stdout, result.stdout


def test_library_check_passes_on_the_shipped_library(run_cli: CliRunner) -> None:
    result = run_cli("--library", str(SHIPPED_LIBRARY), "library", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": ok")
    assert "personas" in result.stdout


def test_library_check_names_file_and_line(run_cli: CliRunner) -> None:
    result = run_cli("--library", ".", "library", "check", cwd=MALFORMED)
    assert result.returncode == 1
    expected = (MALFORMED / "expected.txt").read_text("utf-8").splitlines()
    assert sorted(result.stderr.splitlines()) == sorted(expected)
    assert "16 error(s)" in result.stdout


def test_library_check_json(run_cli: CliRunner) -> None:
    result = run_cli("--library", str(MALFORMED), "library", "check", "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["personas"] == 2 and len(report["errors"]) == 16
    assert {"path", "line", "field", "message"} == set(report["errors"][0])


def test_default_library_is_local_personas_folder(run_cli: CliRunner, library_copy: Path) -> None:
    # run_cli runs in tmp_path, where library_copy made ./personas
    (library_copy / "extra.yaml").write_text(
        "id: extra\nname: Extra\nlanguage: en\naudience: a\nreading_level: b\ntone: c\n"
        "instructions: d\n",
        encoding="utf-8",
    )
    listed = json.loads(run_cli("personas", "list", "--json").stdout)
    assert "extra" in {p["id"] for p in listed}


def test_personas_topics_styles_lists(run_cli: CliRunner) -> None:
    lib = ("--library", str(SHIPPED_LIBRARY))
    personas = json.loads(run_cli(*lib, "personas", "list", "--json").stdout)
    assert all({"id", "name", "language"} <= set(p) for p in personas)
    assert any(p["language"] == "zh" for p in personas)
    topics = json.loads(run_cli(*lib, "topics", "list", "--json").stdout)
    assert all({"id", "name", "path"} <= set(t) for t in topics)
    assert any(t["depth"] >= 3 for t in topics)
    physics = json.loads(run_cli(*lib, "topics", "list", "--tree", "physics", "--json").stdout)
    assert physics and all(t["path"].startswith("physics/") for t in physics)
    styles = json.loads(run_cli(*lib, "styles", "list", "--json").stdout)
    assert {"story", "wikihow"} <= {s["id"] for s in styles}
    human = run_cli(*lib, "personas", "list")
    assert human.returncode == 0 and "young-children" in human.stdout


def test_unknown_tree_is_an_error(run_cli: CliRunner) -> None:
    result = run_cli("--library", str(SHIPPED_LIBRARY), "topics", "list", "--tree", "phisics")
    assert result.returncode == 1
    assert "unknown topic tree 'phisics'; did you mean physics?" in result.stderr
    assert result.stdout == ""


def test_prompt_renders_messages(run_cli: CliRunner) -> None:
    lib = ("--library", str(SHIPPED_LIBRARY))
    topics = json.loads(
        run_cli(*lib, "topics", "list", "--tree", "physics", "--leaves", "--json").stdout
    )
    path = topics[0]["path"]
    result = run_cli(
        *lib, "prompt", "--persona", "young-children", "--topic", path, "--style", "story", "--json"
    )
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert rendered["messages"][-1]["role"] == "user"
    assert topics[0]["title"] in rendered["messages"][-1]["content"]
    assert len(rendered["hash"]) == 64
    human = run_cli(
        *lib, "prompt", "--persona", "young-children", "--topic", path, "--style", "story"
    )
    assert "user" in human.stdout and rendered["hash"] in human.stderr
    bad = run_cli(*lib, "prompt", "--persona", "kids", "--topic", path, "--style", "story")
    assert bad.returncode == 1 and "unknown persona 'kids'" in bad.stderr


def _seed_db(path: Path) -> str:
    with Store(path) as store:
        run = store.create_run({"models": ["offline/default"]}, name="demo", n_jobs=2)
        prompt = Prompt((Message("user", "Write."),), "college", "physics/x", "story", "en")
        store.save_prompt(prompt)
        for index, text in enumerate(["First text.", "Second text."]):
            store.record_generation(
                Generation(
                    id=f"job{index}",
                    run_id=run.id,
                    prompt_hash=prompt.hash,
                    model="offline/default",
                    sample_index=index,
                    params={},
                    status="ok",
                    text=text,
                    completion_tokens=3,
                )
            )
        return run.id


def test_runs_list_and_show(run_cli: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run_id = _seed_db(db)
    listed = json.loads(run_cli("--db", str(db), "runs", "list", "--json").stdout)
    assert [r["id"] for r in listed] == [run_id]
    assert listed[0]["counts"] == {"ok": 2, "error": 0, "cancelled": 0}
    shown = json.loads(run_cli("--db", str(db), "runs", "show", run_id[:15], "--json").stdout)
    assert [(g["id"], g["text"]) for g in shown["generations"]] == [
        ("job0", "First text."),
        ("job1", "Second text."),
    ]
    human = run_cli("--db", str(db), "runs", "show", run_id)
    assert "First text." in human.stdout and "demo" in human.stdout
    missing = run_cli("--db", str(db), "runs", "show", "nope")
    assert missing.returncode == 1 and "no run 'nope'" in missing.stderr


def test_db_chosen_by_env_and_home(run_cli: CliRunner, tmp_path: Path) -> None:
    env_db = tmp_path / "env.db"
    run_id = _seed_db(env_db)
    listed = json.loads(run_cli("runs", "list", "--json", env={"STUDIO_DB": str(env_db)}).stdout)
    assert [r["id"] for r in listed] == [run_id]
    home = tmp_path / "home"
    empty = run_cli("runs", "list", env={"STUDIO_HOME": str(home)})
    assert empty.returncode == 0 and "No runs" in empty.stderr
    assert (home / "studio.db").exists()


def test_runs_delete(run_cli: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    run_id = _seed_db(db)
    refused = run_cli("--db", str(db), "runs", "delete", run_id[:15])  # no tty: not confirmed
    assert refused.returncode == 1
    deleted = run_cli("--db", str(db), "runs", "delete", run_id[:15], "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted {run_id}" in deleted.stderr
    assert json.loads(run_cli("--db", str(db), "runs", "list", "--json").stdout) == []
    with Store(db) as store:
        assert store.conn.execute("SELECT count(*) FROM generations").fetchone()[0] == 0
        assert store.search("First text") == []
