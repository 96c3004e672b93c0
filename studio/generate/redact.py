"""Keep API keys out of the database, logs, error messages and exports.

Secrets are known two ways: the values of environment variables whose names say they hold a
secret (``*_API_KEY``, ``*_TOKEN``, ...) or that a config names as a key, and the shapes keys
commonly take (``sk-...``, ``Bearer ...``) for keys we were never told about.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)
# Shapes of keys we were never told about, each with what to keep of the match.
_BEARER = re.compile(r"\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9_\-.=+/*~]{6,}", re.IGNORECASE)
_SK = re.compile(r"\bsk-[A-Za-z0-9_\-*.]{6,}")
_ASSIGNED = re.compile(
    r"\b((?:api[_-]?key|x-api-key|access[_-]?token|secret)[\"']?\s*[:=]\s*[\"']?)([^\s\"',}]{6,})",
    re.IGNORECASE,
)
MASK = "[REDACTED]"
_MIN_SECRET_LEN = 6


def secret_values(
    environ: Mapping[str, str] | None = None, extra_names: Iterable[str] = ()
) -> set[str]:
    """Values of env vars that hold secrets, by their names or because a config says so."""
    env = os.environ if environ is None else environ
    names = {n for n in env if _SECRET_NAME.search(n)} | set(extra_names)
    return {env[n] for n in names if len(env.get(n, "")) >= _MIN_SECRET_LEN}


class Redactor:
    """Replaces known secrets and key-shaped strings with ``[REDACTED]``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = {s for s in secrets if len(s) >= _MIN_SECRET_LEN}

    @classmethod
    def from_environment(cls, extra_names: Iterable[str] = ()) -> Redactor:
        return cls(secret_values(extra_names=extra_names))

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LEN:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        # Longest first, so a key that contains another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
        text = _SK.sub(MASK, text)
        return _ASSIGNED.sub(lambda m: f"{m.group(1)}{MASK}", text)
