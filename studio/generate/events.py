"""What a run tells its watchers (the CLI's progress bar, the TUI) while it works.

Plain frozen dataclasses, posted in order for each job: ``JobStarted`` on every attempt, any
number of ``JobDelta`` while it streams, then ``JobFailed`` (``will_retry`` says whether
another attempt follows) or ``JobFinished``. ``RunFinished`` closes the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.store import Generation


@dataclass(frozen=True)
class JobStarted:
    job_id: str
    model: str
    attempt: int


@dataclass(frozen=True)
class JobDelta:
    job_id: str
    text: str


@dataclass(frozen=True)
class JobFinished:
    """A job ended for good: ``generation.status`` is ok, error or cancelled."""

    generation: Generation


@dataclass(frozen=True)
class JobFailed:
    """An attempt failed. With ``will_retry`` the job goes on after ``delay`` seconds."""

    job_id: str
    model: str
    attempt: int
    error_class: str
    message: str
    will_retry: bool
    delay: float = 0.0


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    n_jobs: int
    ok: int
    error: int
    cancelled: int
    skipped: int  # done before this session (resume)
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    elapsed_s: float

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "n_jobs": self.n_jobs,
            "counts": {"ok": self.ok, "error": self.error, "cancelled": self.cancelled},
            "skipped": self.skipped,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "elapsed_s": round(self.elapsed_s, 3),
        }


@dataclass(frozen=True)
class RunFinished:
    summary: RunSummary


Event = JobStarted | JobDelta | JobFinished | JobFailed | RunFinished
