"""Eval suites: CI for prompts.

A suite (YAML, see ``docs/suites.md``) is what to generate (a RunSpec) or which stored runs to
judge, plus gates over the DESIGN 5 metrics::

    name: audiences
    run:
      personas: [young-children, college]
      topic_leaves_of: [physics/mechanics]
      styles: [textbook-academic, story]
      models: [offline/default]
      samples: 2
      seed: 7
    gates:
      - distinct_2 >= 0.6
      - near_dup_frac <= 0.02
      - cross_persona_similarity <= 0.5
      - dup_line_frac <= 0.1               # a per-text metric: its mean over the texts
      - fineweb >= 0.9                     # a filter: the share of texts it keeps
      - {gate: opening_diversity >= 0.8, per: persona}
      - distinct_2 >= baseline - 0.02      # against the suite's (or --baseline) run

``run_suite`` generates (or looks up) the run, scores it with :mod:`studio.scoring`, and
judges every gate. A suite is checked whole before anything runs, with errors as
``file:line: field: message``.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from studio.library.errors import LibraryError, LibraryFileError
from studio.library.schema import FieldRule, did_you_mean
from studio.library.yamldoc import (
    FieldChecker,
    item_line,
    load_checked,
    parse_document,
    value_line,
)

if TYPE_CHECKING:
    from studio.generate.events import Event
    from studio.library import Library
    from studio.scoring import RunScores
    from studio.store import Store

FILTERS = ("gopher_repetition", "gopher_quality", "c4", "fineweb")
GROUPS = ("persona", "style", "model", "topic")
DERIVED = ("cross_persona_similarity", "cross_persona_overlap")
_NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_GATE = re.compile(
    rf"^\s*([a-z_][a-z0-9_]*)\s*(<=|>=|==|<|>)\s*"
    rf"(?:(baseline)\s*(?:([-+])\s*({_NUMBER}))?|({_NUMBER}))\s*$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12),
}


class SuiteError(LibraryFileError):
    """A suite has problems; ``errors`` lists each as file:line: field: message."""


SUITE_FIELDS: dict[str, FieldRule] = {
    "name": FieldRule("str", True),
    "description": FieldRule("str"),
    "run": FieldRule("mapping"),
    "runs": FieldRule("str_list"),
    "baseline": FieldRule("str"),
    "gates": FieldRule("list", True),
}


def _positive(value: Any) -> str | None:
    return None if value > 0 else f"must be positive, got {value}"


RUN_FIELDS: dict[str, FieldRule] = {
    "personas": FieldRule("str_list", True),
    "topics": FieldRule("str_list"),
    "topic_leaves_of": FieldRule("str_list"),
    "styles": FieldRule("str_list", True),
    "models": FieldRule("str_list", True),
    "samples": FieldRule("int", False, _positive),
    "seed": FieldRule("int"),
    "temperature": FieldRule("number"),
    "top_p": FieldRule("number"),
    "max_tokens": FieldRule("int", False, _positive),
    "concurrency": FieldRule("int", False, _positive),
}

GATE_FIELDS: dict[str, FieldRule] = {
    "gate": FieldRule("str", True),
    "per": FieldRule(
        "str",
        False,
        lambda v: None if v in GROUPS else f"must be one of {', '.join(GROUPS)}, got {v!r}",
    ),
}


@dataclass(frozen=True)
class Gate:
    """``metric op threshold``, where the threshold may be relative to a baseline run."""

    text: str
    metric: str
    op: str
    value: float = 0.0
    baseline: bool = False
    per: str | None = None
    line: int = 0

    def threshold(self, baseline: float | None) -> float:
        if not self.baseline:
            return self.value
        if baseline is None:
            raise ValueError(f"gate {self.text!r} needs a baseline run")
        return baseline + self.value

    def __str__(self) -> str:
        return self.text if self.per is None else f"{self.text} (per {self.per})"


@dataclass(frozen=True)
class Suite:
    name: str
    gates: tuple[Gate, ...]
    run: dict[str, Any] | None = None
    runs: tuple[str, ...] = ()
    baseline: str | None = None
    description: str = ""
    path: Path | None = None

    @property
    def needs_baseline(self) -> bool:
        return any(g.baseline for g in self.gates)


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    group: str | None
    value: float | None
    threshold: float | None
    passed: bool
    message: str

    @property
    def name(self) -> str:
        where = f" [{self.gate.per}={self.group}]" if self.group is not None else ""
        return f"{self.gate.text}{where}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate.text,
            "per": self.gate.per,
            "group": self.group,
            "metric": self.gate.metric,
            "op": self.gate.op,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "message": self.message,
        }


@dataclass
class SuiteResult:
    suite: Suite
    run_id: str
    results: list[GateResult] = field(default_factory=list)
    n_texts: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    baseline_run: str | None = None

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failures(self) -> list[GateResult]:
        return [r for r in self.results if not r.passed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite.name,
            "run_id": self.run_id,
            "baseline_run": self.baseline_run,
            "n_texts": self.n_texts,
            "counts": self.counts,
            "passed": self.passed,
            "gates": [r.as_dict() for r in self.results],
        }


def known_gate_metrics() -> frozenset[str]:
    """Every name a gate may use: set metrics, per-text metric means, filters, derived ones."""
    from studio.metrics.summary import SET_METRIC_NAMES
    from studio.mix.recipe import known_metric_names

    return frozenset({*SET_METRIC_NAMES, *known_metric_names(), *FILTERS, *DERIVED})


def parse_gate(text: str, per: str | None = None, line: int = 0) -> Gate | str:
    """A gate, or a message saying what is wrong with it."""
    match = _GATE.match(text)
    if match is None:
        return f"expected 'metric op number' or 'metric op baseline +/- number', got {text!r}"
    metric, op, base, sign, delta, number = match.groups()
    if base:
        value = float(delta or 0.0) * (-1.0 if sign == "-" else 1.0)
        return Gate(text.strip(), metric, op, value, True, per, line)
    return Gate(text.strip(), metric, op, float(number), False, per, line)


def parse_suite(text: str, path: Path) -> tuple[Suite | None, list[LibraryError]]:
    doc, errors = parse_document(text, path, "suite")
    if doc is None:
        return None, errors
    check = FieldChecker(path, errors)
    good = check.mapping(doc, SUITE_FIELDS, "", 1)
    if good is None:
        return None, errors
    if ("run" in doc) == ("runs" in doc):
        check.error(
            1,
            "run",
            "a suite needs exactly one of run (what to generate) or runs (stored runs to judge)",
        )
    run = None
    if "run" in good:
        run = check.mapping(good["run"], RUN_FIELDS, "run", value_line(doc, "run"))
        if run is not None and not run.get("topics") and not run.get("topic_leaves_of"):
            check.error(value_line(doc, "run"), "run", "needs topics or topic_leaves_of")
    names = known_gate_metrics()
    gates: list[Gate] = []
    raw_gates = good.get("gates") or []
    if "gates" in good and not raw_gates:
        check.error(value_line(doc, "gates"), "gates", "must list at least one gate")
    for index, raw in enumerate(raw_gates):
        where = f"gates[{index}]"
        line = item_line(raw_gates, index, doc, "gates")
        per = None
        if isinstance(raw, dict):
            entry = check.mapping(raw, GATE_FIELDS, where, line)
            if entry is None or "gate" not in entry:
                continue
            text_gate, per = str(entry["gate"]), entry.get("per")
        elif isinstance(raw, str):
            text_gate = raw
        else:
            check.error(
                line, where, "expected a gate like 'distinct_2 >= 0.6' or {gate: ..., per: persona}"
            )
            continue
        parsed = parse_gate(text_gate, per, line)
        if isinstance(parsed, str):
            check.error(line, where, parsed)
            continue
        if parsed.metric not in names:
            hint = did_you_mean(parsed.metric, names)
            check.error(line, where, f"unknown metric {parsed.metric!r}{hint}")
            continue
        if parsed.metric in DERIVED and per is not None:
            check.error(line, where, f"{parsed.metric} is a whole-run metric; drop 'per'")
            continue
        gates.append(parsed)
    if errors:
        return None, errors
    suite = Suite(
        name=str(good["name"]),
        description=str(good.get("description") or ""),
        gates=tuple(gates),
        run=dict(run) if run is not None else None,
        runs=tuple(good.get("runs") or ()),
        baseline=str(good["baseline"]) if good.get("baseline") else None,
        path=path,
    )
    return suite, errors


def load_suite(path: Path) -> Suite:
    """Load a suite file or raise ``SuiteError`` listing every problem."""
    return load_checked(path, parse_suite, SuiteError)


# -- judging ----------------------------------------------------------------------------------


def metric_value(metrics: dict[str, Any], name: str) -> float | None:
    """A gate's metric in one group's metrics (see the module docstring)."""
    if name in DERIVED:
        matrix = (metrics.get("cross_group_similarity") or {}).get("matrix") or []
        cells = [(i == j, v) for i, row in enumerate(matrix) for j, v in enumerate(row)]
        off = [float(v) for same, v in cells if not same and v is not None]
        if name == "cross_persona_similarity":
            return max(off) if off else None
        diagonal = [float(v) for same, v in cells if same and v is not None]
        if not off or not diagonal or not sum(diagonal):
            return None
        # How alike two personas' texts are, relative to two texts of the same persona:
        # near 1 when an audience instruction changes nothing.
        return (sum(off) / len(off)) / (sum(diagonal) / len(diagonal))
    if name in FILTERS:
        n = metrics.get("n_texts") or 0
        kept = (metrics.get("filters_kept") or {}).get(name)
        return None if not n or kept is None else kept / n
    value = metrics.get(name)
    if value is None:
        value = (metrics.get("text_means") or {}).get(name)
    return None if value is None else float(value)


def judge(
    scores: RunScores, gates: tuple[Gate, ...], baseline: RunScores | None
) -> list[GateResult]:
    results: list[GateResult] = []
    for gate in gates:
        targets: list[tuple[str | None, dict[str, Any], dict[str, Any] | None]]
        if gate.per is None:
            targets = [(None, scores.overall, baseline.overall if baseline else None)]
        else:
            base_groups = baseline.groups(gate.per) if baseline else {}
            targets = [
                (key, metrics, base_groups.get(key))
                for key, metrics in sorted(scores.groups(gate.per).items())
            ]
        for group, metrics, base_metrics in targets:
            value = metric_value(metrics, gate.metric)
            base_value = metric_value(base_metrics, gate.metric) if base_metrics else None
            if gate.baseline and base_value is None:
                results.append(
                    GateResult(
                        gate,
                        group,
                        value,
                        None,
                        False,
                        f"{gate.metric}: no baseline value to compare with",
                    )
                )
                continue
            threshold = gate.threshold(base_value)
            if value is None:
                results.append(
                    GateResult(
                        gate, group, None, threshold, False, f"{gate.metric}: no value (no texts?)"
                    )
                )
                continue
            passed = _OPS[gate.op](value, threshold)
            verdict = "ok" if passed else "FAILED"
            message = f"{gate.metric} = {value:.4f}, needs {gate.op} {threshold:.4f}: {verdict}"
            results.append(GateResult(gate, group, value, threshold, passed, message))
    return results


def run_spec(suite: Suite, library: Library, models: tuple[str, ...] = ()) -> Any:
    """The RunSpec a suite generates; ``models`` replaces the suite's models when given."""
    from studio.generate.spec import RunSpec

    assert suite.run is not None
    run = suite.run
    topics = list(run.get("topics") or [])
    for root in run.get("topic_leaves_of") or []:
        tree = library.tree(root.split("/", 1)[0])
        topics += [t.path for t in tree.subtree(root.rstrip("/")) if not t.children]
    spec = RunSpec(
        personas=tuple(run["personas"]),
        topics=tuple(dict.fromkeys(topics)),
        styles=tuple(run["styles"]),
        models=models or tuple(run["models"]),
        samples=int(run.get("samples", 1)),
        temperature=run.get("temperature"),
        top_p=run.get("top_p"),
        max_tokens=run.get("max_tokens"),
        seed=int(run.get("seed", 0)),
        name=f"eval: {suite.name}",
    )
    if run.get("concurrency"):
        spec = spec.with_settings(concurrency=int(run["concurrency"]))
    return spec


