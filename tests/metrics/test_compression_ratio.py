"""Per-text ``compression_ratio`` is UTF-8 bytes ÷ gzip bytes (DESIGN 5.1), at gzip's level 9."""

from __future__ import annotations

import gzip
import random
import zlib

import realprose

from studio.metrics.scorer import GZIP_OVER_ZLIB_BYTES, TextScorer, compression_ratio


def _texts() -> list[str]:
    rng = random.Random(7)
    english = realprose.english_corpus()[:300]
    chinese = realprose.chinese_tutorial()
    noise = ["".join(chr(rng.randrange(32, 0x3000)) for _ in range(n)) for n in (1, 7, 300, 5000)]
    return [
        "",
        " ",
        "a",
        "\n\n",
        "é",
        "x" * 100_000,
        chinese,
        chinese[:50],
        *english,
        *realprose.perturbed(english, count=50),
        *noise,
    ]


def test_gzip_length_is_zlib_length_plus_12() -> None:
    assert GZIP_OVER_ZLIB_BYTES == 12
    for text in _texts():
        raw = text.encode("utf-8")
        assert len(gzip.compress(raw, compresslevel=9)) == len(zlib.compress(raw, 9)) + 12
        # gzip.compress's default level is 9: the same bytes as the explicit level.
        assert len(gzip.compress(raw)) == len(gzip.compress(raw, compresslevel=9))


def test_compression_ratio_is_bytes_over_gzip_bytes() -> None:
    for text in _texts():
        raw = text.encode("utf-8")
        expected = len(raw) / len(gzip.compress(raw, compresslevel=9)) if raw else 0.0
        assert compression_ratio(text) == expected


def test_scorer_reports_the_gzip_ratio_for_english_and_chinese() -> None:
    texts = [*[t for t in _texts() if t.strip()][:120], realprose.chinese_tutorial()]
    scorer = TextScorer()
    for text, score in zip(texts, scorer.score_batch(texts), strict=True):
        raw = text.encode("utf-8")
        assert score.metrics["compression_ratio"] == len(raw) / len(gzip.compress(raw))
