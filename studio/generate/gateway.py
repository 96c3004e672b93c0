"""The one door to litellm: imported once, lazily, with the settings DESIGN 4 measured.

``import litellm`` costs about 3 s, reaches the network unless told not to, prints through
loggers bound to stdout (which corrupts a TUI) and leaves ~190 MB of objects that make every
full garbage collection pause for 200 ms. ``load_litellm()`` sets the offline flags before the
import, takes over the ``LiteLLM*`` loggers after it, freezes the heap and registers the offline
provider. It is thread-safe, so the TUI can call it from a worker thread while the UI runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import threading
from collections import deque
from types import ModuleType
from typing import TYPE_CHECKING, Any

from studio.generate.redact import Redactor
from studio.tokens import ensure_offline_tiktoken

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
OFFLINE_PROVIDER = "offline"

_lock = threading.Lock()
_module: ModuleType | None = None
_log_buffer: deque[str] = deque(maxlen=500)
# The redactor litellm's log records pass through; runs add the keys they use.
_log_redactor = Redactor()

log = logging.getLogger("studio.generate")


class _CapturedLogHandler(logging.Handler):
    """Takes litellm's log records off stdout: redacted, kept in memory, passed to ours."""

    def __init__(self, redact: Callable[[str], str]) -> None:
        super().__init__(level=logging.DEBUG)
        self._redact = redact

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self._redact(record.getMessage())
        except Exception:  # a record whose arguments don't format must not break a call
            text = self._redact(str(record.msg))
        _log_buffer.append(f"{record.levelname} {record.name}: {text}")
        log.log(record.levelno, "litellm: %s", text)


def _set_environment() -> None:
    # Without these the import fetches the model price map and more from the network.
    os.environ["LITELLM_OFFLINE_MODE"] = "true"
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    # The import crashes on an empty LITELLM_LOG, so replace empty as well as unset.
    if not os.environ.get("LITELLM_LOG"):
        os.environ["LITELLM_LOG"] = "ERROR"
    # litellm overwrites TIKTOKEN_CACHE_DIR with its bundled folder unless this is set,
    # so a user's own tiktoken cache must be passed on through its variable.
    user_cache = os.environ.get("TIKTOKEN_CACHE_DIR")
    if user_cache and not os.environ.get("CUSTOM_TIKTOKEN_CACHE_DIR"):
        os.environ["CUSTOM_TIKTOKEN_CACHE_DIR"] = user_cache
    ensure_offline_tiktoken()


def _configure(litellm: Any) -> None:
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    # Anthropic and others reject `seed` and `n`; dropping them beats failing the run.
    litellm.drop_params = True
    for secret in Redactor.from_environment().secrets:
        _log_redactor.add(secret)
    for name in _LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.addHandler(_CapturedLogHandler(_log_redactor))
        logger.propagate = False
    from studio.generate.offline import make_offline_handler

    handler = make_offline_handler()
    providers = [p for p in litellm.custom_provider_map if p.get("provider") != OFFLINE_PROVIDER]
    litellm.custom_provider_map = [
        *providers,
        {"provider": OFFLINE_PROVIDER, "custom_handler": handler},
    ]
    litellm.utils.custom_llm_setup()


def load_litellm() -> ModuleType:
    """Import and configure litellm once per process; later calls return it at once."""
    global _module
    if _module is not None:
        return _module
    with _lock:
        if _module is None:
            _set_environment()
            import litellm

            _configure(litellm)
            _prime(litellm)
            # Move the import's ~190 MB of long-lived objects out of the collector's sight.
            # Only the young generations are collected first: a full pass over this heap
            # holds the GIL for ~180 ms, a stall for a UI drawing on another thread.
            gc.collect(1)
            gc.freeze()
            _module = litellm
    return _module


def _prime(litellm: Any) -> None:
    """Stream one tiny offline completion, so litellm's lazy imports happen now.

    litellm 1.110 imports much of its streaming code on the first streamed chunk (module
    ``__getattr__`` hooks): tens of ms with the GIL held, in the middle of the first run's
    stream otherwise. Skipped when called on a running event loop.
    """
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop()
        return

    async def stream_once() -> None:
        response = await litellm.acompletion(
            model=f"{OFFLINE_PROVIDER}/instant",
            messages=[{"role": "user", "content": "Write one line."}],
            max_tokens=4,
            stream=True,
            stream_options={"include_usage": True},
        )
        async for _chunk in response:
            pass

    try:
        asyncio.run(stream_once())
    except Exception as exc:  # priming is an optimisation: never fail the import for it
        log.debug("priming litellm failed: %s", type(exc).__name__)


def redact_in_logs(secrets: Iterable[str | None]) -> None:
    """Mask these values in litellm's captured log records from now on."""
    for secret in secrets:
        _log_redactor.add(secret)


def litellm_loaded() -> bool:
    return _module is not None


def captured_logs() -> list[str]:
    """litellm's recent log lines (redacted), newest last."""
    return list(_log_buffer)
