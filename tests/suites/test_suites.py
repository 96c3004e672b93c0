"""Eval suites: the format, gate judging, JUnit output and `studio eval` end to end."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from studio.scoring import RunScores
from studio.suites import (
    GateResult,
    Suite,
    SuiteError,
    SuiteResult,
    judge,
    junit_xml,
    load_suite,
    metric_value,
    parse_gate,
)

if TYPE_CHECKING:
    from tests.conftest import CliRunner

SHIPPED = Path(__file__).resolve().parents[2] / "personas"


def scores(
    run_id: str, overall: dict[str, object], personas: dict[str, dict[str, object]]
) -> RunScores:
    rows = [("all", "all", 10, overall)]
    rows += [("persona", key, 5, metrics) for key, metrics in personas.items()]
    return RunScores(run_id, tuple(rows))  # type: ignore[arg-type]


def test_gate_grammar() -> None:
    gate = parse_gate("distinct_2 >= 0.6")
    assert not isinstance(gate, str)
    assert (gate.metric, gate.op, gate.value, gate.baseline) == ("distinct_2", ">=", 0.6, False)
    relative = parse_gate("near_dup_frac <= baseline + 0.02")
    assert not isinstance(relative, str)
    assert relative.baseline and relative.value == pytest.approx(0.02)
    assert relative.threshold(0.05) == pytest.approx(0.07)
    below = parse_gate("distinct_2>=baseline-0.1")
    assert not isinstance(below, str) and below.threshold(0.5) == pytest.approx(0.4)
    assert isinstance(parse_gate("distinct_2 is big"), str)


def test_metric_value_reads_set_text_filter_and_derived_metrics() -> None:
    metrics = {
        "n_texts": 4,
        "distinct_2": 0.5,
        "text_means": {"dup_line_frac": 0.25},
        "filters_kept": {"fineweb": 3},
        "cross_group_similarity": {"matrix": [[0.3, 0.1], [0.2, 0.5]]},
    }
    assert metric_value(metrics, "distinct_2") == 0.5
    assert metric_value(metrics, "dup_line_frac") == 0.25
    assert metric_value(metrics, "fineweb") == 0.75
    assert metric_value(metrics, "cross_persona_similarity") == 0.2
    assert metric_value(metrics, "cross_persona_overlap") == pytest.approx(0.15 / 0.4)
    assert metric_value(metrics, "self_bleu") is None


def test_judge_whole_run_per_group_and_baseline() -> None:
    gates = tuple(
        g
        for g in (
            parse_gate("distinct_2 >= 0.6"),
            parse_gate("opening_diversity >= 0.5", per="persona"),
            parse_gate("distinct_2 >= baseline - 0.05"),
        )
        if not isinstance(g, str)
    )
    current = scores(
        "new",
        {"distinct_2": 0.62},
        {"kids": {"opening_diversity": 0.2}, "college": {"opening_diversity": 0.9}},
    )
    baseline = scores("old", {"distinct_2": 0.70}, {})
    results = judge(current, gates, baseline)
    assert [(r.name, r.passed) for r in results] == [
        ("distinct_2 >= 0.6", True),
        ("opening_diversity >= 0.5 [persona=college]", True),
        ("opening_diversity >= 0.5 [persona=kids]", False),
        ("distinct_2 >= baseline - 0.05", False),
    ]
    assert results[2].message == "opening_diversity = 0.2000, needs >= 0.5000: FAILED"
    assert results[3].threshold == pytest.approx(0.65)


def test_junit_xml_lists_each_gate() -> None:
    gate = parse_gate("distinct_2 >= 0.6")
    assert not isinstance(gate, str)
    suite = Suite(name="s", gates=(gate,))
    bad = GateResult(gate, None, 0.5, 0.6, False, "distinct_2 = 0.5000, needs >= 0.6000: FAILED")
    root = ET.fromstring(junit_xml([SuiteResult(suite, "run1", [bad])]).split("\n", 1)[1])
    [testsuite] = root.findall("testsuite")
    assert testsuite.get("tests") == "1" and testsuite.get("failures") == "1"
    [case] = testsuite.findall("testcase")
    assert case.get("name") == "distinct_2 >= 0.6"
    assert case.find("failure").get("message").endswith("FAILED")  # type: ignore[union-attr]


def test_bad_suite_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        "name: broken\n"
        "run:\n"
        "  personas: [college]\n"
        "  styles: [story]\n"
        "  models: [offline/default]\n"
        "  sampels: 3\n"
        "gates:\n"
        "  - distnct_2 >= 0.6\n"
        "  - distinct_2 > lots\n"
        "  - {gate: cross_persona_similarity <= 0.3, per: persona}\n"
        "  - {gate: distinct_2 >= 0.1, per: planet}\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    assert [str(e.relative_to(tmp_path)) for e in info.value.errors] == [
        "suite.yaml:6: run.sampels: unknown key; did you mean 'samples'?",
        "suite.yaml:3: run: needs topics or topic_leaves_of",
        "suite.yaml:8: gates[0]: unknown metric 'distnct_2'; did you mean 'distinct_2'?",
        "suite.yaml:9: gates[1]: expected 'metric op number' or 'metric op baseline +/- number', "
        "got 'distinct_2 > lots'",
        "suite.yaml:10: gates[2]: cross_persona_similarity is a whole-run metric; drop 'per'",
        "suite.yaml:11: gates[3].per: must be one of persona, style, model, topic, got 'planet'",
    ]


SUITE = """\
name: tiny
run:
  personas: [young-children, college]
  topics: [physics/mechanics/newtons-laws]
  styles: [story]
  models: [offline/default]
  samples: 2
  seed: 3
  max_tokens: 120
