"""Errors of the generation engine, each with a one-line message fit for a terminal.

``ModelError`` and ``ConfigError`` stop a run before it starts. ``CallError`` is one failed
model call, classified so the retry policy can decide without looking at provider types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class GenerationError(Exception):
    """Base class of everything the engine raises on purpose."""


class ModelError(GenerationError):
    """An unknown model or provider, or one whose key is missing: caught before the run."""


class ConfigError(GenerationError):
    """A bad ``models.yaml``; ``str()`` reads ``file:line: field: message``."""

    def __init__(self, path: Path | None, line: int, field_name: str, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field_name
        self.message = message
        super().__init__(f"{path or '<config>'}:{line}: {field_name}: {message}")


class FailureKind(StrEnum):
    """Why a call failed, in the terms the retry policy decides on."""

    RATE_LIMIT = "rate_limit"  # 429
    SERVER = "server"  # 5xx
    TIMEOUT = "timeout"  # no byte within the timeout
    CONNECTION = "connection"  # refused, reset, dropped
    CUT_STREAM = "cut_stream"  # a stream that ended before its finish
    BAD_RESPONSE = "bad_response"  # malformed JSON or a response without choices
    CLIENT = "client"  # 400, 404, 422: the request itself is wrong
    AUTH = "auth"  # 401, 403
    OTHER = "other"


RETRYABLE = frozenset(
    {
        FailureKind.RATE_LIMIT,
        FailureKind.SERVER,
        FailureKind.TIMEOUT,
        FailureKind.CONNECTION,
        FailureKind.CUT_STREAM,
        FailureKind.BAD_RESPONSE,
    }
)


@dataclass
class CallError(GenerationError):
    """One failed call. ``message`` is already redacted; ``partial`` is text streamed so far."""

    kind: FailureKind
    message: str
    error_class: str
    status: int | None = None
    retry_after: float | None = None
    partial: str = ""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE
