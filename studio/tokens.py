"""Token counting with tiktoken, kept off the network.

tiktoken downloads its BPE files on first use. litellm ships cl100k_base, o200k_base and
p50k_base in ``litellm/litellm_core_utils/tokenizers/`` under tiktoken's cache-key file names,
so pointing ``TIKTOKEN_CACHE_DIR`` there makes tiktoken work offline. We find that folder
through the import system *without importing litellm* (which costs seconds), and only when the
user has not chosen a cache directory of their own.
"""

from __future__ import annotations

import importlib.util
import os
import struct
import subprocess
import sys
import threading
from array import array
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tiktoken

DEFAULT_ENCODING = "cl100k_base"


def bundled_tiktoken_dir() -> Path | None:
    """Return litellm's folder of bundled tiktoken files, or None when it is absent."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        folder = Path(root) / "litellm_core_utils" / "tokenizers"
        if folder.is_dir():
            return folder
    return None


def ensure_offline_tiktoken() -> None:
    """Point tiktoken at litellm's bundled files unless the user set a cache dir."""
    if os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR"):
        return
    folder = bundled_tiktoken_dir()
    if folder is not None:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)


@lru_cache(maxsize=8)
def encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """Load a tiktoken encoding once per process."""
    ensure_offline_tiktoken()
    import tiktoken

    return tiktoken.get_encoding(name)


#: how a text may be cut so that its token count is the sum of its pieces' counts
#: (:func:`studio.metrics.kernels.token_segments`), for the encodings whose pre-tokenizer
#: patterns allow it (checked against tiktoken on real and random text in the tests)
_SEGMENT_RULES = {"cl100k_base": "spaces+lines", "o200k_base": "spaces", "p50k_base": "spaces"}


def segment_rule(encoding_name: str = DEFAULT_ENCODING) -> str | None:
    """The segment rule :class:`studio.metrics.scorer.TextScorer` may use for this
    encoding's counts, or None (count whole texts)."""
    return _SEGMENT_RULES.get(encoding_name)


def count_tokens(text: str, encoding_name: str = DEFAULT_ENCODING) -> int:
    """Number of tiktoken tokens in ``text``; special-token text is counted as plain text."""
    return len(encoding(encoding_name).encode(text, disallowed_special=()))


def count_tokens_batch(texts: list[str], encoding_name: str = DEFAULT_ENCODING) -> list[int]:
    """Token counts for many texts.

    A plain loop over ``encode_ordinary``: tiktoken's ``encode_ordinary_batch`` submits one
    thread-pool future per text, which measured 1.5x slower here on 20,000 texts of 1 KB.
    """
    encode = encoding(encoding_name).encode_ordinary
    return [len(encode(text)) for text in texts]


# -- counting in a helper process ------------------------------------------------------------------
#
# A thread does not help: tiktoken releases the GIL inside its Rust encoder, but each call must
# take the GIL back to return, and a thread doing Python work holds it for the whole switch
# interval (5 ms). Measured here: while the main thread ran Python, a counting thread finished
# about 2,500 of 20,000 texts of 1 KB, against 20,000 in the same time on its own. A process
# has its own GIL.

_WORKER_MIN_TEXTS = 5000  # below this (about 0.2 s of counting) a process costs more than it saves
_WORKER_CHUNK = 256  # texts per write of the helper
_STEAL_CHUNK = 256  # texts the caller counts between looks at what the helper sent
_WORKER_CODE = (
    "import sys; sys.path.insert(0, {root!r}); "
    "from studio.tokens import _worker_main; _worker_main({encoding!r})"
)
_MAGIC = b"studio-token-counts\n"  # the helper's first bytes on stdout, before any count
_HEADER = struct.Struct("=Q")  # parent and child share the machine: native byte order


