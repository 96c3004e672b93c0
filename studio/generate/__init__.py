"""Generation: RunSpec -> jobs -> model calls (litellm, or direct) -> stored generations.

Importing this package is cheap: litellm is imported only by ``gateway.load_litellm()``, on
first use, and never at import time.

For a face (CLI, TUI)::

    prepared = prepare_run(store, library, spec)      # raises ModelError before any write
    session = RunSession(store, prepared)             # or prepare_resume(store, run_id)
    async for event in session.events(): ...          # in one task
    summary = await session.run()                     # in another; session.cancel() stops it
"""

import studio.generate.logs  # noqa: F401  (installs the NullHandler on the studio logger)
from studio.generate.config import (
    ModelConfig,
    ModelRoute,
    available_models,
    load_config,
    resolve_model,
)
from studio.generate.errors import CallError, ConfigError, FailureKind, GenerationError, ModelError
from studio.generate.events import (
    Event,
    JobDelta,
    JobFailed,
    JobFinished,
    JobStarted,
    RunFinished,
    RunSummary,
)
from studio.generate.runner import Runner, generate_batch, generate_batch_async
from studio.generate.session import PreparedRun, RunSession, prepare_resume, prepare_run
from studio.generate.spec import Job, Plan, RunSettings, RunSpec, plan

__all__ = [
    "CallError",
    "ConfigError",
    "Event",
    "FailureKind",
    "GenerationError",
    "Job",
    "JobDelta",
    "JobFailed",
    "JobFinished",
    "JobStarted",
    "ModelConfig",
    "ModelError",
    "ModelRoute",
    "Plan",
    "PreparedRun",
    "RunFinished",
    "RunSession",
    "RunSettings",
    "RunSpec",
    "RunSummary",
    "Runner",
    "available_models",
    "generate_batch",
    "generate_batch_async",
    "load_config",
    "plan",
    "prepare_resume",
    "prepare_run",
    "resolve_model",
]