def run_suite(
    suite: Suite,
    store: Store,
    library: Library,
    *,
    models: tuple[str, ...] = (),
    baseline_run: str | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> list[SuiteResult]:
    """Generate (or look up) the suite's runs, score them and judge every gate.

    Everything that can fail before generation (unknown persona, topic, style or model; a
    baseline gate with no baseline run) fails first, before anything is written.
    """
    from studio.scoring import scores_for

    baseline_id = baseline_run or suite.baseline
    if suite.needs_baseline and baseline_id is None:
        raise ValueError(f"suite {suite.name!r} has baseline gates; give --baseline RUN")
    baseline = scores_for(store, baseline_id) if baseline_id else None
    run_ids: list[str]
    if suite.run is not None:
        from studio.generate.session import RunSession, prepare_run

        prepared = prepare_run(store, library, run_spec(suite, library, models))
        asyncio.run(RunSession(store, prepared, on_event=on_event).run())
        run_ids = [prepared.run.id]
    else:
        run_ids = [store.get_run(r).id for r in suite.runs]
    out = []
    for run_id in run_ids:
        scores = scores_for(store, run_id)
        run = store.get_run(run_id)
        out.append(
            SuiteResult(
                suite=suite,
                run_id=run_id,
                results=judge(scores, suite.gates, baseline),
                n_texts=scores.n_texts,
                counts={"ok": run.n_ok, "error": run.n_error, "cancelled": run.n_cancelled},
                baseline_run=baseline.run_id if baseline else None,
            )
        )
    return out


def junit_xml(results: list[SuiteResult]) -> str:
    """JUnit XML: one testsuite per suite run, one testcase per gate (and group)."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites")
    for result in results:
        suite_el = ET.SubElement(
            root,
            "testsuite",
            name=result.suite.name,
            tests=str(len(result.results)),
            failures=str(len(result.failures)),
            errors="0",
        )
        ET.SubElement(
            ET.SubElement(suite_el, "properties"), "property", name="run_id", value=result.run_id
        )
        for gate in result.results:
            case = ET.SubElement(suite_el, "testcase", classname=result.suite.name, name=gate.name)
            if not gate.passed:
                failure = ET.SubElement(case, "failure", message=gate.message)
                failure.text = gate.message
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