class TokenCountJob:
    """Token counts of many texts, computed by a helper process while the caller works.

    ``python -c`` runs :func:`_worker_main` with the same interpreter: the texts go to it on
    stdin (count, per-text lengths, then all texts as one UTF-8 string with surrogates passed
    through); it answers on stdout with a marker line, then the counts in order as uint32 in
    native byte order, a chunk at a time. The process is started, and the texts written by a
    short-lived thread, when the job is made; the caller then does other work. :meth:`result`
    takes what the helper has sent and counts texts from the end in this process until the
    two meet, then stops the helper: no side waits for the other, and if the helper fails
    (or is never started, below ``min_texts``) this process counts the rest. Every count is
    tiktoken's.
    """

    def __init__(
        self,
        texts: list[str],
        encoding_name: str = DEFAULT_ENCODING,
        min_texts: int = _WORKER_MIN_TEXTS,
    ) -> None:
        self._texts = texts
        self._encoding_name = encoding_name
        self._proc: subprocess.Popen[bytes] | None = None
        self._writer: threading.Thread | None = None
        if len(texts) >= min_texts:
            self._start()

    def _start(self) -> None:
        ensure_offline_tiktoken()  # the child inherits the environment
        root = str(Path(__file__).resolve().parent.parent)
        code = _WORKER_CODE.format(root=root, encoding=self._encoding_name)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return
        self._proc = proc
        self._writer = threading.Thread(
            target=self._send, args=(proc,), name="token-count-send", daemon=True
        )
        self._writer.start()

    def _send(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        texts = self._texts
        try:
            proc.stdin.write(_HEADER.pack(len(texts)))
            proc.stdin.write(array("Q", map(len, texts)).tobytes())
            proc.stdin.write("".join(texts).encode("utf-8", "surrogatepass"))
            proc.stdin.close()
        except (OSError, ValueError):
            pass  # the child died; result() notices and counts here

    def cancel(self) -> None:
        """Stop the helper process, if any; result() then counts in this process."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            if self._writer is not None:
                self._writer.join()
            self._proc = None

    def result(self) -> list[int]:
        """The counts, in the order of the texts."""
        texts = self._texts
        proc, self._proc = self._proc, None
        if proc is None:
            return count_tokens_batch(texts, self._encoding_name)
        assert proc.stdout is not None
        encode = encoding(self._encoding_name).encode_ordinary
        fd = proc.stdout.fileno()
        os.set_blocking(fd, False)
        received = bytearray()
        alive = True
        counts = [0] * len(texts)
        back = len(texts)  # this process has counted texts[back:]
        while True:
            while alive:
                try:
                    data = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                if not data:
                    alive = False
                received += data
            if received[: len(_MAGIC)] != _MAGIC[: len(received)]:
                alive, received = False, bytearray()  # not our helper talking: ignore it
            # the helper has counted texts[:front]
            front = min(max(0, len(received) - len(_MAGIC)) // 4, len(texts))
            if front >= back:
                break
            lo = front if not alive else max(front, back - _STEAL_CHUNK)
            counts[lo:back] = [len(encode(t)) for t in texts[lo:back]]
            back = lo
        helped = array("I")
        helped.frombytes(bytes(received[len(_MAGIC) : len(_MAGIC) + 4 * back]))
        counts[:back] = helped.tolist()
        proc.kill()  # done, or about to be: what it would still send is counted already
        proc.stdout.close()
        proc.wait()
        if self._writer is not None:
            self._writer.join()
        return counts


def _worker_main(encoding_name: str) -> None:
    """The helper process of :class:`TokenCountJob`: read texts on stdin, write counts."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    encode = encoding(encoding_name).encode_ordinary
    (n,) = _HEADER.unpack(stdin.read(_HEADER.size))
    lengths = array("Q")
    lengths.frombytes(stdin.read(8 * n))
    joined = stdin.read().decode("utf-8", "surrogatepass")
    stdout.write(_MAGIC)
    pos = 0
    for lo in range(0, n, _WORKER_CHUNK):
        counts = array("I")
        for length in lengths[lo : lo + _WORKER_CHUNK]:
            counts.append(len(encode(joined[pos : pos + length])))
            pos += length
        stdout.write(counts.tobytes())
        stdout.flush()
