"""Scoring stored runs: per-text metrics and filters, set metrics overall and per group.

One place for what ``studio score --run``, ``studio eval``, the TUI's run detail and the
comparison screens all need, so every face shows the same numbers:

- per text: every DESIGN 5.1 metric and the four filter decisions, saved in ``text_metrics``;
- per set: every DESIGN 5.2 metric for the whole run (group ``all/all``) and per persona, style,
  model and topic subtree, saved in ``run_metrics``; the run's row also carries how many texts
  each filter kept, the mean of every per-text metric, and the cross-persona similarity matrix
  (mean MinHash Jaccard between personas' texts on the same topic).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.metrics.scorer import TextScore, TextScorer
    from studio.store import Generation, Run, Store

METRICS_VERSION = "studio-metrics-1"
# generation field -> group name in run_metrics
GROUP_FIELDS = {
    "persona_id": "persona",
    "style_id": "style",
    "model": "model",
    "topic_path": "topic",
}


class NothingToScoreError(ValueError):
    """The run has no successful generation with text."""


def build_scorer() -> TextScorer:
    """The per-text scorer with offline tiktoken counts."""
    from studio import tokens
    from studio.metrics.scorer import TextScorer

    return TextScorer(
        token_counter=tokens.count_tokens,
        batch_token_counter=tokens.count_tokens_batch,
        segment_tokens=tokens.segment_rule(),
    )


def topic_subtree(path: str | None) -> str:
    """The subtree a topic belongs to: its tree and first-level node (``physics/mechanics``)."""
    if not path:
        return ""
    return "/".join(path.split("/")[:2])


@dataclass(frozen=True)
class RunScores:
    """A run's set metrics: ``rows`` are (group_by, group_key, n_texts, metrics)."""

    run_id: str
    rows: tuple[tuple[str, str, int, dict[str, Any]], ...]

    @property
    def overall(self) -> dict[str, Any]:
        for group_by, _, _, metrics in self.rows:
            if group_by == "all":
                return metrics
        raise KeyError("no overall row")

    @property
    def n_texts(self) -> int:
        return next(n for g, _, n, _ in self.rows if g == "all")

    def groups(self, group_by: str) -> dict[str, dict[str, Any]]:
        return {key: metrics for g, key, _, metrics in self.rows if g == group_by}

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "groups": [
                {"group_by": g, "group_key": k, "n_texts": n, "metrics": m}
                for g, k, n, m in self.rows
            ],
        }


def filter_kept(filters: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many texts each filter keeps, from each text's ``filters`` decisions."""
    kept: dict[str, int] = {}
    for decisions in filters:
        for name, decision in decisions.items():
            kept[name] = kept.get(name, 0) + int(bool(decision["keep"]))
    return kept


def mean_text_metrics(scores: list[TextScore]) -> dict[str, float]:
    """The mean of every numeric per-text metric, under its own name."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for score in scores:
        for name, value in score.metrics.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                sums[name] = sums.get(name, 0.0) + float(value)
                counts[name] = counts.get(name, 0) + 1
    return {name: sums[name] / counts[name] for name in sums}


def _matrix(values: Any) -> list[list[float | None]]:
    return [[None if v != v else round(float(v), 4) for v in row] for row in values]


def summarise(
    gens: list[Generation], scores: list[TextScore], seed: int = 0
) -> list[tuple[str, str, int, dict[str, Any]]]:
    """Set metrics overall and per group for generations and their per-text scores.

    Texts are taken in the order of their ids (content hashes), not the order they were
    stored: some set metrics (the compression of the joined texts, sampled pairs) depend on
    order, and a run generated in parallel shards stores its texts in no fixed order.
    """
    from studio.metrics.minhash import MinHasher
    from studio.metrics.summary import cross_group_similarity, set_summary

    order = sorted(range(len(gens)), key=lambda i: gens[i].id)
    gens = [gens[i] for i in order]
    scores = [scores[i] for i in order]
    texts = [g.text or "" for g in gens]
    signatures = MinHasher().signatures(texts)
    overall = set_summary(texts, signatures=signatures, seed=seed)
    overall["filters_kept"] = filter_kept(s.filters for s in scores)
    overall["text_means"] = mean_text_metrics(scores)
    labels, matrix = cross_group_similarity(
        signatures, [g.persona_id or "" for g in gens], same_key=[g.topic_path or "" for g in gens]
    )
    overall["cross_group_similarity"] = {
        "group_by": "persona",
        "same": "topic",
        "labels": labels,
        "matrix": _matrix(matrix),
    }
    rows: list[tuple[str, str, int, dict[str, Any]]] = [("all", "all", len(texts), overall)]
    for field, group_by in GROUP_FIELDS.items():
        keys = [
            topic_subtree(g.topic_path) if field == "topic_path" else (getattr(g, field) or "")
            for g in gens
        ]
        for key in sorted(set(keys)):
            idx = [i for i, k in enumerate(keys) if k == key]
            if len(idx) == len(texts):
                # One group holds every text (a single model, say): it is the run itself.
                sub = {k: v for k, v in overall.items() if k != "cross_group_similarity"}
            else:
                sub = set_summary([texts[i] for i in idx], signatures=signatures[idx], seed=seed)
                sub["filters_kept"] = filter_kept(scores[i].filters for i in idx)
                sub["text_means"] = mean_text_metrics([scores[i] for i in idx])
            rows.append((group_by, key, len(idx), sub))
    return rows


def score_run(
    store: Store, run_id: str, *, language: str | None = None, scorer: TextScorer | None = None
) -> RunScores:
    """Score every successful text of a run and store per-text and set metrics."""
    run = store.get_run(run_id)
    gens = [g for g in store.generations(run.id, status="ok") if g.text and g.text.strip()]
    if not gens:
        raise NothingToScoreError(f"run {run.id} has no generated text to score")
    scorer = scorer or build_scorer()
    scores = scorer.score_batch([g.text or "" for g in gens], language)
    return save_scores(store, run, gens, scores)


def save_scores(
    store: Store, run: Run, gens: list[Generation], scores: list[TextScore]
) -> RunScores:
    """Store a run's per-text scores (``scores[i]`` for ``gens[i]``) and its set metrics,
    however the per-text scores were computed (here, or by an executor's shards)."""
    store.save_text_metrics(
        ((run.id, g.id, s.metrics, dict(s.filters)) for g, s in zip(gens, scores, strict=True)),
        METRICS_VERSION,
    )
    rows = summarise(gens, scores, seed=run.seed or 0)
    store.save_run_metrics(run.id, rows, METRICS_VERSION)
    return RunScores(run.id, tuple(rows))


def stored_scores(store: Store, run_id: str) -> RunScores | None:
    """The run's stored set metrics, or None when it was never scored (or with older code)."""
    rows = [
        (r["group_by"], r["group_key"], r["n_texts"], r["metrics"])
        for r in store.run_metrics(run_id)
        if r["version"] == METRICS_VERSION
    ]
    if not any(r[0] == "all" for r in rows):
        return None
    return RunScores(run_id, tuple(rows))


def scores_for(store: Store, run_id: str) -> RunScores:
    """Stored scores when the run's texts have not changed since, else a fresh scoring."""
    run = store.get_run(run_id)
    cached = stored_scores(store, run.id)
    if cached is not None and cached.n_texts == run.n_ok:
        return cached
    return score_run(store, run.id)