gates:
  - distinct_1 > 0
  - fineweb >= 0
  - {{gate: n_words >= 1, per: persona}}
  - {extra}
"""


def test_studio_eval_passes_fails_and_writes_junit(run_cli: CliRunner, tmp_path: Path) -> None:
    env = {"STUDIO_OFFLINE_PACE_MS": "0"}
    lib = ("--library", str(SHIPPED), "--db", str(tmp_path / "e.db"))
    good = tmp_path / "good.yaml"
    good.write_text(SUITE.format(extra="distinct_2 <= 1"), encoding="utf-8")
    passed = run_cli(*lib, "eval", str(good), "--junit", str(tmp_path / "j.xml"), env=env)
    assert passed.returncode == 0, passed.stderr
    assert "tiny" in passed.stdout and "passed" in passed.stdout
    junit = ET.parse(tmp_path / "j.xml").getroot()
    assert junit.find("testsuite").get("failures") == "0"  # type: ignore[union-attr]
    assert len(junit.findall(".//testcase")) == 5  # 3 whole-run gates + one per persona (2)

    bad = tmp_path / "bad.yaml"
    bad.write_text(SUITE.format(extra="distinct_1 >= 1.5"), encoding="utf-8")
    failed = run_cli(*lib, "eval", str(bad), "--json", env=env)
    assert failed.returncode == 1
    [result] = json.loads(failed.stdout)
    assert result["passed"] is False and result["n_texts"] == 4
    assert "FAILED tiny: distinct_1 >= 1.5: distinct_1 = " in failed.stderr
    assert "needs >= 1.5000" in failed.stderr

    # The run was stored and scored: `studio runs list` sees both.
    runs = json.loads(run_cli(*lib, "runs", "list", "--json").stdout)
    assert [r["name"] for r in runs] == ["eval: tiny", "eval: tiny"]


def test_studio_eval_unknown_model_fails_before_any_run(run_cli: CliRunner, tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE.format(extra="distinct_2 <= 1"), encoding="utf-8")
    db = tmp_path / "e.db"
    result = run_cli(
        "--library",
        str(SHIPPED),
        "--db",
        str(db),
        "eval",
        str(suite),
        "--model",
        "nosuchprovider/model-x",
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "nosuchprovider" in result.stderr
    listed = run_cli("--db", str(db), "runs", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_regression_suite_catches_audiences_that_converge(
    run_cli: CliRunner, tmp_path: Path, library_copy: Path
) -> None:
    """Give every English persona college's instructions: the regression suite must fail."""
    import dataclasses

    from studio.library import load_library, save_persona

    lib = load_library(library_copy)
    college = lib.persona("college")
    for persona in lib.personas:
        if persona.language == "en" and persona.id != "college":
            save_persona(
                dataclasses.replace(
                    persona, instructions=college.instructions, do=college.do, dont=college.dont
                )
            )
    suite = Path(__file__).resolve().parents[2] / "evals" / "regression.yaml"
    env = {"STUDIO_OFFLINE_PACE_MS": "0"}
    db = ("--db", str(tmp_path / "r.db"))
    healthy = run_cli("--library", str(SHIPPED), *db, "eval", str(suite), env=env)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    damaged = run_cli("--library", str(library_copy), *db, "eval", str(suite), env=env)
    assert damaged.returncode == 1
    assert "FAILED regression: cross_persona_overlap <= 0.8: cross_persona_overlap = " in (
        damaged.stderr
    )
