"""TokenCountJob: a helper process counts while the caller works; counts are tiktoken's."""

from __future__ import annotations

import random
import sys
import time

import pytest

from studio import tokens
from studio.tokens import TokenCountJob, count_tokens_batch


def _texts(n: int) -> list[str]:
    rng = random.Random(5)
    # letters, CJK, digits, white space runs, a special token's text and lone surrogates
    alphabet = "ab \n\t\u00e9\u6771\ud800<|endoftext|>1234567"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))) for _ in range(n)]


@pytest.mark.parametrize("wait", [0.0, 1.0])
def test_counts_match_tiktoken_whoever_counts_them(wait: float) -> None:
    texts = _texts(3000)
    job = TokenCountJob(texts, min_texts=1000)
    time.sleep(wait)  # 0: the caller counts most of them; 1 s: the helper counts them all
    assert job.result() == count_tokens_batch(texts)


def test_small_batches_and_cancelled_jobs_count_here() -> None:
    texts = _texts(300)
    assert TokenCountJob(texts).result() == count_tokens_batch(texts)
    job = TokenCountJob(texts, min_texts=10)
    job.cancel()
    assert job.result() == count_tokens_batch(texts)


def test_a_helper_that_cannot_start_or_dies_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = _texts(2000)
    expected = count_tokens_batch(texts)
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    assert TokenCountJob(texts, min_texts=10).result() == expected
    monkeypatch.undo()
    # a helper that dies after a partial count: the caller counts the rest itself
    monkeypatch.setattr(tokens, "_WORKER_CODE", "import sys; sys.stdout.buffer.write(b'12345678')")
    job = TokenCountJob(texts, min_texts=10)
    time.sleep(0.5)
    assert job.result() == expected
