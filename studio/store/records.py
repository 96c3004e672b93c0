"""Plain records that go in and out of the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUN_STATUSES = ("planned", "running", "done", "interrupted", "failed")
GENERATION_STATUSES = ("ok", "error", "cancelled")


@dataclass(frozen=True)
class Run:
    """One run's summary row: what was asked for and how far it got."""

    id: str
    name: str
    status: str
    created_at: str
    updated_at: str
    spec: dict[str, Any]
    seed: int | None
    n_jobs: int
    n_ok: int
    n_error: int
    n_cancelled: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    notes: str = ""

    @property
    def n_done(self) -> int:
        return self.n_ok + self.n_error + self.n_cancelled

    @property
    def n_missing(self) -> int:
        """Jobs with no successful generation yet: what a resume would run."""
        return max(0, self.n_jobs - self.n_ok)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "seed": self.seed,
            "n_jobs": self.n_jobs,
            "counts": {"ok": self.n_ok, "error": self.n_error, "cancelled": self.n_cancelled},
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "notes": self.notes,
            "spec": self.spec,
        }


@dataclass(frozen=True)
class Generation:
    """One model output (or the record of its failure) for one job of a run.

    ``id`` is the job id: the SHA-256 of the canonical JSON of the rendered messages, model,
    sampling parameters and sample index, so the same job has the same id in every process.
    ``cost_usd`` is None when the model's price is unknown, never a silent 0.
    """

    id: str
    run_id: str
    prompt_hash: str
    model: str
    sample_index: int
    params: dict[str, Any]
    status: str
    persona_id: str | None = None
    topic_path: str | None = None
    style_id: str | None = None
    text: str | None = None
    finish_reason: str | None = None
    error_class: str | None = None
    error_message: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
    cost_usd: float | None = None
    latency_ms: float | None = None
    ttft_ms: float | None = None
    attempts: int = 1
    created_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "prompt_hash": self.prompt_hash,
            "persona_id": self.persona_id,
            "topic_path": self.topic_path,
            "style_id": self.style_id,
            "model": self.model,
            "sample_index": self.sample_index,
            "params": self.params,
            "status": self.status,
            "text": self.text,
            "finish_reason": self.finish_reason,
            "error_class": self.error_class,
            "error_message": self.error_message,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_estimated": self.tokens_estimated,
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "ttft_ms": self.ttft_ms,
            "attempts": self.attempts,
            "created_at": self.created_at,
        }
