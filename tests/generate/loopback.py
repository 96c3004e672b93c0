"""A loopback OpenAI-compatible server of our own, with faults on request.

It runs on its own event loop in a daemon thread, so in-process tests (any event loop) and
``studio generate`` subprocesses can all reach it. Behaviour is set per model name: a script
of actions consumed one per request (then ``ok`` for ever), plus a chunk delay. Every request
is logged with its body and headers so tests can check what reached the server.

Actions: ``ok``, ``429`` (``429:<retry-after seconds>``), ``500``, ``503``, ``400``, ``401``
(echoes the key back, as careless servers do), ``hang`` (never answers), ``malformed``
(invalid JSON), ``cut`` (a stream cut mid-way, or a body cut short), ``nodone`` (a stream with
its finish reason that ends cleanly without ``[DONE]``), ``nousage`` (no usage block).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Seen:
    model: str
    body: dict[str, Any]
    headers: dict[str, str]
    action: str
    at: float
    in_flight: int = 0  # this model's requests being served as it arrived, itself included


@dataclass
class ModelBehaviour:
    script: deque[str] = field(default_factory=deque)
    chunk_delay: float = 0.0
    latency: float = 0.0
    words: int = 12
    in_flight: int = 0  # requests for this model being served now


def answer_text(body: dict[str, Any], index: int, words: int) -> str:
    seed = body.get("seed")
    temperature = body.get("temperature")
    base = f"loopback seed={seed} temperature={temperature} choice={index}"
    filler = " ".join(f"w{(i * 7 + (seed or 0) + index) % 97}" for i in range(words))
    return f"{base}: {filler}."


class LoopbackServer:
    def __init__(self) -> None:
        self.behaviours: dict[str, ModelBehaviour] = defaultdict(ModelBehaviour)
        self.seen: list[Seen] = []
        self.default_latency = 0.0
        self.keep_log = True
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- control from tests ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, model: str, *actions: str, chunk_delay: float = 0.0, words: int = 12) -> None:
        with self._lock:
            self.behaviours[model] = ModelBehaviour(deque(actions), chunk_delay, 0.0, words)

    def requests_for(self, model: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.model == model]

    def start(self) -> LoopbackServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    # -- serving ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw)
        model = body.get("model", "")
        with self._lock:
            behaviour = self.behaviours[model]
            action = behaviour.script.popleft() if behaviour.script else "ok"
            behaviour.in_flight += 1
            if self.keep_log:
                self.seen.append(Seen(model, body, dict(request.headers), action,
                                      time.monotonic(), behaviour.in_flight))  # fmt: skip
        try:
            return await self._respond(request, body, behaviour, action)
        finally:
            with self._lock:
                behaviour.in_flight -= 1

    async def _respond(
        self, request: web.Request, body: dict[str, Any], behaviour: ModelBehaviour, action: str
    ) -> web.StreamResponse:
        latency = behaviour.latency or self.default_latency
        if latency:
            await asyncio.sleep(latency)
        kind, _, arg = action.partition(":")
        stream = bool(body.get("stream"))
        if kind == "429":
            return _error(429, "rate limited", {"Retry-After": arg or "0"})
        if kind in ("500", "503", "400"):
            return _error(int(kind), f"injected {kind}")
        if kind == "401":
            key = request.headers.get("Authorization", "")
            return _error(401, f"Incorrect API key provided: {key.removeprefix('Bearer ')}")
        if kind == "hang":
            await asyncio.sleep(3600)
        if kind == "malformed" and not stream:
            broken = b'{"id": "x", "choices": [{"message": '
            return web.Response(body=broken, content_type="application/json")
        if not stream:
            payload = self._complete(body, behaviour, usage=kind != "nousage")
            if kind == "cut":
                return await _cut_body(request, payload)
            return web.Response(body=payload, content_type="application/json")
        return await self._stream(request, body, behaviour, kind)

    def _complete(self, body: dict[str, Any], behaviour: ModelBehaviour, usage: bool) -> bytes:
        n = int(body.get("n") or 1)
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": answer_text(body, i, behaviour.words)},
                "finish_reason": "stop",
            }
            for i in range(n)
        ]
        completion = sum(len(c["message"]["content"].split()) for c in choices)
        data = {
            "id": "chatcmpl-loopback",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model"),
            "choices": choices,
            "usage": {
                "prompt_tokens": 11,
                "completion_tokens": completion,
                "total_tokens": 11 + completion,
            },
        }
        if not usage:
            del data["usage"]
        return json.dumps(data).encode()

    async def _stream(
        self, request: web.Request, body: dict[str, Any], behaviour: ModelBehaviour, kind: str
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        text = answer_text(body, 0, behaviour.words)
        pieces = [w + " " for w in text.split(" ")]
        base = {
            "id": "chatcmpl-loopback",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": body.get("model"),
        }

        async def send(data: dict[str, Any] | str) -> None:
            raw = data if isinstance(data, str) else json.dumps(data)
            await response.write(f"data: {raw}\n\n".encode())

        for i, piece in enumerate(pieces):
            if kind == "cut" and i == len(pieces) // 2:
                # Drop the connection mid-stream without ending the chunked body.
                transport = request.transport
                if transport is not None:
                    transport.abort()
                return response
            if kind == "stall" and i == 3:
                # A few chunks, then nothing: the connection stays open and silent.
                await asyncio.sleep(3600)
            if kind == "malformed" and i == 2:
                await response.write(b"data: {this is not json\n\n")
                continue
            await send(
                {
                    **base,
                    "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                }
            )
            if behaviour.chunk_delay:
                await asyncio.sleep(behaviour.chunk_delay)
        await send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage") and kind != "nousage":
            usage = {
                "prompt_tokens": 11,
                "completion_tokens": len(pieces),
                "total_tokens": 11 + len(pieces),
            }
            await send({**base, "choices": [], "usage": usage})
        if kind != "nodone":
            await send("[DONE]")
        await response.write_eof()
        return response


async def _cut_body(request: web.Request, payload: bytes) -> web.StreamResponse:
    """Promise the whole body, send half, then drop the connection."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(payload)
    await response.prepare(request)
    await response.write(payload[: len(payload) // 2])
    if request.transport is not None:
        request.transport.abort()
    return response


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": "injected", "code": status}}
    return web.json_response(body, status=status, headers=headers)


if __name__ == "__main__":  # for benchmarks, and to try `studio generate --api-base` by hand
    import sys

    server = LoopbackServer()
    server.default_latency = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    server.keep_log = False
    server.start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()
