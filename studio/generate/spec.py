"""RunSpec and the planner: a grid of personas x topics x styles x models x samples -> jobs.

Planning expands the grid in one fixed order (persona, topic, style, model, sample), so the
same spec gives the same jobs in the same order everywhere. A job's id is the SHA-256 of the
canonical JSON of its rendered messages, model, sampling parameters and sample index: the same
job has the same id in every process and on every machine, which is how resume works.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from studio.prompts import Message, Prompt, content_hash

if TYPE_CHECKING:
    from collections.abc import Callable

    from studio.library import Library

SAMPLING_KEYS = ("temperature", "top_p", "max_tokens")


@dataclass(frozen=True)
class RunSettings:
    """How a run executes. None of it changes what a job is, so none of it is in job ids."""

    concurrency: int = 16  # per provider: the start and the ceiling of the adaptive limit
    timeout: float = 120.0  # seconds without a byte (between chunks when streaming)
    max_attempts: int = 5
    stream: bool = True
    n_per_call: int = 1  # samples of one prompt asked for in one call with `n`
    rpm: float | None = None
    tpm: float | None = None
    retry_after_cap: float = 60.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    transport: str = "auto"  # auto | litellm | direct

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class RunSpec:
    """What to generate. Sampling values left None fall back to each style's defaults."""

    personas: tuple[str, ...]
    topics: tuple[str, ...]
    styles: tuple[str, ...]
    models: tuple[str, ...]
    samples: int = 1
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int = 0
    name: str = ""
    api_base: str | None = None
    api_key_env: str | None = None
    settings: RunSettings = field(default_factory=RunSettings)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["settings"] = self.settings.as_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSpec:
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("personas", "topics", "styles", "models"):
            values[key] = tuple(values.get(key) or ())
        values["settings"] = RunSettings.from_dict(data.get("settings") or {})
        return cls(**values)

    def with_settings(self, **changes: Any) -> RunSpec:
        return replace(self, settings=replace(self.settings, **changes))


@dataclass(frozen=True)
class Job:
    """One sample of one prompt from one model: the unit that is generated, stored and resumed.

    ``params`` are what identify the job (the run's seed included); ``request_params`` are
    what the model is sent, with the seed of this very sample.
    """

    id: str
    prompt: Prompt
    model: str
    sample_index: int
    params: dict[str, Any]

    @property
    def seed(self) -> int:
        return int(self.params.get("seed", 0)) + self.sample_index

    @property
    def request_params(self) -> dict[str, Any]:
        sent = {k: v for k, v in self.params.items() if k in SAMPLING_KEYS}
        sent["seed"] = self.seed
        return sent


@dataclass(frozen=True)
class Plan:
    spec: RunSpec
    prompts: tuple[Prompt, ...]
    jobs: tuple[Job, ...]

    def spec_record(self) -> dict[str, Any]:
        """The spec plus each prompt's hash and parameters: enough to resume without the library."""
        entries = []
        seen: set[str] = set()
        for job in self.jobs:
            key = job.prompt.hash
            if key in seen:
                continue
            seen.add(key)
            p = job.prompt
            entries.append(
                {"hash": key, "persona": p.persona_id, "topic": p.topic_path, "style": p.style_id,
                 "language": p.language, "defaults": p.defaults}
            )  # fmt: skip
        return {**self.spec.as_dict(), "prompts": entries}


def job_id(messages: list[dict[str, str]], model: str, params: dict[str, Any], sample: int) -> str:
    return content_hash({"messages": messages, "model": model, "params": params, "sample": sample})


def sampling_params(spec: RunSpec, defaults: dict[str, Any]) -> dict[str, Any]:
    """The run's values over the style's defaults; unset ones are left out, not sent as null."""
    params: dict[str, Any] = {}
    for key in SAMPLING_KEYS:
        value = getattr(spec, key)
        if value is None:
            value = defaults.get(key)
        if value is not None:
            params[key] = value
    params["seed"] = spec.seed
    return params


def expand(spec: RunSpec, prompts: list[Prompt]) -> list[Job]:
    """Jobs for ``prompts`` (already in persona, topic, style order) x models x samples."""
    jobs: list[Job] = []
    for prompt in prompts:
        messages = prompt.message_dicts()
        params = sampling_params(spec, prompt.defaults)
        for model in spec.models:
            for sample in range(spec.samples):
                jid = job_id(messages, model, params, sample)
                jobs.append(Job(jid, prompt, model, sample, params))
    return jobs


def plan(spec: RunSpec, library: Library) -> Plan:
    """Render every prompt of the grid and expand it into jobs.

    Raises KeyError (unknown persona, topic or style) or PromptError (a template fails).
    """
    from studio.prompts import render_prompt

    if spec.samples < 1:
        raise ValueError("samples must be at least 1")
    prompts: list[Prompt] = []
    for persona_id in spec.personas:
        persona = library.persona(persona_id)
        for topic_path in spec.topics:
            topic = library.topic(topic_path)
            for style_id in spec.styles:
                prompts.append(render_prompt(persona, topic, library.style(style_id)))
    return Plan(spec, tuple(prompts), tuple(expand(spec, prompts)))


def replan(record: dict[str, Any], messages_of: Callable[[str], list[dict[str, str]]]) -> Plan:
    """Rebuild a stored run's plan from its spec record and stored prompts (for resume).

    The library may have changed since; the stored messages are what the jobs were.
    """
    spec = RunSpec.from_dict(record)
    prompts = [
        Prompt(
            messages=tuple(Message(m["role"], m["content"]) for m in messages_of(entry["hash"])),
            persona_id=entry["persona"],
            topic_path=entry["topic"],
            style_id=entry["style"],
            language=entry.get("language", ""),
            defaults=dict(entry.get("defaults") or {}),
        )
        for entry in record.get("prompts", [])
    ]
    return Plan(spec, tuple(prompts), tuple(expand(spec, prompts)))
