"""Making one model call: through litellm, or straight to an OpenAI-compatible server.

Both transports take a ``CallRequest`` and return a ``CallResult`` or raise a ``CallError``
whose message is redacted and whose kind the retry policy understands. Neither retries:
litellm is called with ``max_retries=0`` and the runner owns the policy.

``DirectTransport`` speaks ``/chat/completions`` with one shared aiohttp session. litellm
spends about 4 ms of CPU per call, which caps one process near 200-250 calls/s; for servers
known to be OpenAI-compatible (``--api-base``, ``models.yaml`` endpoints) the direct path
removes that overhead. Every other provider goes through litellm.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from studio.generate.errors import CallError, FailureKind
from studio.generate.retry import parse_retry_after

if TYPE_CHECKING:
    from collections.abc import Callable

    import aiohttp

    from studio.generate.config import ModelRoute
    from studio.generate.redact import Redactor


@dataclass(frozen=True)
class CallRequest:
    route: ModelRoute
    messages: list[dict[str, str]]
    params: dict[str, Any]  # temperature, top_p, max_tokens, seed: only those set
    n: int = 1
    stream: bool = True
    timeout: float = 120.0


@dataclass
class ChoiceResult:
    text: str
    finish_reason: str | None


@dataclass
class CallResult:
    choices: list[ChoiceResult]
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    ttft_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


DeltaCallback = "Callable[[str], None] | None"


class Transport(Protocol):
    async def call(
        self, request: CallRequest, on_delta: Callable[[str], None] | None = None
    ) -> CallResult: ...

    async def close(self) -> None: ...


def _status_kind(status: int) -> FailureKind:
    if status == 429:
        return FailureKind.RATE_LIMIT
    if status in (401, 403):
        return FailureKind.AUTH
    if status in (408, 409, 425):
        return FailureKind.SERVER
    if status >= 500:
        return FailureKind.SERVER
    if 400 <= status < 500:
        return FailureKind.CLIENT
    return FailureKind.OTHER


def _one_line(text: str, limit: int = 500) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# -- litellm -----------------------------------------------------------------------------------


class LiteLLMTransport:
    """Calls ``litellm.acompletion`` (import it through the gateway first)."""

    def __init__(self, redact: Redactor) -> None:
        from studio.generate.gateway import load_litellm

        self._litellm = load_litellm()
        self._redact = redact

    async def close(self) -> None:
        return None

    async def call(
        self, request: CallRequest, on_delta: Callable[[str], None] | None = None
    ) -> CallResult:
        route = request.route
        kwargs: dict[str, Any] = {
            "model": route.litellm_model,
            "messages": request.messages,
            "timeout": request.timeout,
            "max_retries": 0,
            **request.params,
        }
        if request.n > 1:
            kwargs["n"] = request.n
        if route.api_base:
            kwargs["api_base"] = route.api_base
            # The OpenAI SDK refuses to start without some key, even for a keyless server.
            kwargs["api_key"] = route.api_key() or "no-key"
        elif route.api_key_env:
            kwargs["api_key"] = route.api_key()
        started = time.monotonic()
        partial: list[str] = []
        try:
            if request.stream and request.n == 1:
                kwargs["stream"] = True
                kwargs["stream_options"] = {"include_usage": True}
                return await self._stream(kwargs, request.timeout, started, partial, on_delta)
            async with asyncio.timeout(request.timeout + 5.0):
                response = await self._litellm.acompletion(**kwargs)
            return self._result(response)
        except CallError:
            raise
        except Exception as exc:
            raise self.classify(exc, "".join(partial)) from None

    async def _stream(
        self,
        kwargs: dict[str, Any],
        timeout: float,
        started: float,
        partial: list[str],
        on_delta: Callable[[str], None] | None,
    ) -> CallResult:
        loop = asyncio.get_running_loop()
        ttft: float | None = None
        finish: str | None = None
        usage: Any = None
        # The gap between chunks is the timeout, as litellm defines it while streaming; ours is
        # enforced here too because a server that hangs mid-stream must not hang the run.
        async with asyncio.timeout(timeout + 5.0) as deadline:
            stream = await self._litellm.acompletion(**kwargs)
            deadline.reschedule(loop.time() + timeout + 5.0)
            async for chunk in stream:
                deadline.reschedule(loop.time() + timeout + 5.0)
                choices = getattr(chunk, "choices", None) or []
                if choices:
                    choice = choices[0]
                    text = getattr(choice.delta, "content", None)
                    if text:
                        if ttft is None:
                            ttft = time.monotonic() - started
                        partial.append(text)
                        if on_delta is not None:
                            on_delta(text)
                    if choice.finish_reason:
                        finish = choice.finish_reason
                found = getattr(chunk, "usage", None)
                if found is not None:
                    usage = found
        text = "".join(partial)
        if finish is None:
            raise CallError(FailureKind.CUT_STREAM, "stream ended without a finish reason",
                            "CutStream", partial=text)  # fmt: skip
        # litellm invents a usage block with its own count when the server sent none, and the
        # two look the same. Its stream wrapper keeps the provider's chunks (litellm 1.110):
        # usage counts as reported only when one of them carried it.
        kept = getattr(stream, "chunks", None)
        reported = kept is None or any(getattr(c, "usage", None) is not None for c in kept)
        if not reported:
            usage = None
        return CallResult(
            [ChoiceResult(text, finish)],
            prompt_tokens=getattr(usage, "prompt_tokens", None) if usage else None,
            completion_tokens=getattr(usage, "completion_tokens", None) if usage else None,
            ttft_s=ttft,
        )

    @staticmethod
    def _result(response: Any) -> CallResult:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise CallError(FailureKind.BAD_RESPONSE, "response has no choices", "BadResponse")
        results = [
            ChoiceResult(getattr(c.message, "content", None) or "", c.finish_reason)
            for c in sorted(choices, key=lambda c: getattr(c, "index", 0) or 0)
        ]
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", None) if usage else None
        completion = getattr(usage, "completion_tokens", None) if usage else None
        # litellm fills a zero usage when the server sent none: treat that as missing.
        if not prompt and not completion:
            prompt = completion = None
        return CallResult(results, prompt_tokens=prompt, completion_tokens=completion)

    def classify(self, exc: BaseException, partial: str = "") -> CallError:
        """Map litellm's (and the SDK's) exceptions onto our failure kinds."""
        from litellm import exceptions as lx

        name = type(exc).__name__
        message = self._redact(_one_line(getattr(exc, "message", None) or str(exc) or name))
        status = getattr(exc, "status_code", None)
        status = status if isinstance(status, int) else None
        retry_after = _retry_after_of(exc)
        if isinstance(exc, TimeoutError | asyncio.TimeoutError | lx.Timeout):
            return CallError(FailureKind.TIMEOUT, message or "timed out", "Timeout", status,
                             partial=partial)  # fmt: skip
        if isinstance(exc, lx.MidStreamFallbackError):
            text = getattr(exc, "generated_content", "") or partial
            return CallError(FailureKind.CUT_STREAM, message, name, status, retry_after, text)
        if isinstance(exc, json.JSONDecodeError) or "JSONDecodeError" in message:
            return CallError(FailureKind.BAD_RESPONSE, message, name, status, partial=partial)
        if isinstance(exc, lx.RateLimitError):
            return CallError(FailureKind.RATE_LIMIT, message, name, 429, retry_after, partial)
        if isinstance(exc, lx.APIConnectionError):
            return CallError(FailureKind.CONNECTION, message, name, status, partial=partial)
        if isinstance(exc, lx.APIResponseValidationError):
            return CallError(FailureKind.BAD_RESPONSE, message, name, status, partial=partial)
        if status is not None:
            kind = _status_kind(status)
            if kind is FailureKind.OTHER and partial:
                kind = FailureKind.CUT_STREAM
            return CallError(kind, message, name, status, retry_after, partial)
        if isinstance(exc, lx.APIError):
            return CallError(FailureKind.SERVER, message, name, status, retry_after, partial)
        return CallError(FailureKind.OTHER, message, name, status, partial=partial)


def _retry_after_of(exc: BaseException) -> float | None:
    for source in (getattr(exc, "litellm_response_headers", None), getattr(exc, "headers", None)):
        if source:
            found = parse_retry_after(_header(source, "retry-after"))
            if found is not None:
                return found
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        return parse_retry_after(_header(headers, "retry-after"))
    return None


def _header(headers: Any, name: str) -> str | None:
    try:
        value = headers.get(name) or headers.get(name.title())
    except AttributeError:
        return None
    return str(value) if value is not None else None


# -- direct to an OpenAI-compatible server ------------------------------------------------------


class DirectTransport:
    """``POST {api_base}/chat/completions`` over one shared aiohttp session."""

    def __init__(self, redact: Redactor) -> None:
        self._redact = redact
        self._session: aiohttp.ClientSession | None = None

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            import aiohttp

            # Our limiter bounds concurrency; the connector must not add a second, lower one.
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, json_serialize=json.dumps, raise_for_status=False
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self, request: CallRequest, on_delta: Callable[[str], None] | None = None
    ) -> CallResult:
        import aiohttp

        route = request.route
        assert route.api_base is not None
        url = f"{route.api_base}/chat/completions"
        body: dict[str, Any] = {
            "model": route.wire_model,
            "messages": request.messages,
            **request.params,
        }
        if request.n > 1:
            body["n"] = request.n
        stream = request.stream and request.n == 1
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        headers = {"Content-Type": "application/json"}
        key = route.api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        session = await self._client()
        started = time.monotonic()
        partial: list[str] = []
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(request.timeout) as deadline:
                async with session.post(url, data=json.dumps(body), headers=headers) as resp:
                    if resp.status >= 400:
                        await self._raise_status(resp)
                    if stream:
                        return await self._read_stream(
                            resp, deadline, loop, request.timeout, started, partial, on_delta
                        )
                    raw = await resp.read()
            return _parse_completion(raw)
        except CallError:
            raise
        except TimeoutError:
            raise CallError(FailureKind.TIMEOUT, f"no response within {request.timeout:g}s",
                            "Timeout", partial="".join(partial)) from None  # fmt: skip
        except aiohttp.ClientPayloadError as exc:
            raise CallError(FailureKind.CUT_STREAM, self._redact(_one_line(str(exc))),
                            "CutStream", partial="".join(partial)) from None  # fmt: skip
        except (aiohttp.ClientError, OSError) as exc:
            kind = FailureKind.CUT_STREAM if partial else FailureKind.CONNECTION
            raise CallError(kind, self._redact(_one_line(str(exc) or type(exc).__name__)),
                            type(exc).__name__, partial="".join(partial)) from None  # fmt: skip

    async def _raise_status(self, resp: aiohttp.ClientResponse) -> None:
        text = await resp.text(errors="replace")
        try:
            detail = json.loads(text).get("error", {})
            message = detail.get("message") if isinstance(detail, dict) else str(detail)
        except (ValueError, AttributeError):
            message = text
        kind = _status_kind(resp.status)
        raise CallError(
            kind,
            self._redact(_one_line(f"HTTP {resp.status}: {message or resp.reason}")),
            {FailureKind.RATE_LIMIT: "RateLimitError", FailureKind.AUTH: "AuthenticationError",
             FailureKind.CLIENT: "BadRequestError"}.get(kind, "ServerError"),
            status=resp.status,
            retry_after=parse_retry_after(resp.headers.get("Retry-After")),
        )  # fmt: skip

    async def _read_stream(
        self,
        resp: aiohttp.ClientResponse,
        deadline: asyncio.Timeout,
        loop: asyncio.AbstractEventLoop,
        timeout: float,
        started: float,
        partial: list[str],
        on_delta: Callable[[str], None] | None,
    ) -> CallResult:
        ttft: float | None = None
        finish: str | None = None
        usage: dict[str, Any] | None = None
        done = False
        deadline.reschedule(loop.time() + timeout)
        async for raw_line in resp.content:
            deadline.reschedule(loop.time() + timeout)
            line = raw_line.strip()
            if not line.startswith(b"data:"):
                continue
            data = line[5:].strip()
            if data == b"[DONE]":
                done = True
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                raise CallError(FailureKind.BAD_RESPONSE, "malformed JSON in stream",
                                "BadResponse", partial="".join(partial)) from None  # fmt: skip
            if isinstance(chunk, dict) and "error" in chunk:
                message = str(chunk["error"].get("message", chunk["error"]))
                raise CallError(FailureKind.SERVER, self._redact(_one_line(message)),
                                "StreamError", partial="".join(partial))  # fmt: skip
            for choice in chunk.get("choices") or ():
                text = (choice.get("delta") or {}).get("content")
                if text:
                    if ttft is None:
                        ttft = time.monotonic() - started
                    partial.append(text)
                    if on_delta is not None:
                        on_delta(text)
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
            if chunk.get("usage"):
                usage = chunk["usage"]
        text = "".join(partial)
        if finish is None:
            reason = "stream ended without a finish reason" + ("" if done else " or [DONE]")
            raise CallError(FailureKind.CUT_STREAM, reason, "CutStream", partial=text)
        return CallResult(
            [ChoiceResult(text, finish)],
            prompt_tokens=(usage or {}).get("prompt_tokens"),
            completion_tokens=(usage or {}).get("completion_tokens"),
            ttft_s=ttft,
        )


def _parse_completion(raw: bytes) -> CallResult:
    try:
        data = json.loads(raw)
        choices = data["choices"]
    except (ValueError, KeyError, TypeError):
        raise CallError(
            FailureKind.BAD_RESPONSE, "malformed JSON response", "BadResponse"
        ) from None
    if not choices:
        raise CallError(FailureKind.BAD_RESPONSE, "response has no choices", "BadResponse")
    results = [
        ChoiceResult((c.get("message") or {}).get("content") or "", c.get("finish_reason"))
        for c in sorted(choices, key=lambda c: c.get("index", 0))
    ]
    usage = data.get("usage") or {}
    return CallResult(
        results,
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )
