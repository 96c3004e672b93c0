"""The compiled kernels (numba) give exactly what the numpy path gives, which the reference
tests tie to datatrove; small jobs never load numba."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest
import realprose
from test_metrics_batch import HAND_MADE

from studio.metrics.compiled import KERNEL_MIN_TEXTS
from studio.metrics.gopher_repetition import find_duplicates
from studio.metrics.punctuation import TERMINAL_PUNCTUATION
from studio.metrics.scorer import TextScorer
from studio.metrics.words import count_sentences

kernels = pytest.importorskip("studio.metrics.kernels")

LINE_EDGES = [
    "",
    "\n",
    "\n\n",
    " ",
    "a\n",
    "a\n\n",
    "\na",
    "a\r\nb\r\n",
    "a\rb",
    "a\x0bb\x0c",
    "x\u2028y\u2029",
    "\x85x\x85",
    "a\x1cb\x1d\x1e",
    "  - item\n  • two\n- three",
    "end...\nmore…  \n....\n..\n ...",
    "dup\ndup\n\ndup\n\n\ndup",
    " \t\n  \n a \n",
    "a\n \nb\n \n",
    "ab.\nab.\n\n\nab.\r\nab.",
    "Hello.  \n  Hello.\nHello.",
    "\n\n\nx\n\n\n",
    "a\n\n \n\nb",
    "\u3000中文。\n中文。\n",
    "tab\tsep\u00a0nbsp\u2003em space. A second sentence here.",
    "Cited claim.[1]\nNo end\n  Quoted 'end'  \nAsk?\nWait...\nBang!\n\"Q\"\n[edit]",
    "Two  spaces. Here.\nA\ttab. There.\n  Lead and trail.  \nMr. Smith went. (Yes!) Ok.\n",
    "\u201cQuoted.\u201d Then more. E.g. this. And 3.5 cm. Done?!\n...and on. Fine.",
]


def _python_line_stats(text: str, short: int = 30) -> list[int]:
    """The reference's own splits (datatrove 0.10.1), counted the way line_stats counts."""
    paragraphs = re.split(r"\n{2,}", text.strip())
    lines = re.split("\n+", text)
    nonblank = [line for line in text.split("\n") if line.strip() != ""]
    physical = text.splitlines()
    return [
        len(paragraphs),
        *find_duplicates(paragraphs),
        len(lines),
        *find_duplicates(lines),
        len(nonblank),
        sum(line[-1] in TERMINAL_PUNCTUATION for line in nonblank),
        sum(len(line) <= short for line in nonblank),
        find_duplicates(nonblank)[1],
        text.count("\n"),
        len(physical),
        sum(line.lstrip().startswith(("•", "-")) for line in physical),
        sum(line.rstrip().endswith(("...", "…")) for line in physical),
        int(len("x".join(text.split("\n")).splitlines()) > 1),
    ]


def _texts() -> list[str]:
    real = realprose.pydoc_topics()[:150] + realprose.stdlib_docstrings(max_files=40)
    return HAND_MADE + LINE_EDGES + real + realprose.perturbed(real, count=150)


def test_line_stats_match_the_references_splits() -> None:
    many_lines = "\n".join(f"line {i % 50}." for i in range(5000))  # grows every array
    texts = [*LINE_EDGES, *HAND_MADE, many_lines, *realprose.pydoc_topics()[:80]]
    codes = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in texts], out=starts[1:])
    scorer = TextScorer(compiled=True)
    tb = scorer.vocab.batch_compiled("".join(texts), codes, starts, kernels)
    assert tb.chunk_pos is not None and tb.chunk_ids is not None and tb.chunk_starts is not None
    chunks = (tb.chunk_pos, tb.chunk_ids, tb.chunk_starts, scorer.vocab.chunk_steps.array)
    rows, ranges, sentences = kernels.batch_line_stats(codes, starts, 30, chunks)
    bounds, counted = ranges.tolist(), sentences.tolist()
    k = n_counted = 0
    for text, row in zip(texts, rows.tolist(), strict=True):
        assert row[:-1] == _python_line_stats(text), text[:60]
        # the lines C4 can act on: those whose strip() ends with its punctuation (not "...")
        # or that hold a citation bracket; none listed when other breaks send C4 to splitlines
        want = [] if row[-2] else [line for line in text.splitlines() if _c4_may_act(line)]
        got = [text[bounds[2 * j] : bounds[2 * j + 1]] for j in range(k, k + row[-1])]
        assert got == want, text[:60]
        # their sentences, as spaCy's sentencizer counts them; -1 where C4 counts itself
        for line, n in zip(got, counted[k : k + row[-1]], strict=True):
            stripped = line.strip()
            if "[" in line or re.search(r"[^\S ]| {2}", stripped):
                assert n == -1, line
            else:
                assert n == count_sentences(stripped, scorer.splitter), line
                n_counted += 1
        k += row[-1]
    assert n_counted > 100


def _c4_may_act(line: str) -> bool:
    stripped = line.strip()
    ends = stripped.endswith((".", "?", "!", '"', "'")) and not stripped.endswith("...")
    return ends or "[" in line


def _assert_same(got: list, want: list, texts: list[str]) -> None:
    for text, a, b in zip(texts, got, want, strict=True):
        assert a.metrics == b.metrics, text[:80]
        assert list(a.metrics) == list(b.metrics)
        assert a.filters == b.filters, text[:80]


def test_compiled_path_matches_the_numpy_path() -> None:
    texts = _texts()
    want = TextScorer(compiled=False).score_batch(texts, language="en")
    fast = TextScorer(compiled=True)
    _assert_same(fast.score_batch(texts, language="en"), want, texts)
    assert fast._kernels is not None
    # warm chunk table, another batch layout
    _assert_same(fast.score_batch(texts[::-1], language="en"), want[::-1], texts[::-1])


def test_a_large_job_switches_to_the_kernels_mid_way_with_the_same_results() -> None:
    texts = _texts()
    while len(texts) < KERNEL_MIN_TEXTS + 300:
        texts = texts + realprose.perturbed(texts[:300], count=300)
    want = TextScorer(compiled=False).score_batch(texts)
    scorer = TextScorer()
    got = []
    for lo in range(0, len(texts), 256):  # as `studio score` feeds it
        got += scorer.score_batch(texts[lo : lo + 256])
    assert scorer._kernels is not None  # the later batches went through them
    _assert_same(got, want, texts)


def test_studio_kernels_off_keeps_a_large_job_on_the_numpy_path() -> None:
    code = (
        "import sys\n"
        "from studio.metrics.scorer import TextScorer\n"
        "s = TextScorer()\n"
        "for _ in range(6):\n"
        "    s.score_batch(['A short text. It has words.'] * 256)\n"
        "print(s._kernels is None, 'numba' in sys.modules)\n"
    )
    env = {**os.environ, "STUDIO_KERNELS": "off"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["True", "False"]


def test_small_jobs_never_import_numba() -> None:
    code = (
        "import sys\n"
        "from studio.metrics.scorer import TextScorer\n"
        "s = TextScorer()\n"
        "for _ in range(3):\n"
        "    s.score_batch(['A short text. It has words.'] * 100)\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_compiled_rougel_pairs_match_the_packed_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.metrics import diversity as dv

    texts = [*HAND_MADE, *realprose.pydoc_topics()[:120], realprose.chinese_tutorial()[:3000]]
    texts += realprose.perturbed(texts[16:60], count=40)  # near-copies: long common runs
    texts.append(" ".join(["tok"] * 200))  # a pattern over several 64-bit words, one token
    tokens = [dv.rouge_tokens(t) for t in texts]
    rng = np.random.default_rng(7)
    i = rng.integers(0, len(texts), 3000)
    j = (i + rng.integers(1, len(texts), 3000)) % len(texts)
    pairs = np.stack([i, j], axis=1)
    monkeypatch.setattr(dv, "loaded_kernels", lambda: None)
    monkeypatch.setattr(dv, "load_kernels", lambda: None)
    want = dv.pair_rougel(tokens, pairs)
    monkeypatch.setattr(dv, "loaded_kernels", lambda: kernels)
    got = dv.pair_rougel(tokens, pairs)
    assert np.array_equal(got, want)
    assert (want > 0.9).any() and (want == 0).any()  # near-copies and empty texts were there
    for row, (a, b) in enumerate(pairs[:300].tolist()):  # and the pair-by-pair definition
        assert got[row] == dv.rougel_f1(tokens[a], tokens[b])


def test_chinese_through_the_kernels_matches_the_numpy_path() -> None:
    zh = realprose.chinese_tutorial()
    paras = [p for p in zh.split("\n\n") if len(p) > 20]
    texts = ["\n\n".join(paras[(3 * k + i) % len(paras)] for i in range(6)) for k in range(150)]
    # mixed Chinese-English, with the same letters split differently ("Chat GPT" / "ChatGPT")
    texts += [t.replace("数据", " data ").replace("模型", "Chat GPT ") for t in texts[:40]]
    texts += [t.replace("数据", "data").replace("模型", "ChatGPT") for t in texts[:40]]
    texts += ["重复的句子。" * 50, "这是一个测试。\n这是一个测试。\n", "短", "。。。"]
    want = TextScorer(compiled=False).score_batch(texts)
    got = TextScorer(compiled=True).score_batch(texts)
    assert [s.metrics["language"] for s in want].count("zh") >= 200  # some paragraphs are code
    _assert_same(got, want, texts)
    assert any(s.metrics["dup_5_gram_char_frac"] > 0.5 for s in want)  # the loop is caught
    # CJK mode forced on English text goes the same way
    english = realprose.pydoc_topics()[:30]
    _assert_same(
        TextScorer(compiled=True).score_batch(english, language="zh"),
        TextScorer(compiled=False).score_batch(english, language="zh"),
        english,
    )


def _fuzz(seed: int, count: int) -> list[str]:
    """Random strings heavy in the characters a pre-tokenizer treats specially."""
    rng = random.Random(seed)
    alphabet = [*"abcXYZ019.,;:!?'\"()-_/#@ ", " ", " ", "\n", "\n", "\r", "\t", "\u00a0"]
    alphabet += ["\u3000", "\x1c", "\x85", "\u2028", "é", "中", "'s", "'ll", "...", "\r\n"]
    alphabet += ["  ", "\n ", "/\n", "Ab", "\u0301"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(count)]


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "p50k_base"])
def test_token_counts_by_segments_equal_tiktoken(name: str) -> None:
    from studio import tokens

    enc = tokens.encoding(name)

    def count(text: str) -> int:
        return len(enc.encode_ordinary(text))

    texts = realprose.pydoc_topics()[:150] + realprose.licence_texts(max_texts=10)
    texts += [*HAND_MADE, *LINE_EDGES, *_fuzz(1, 3000)]
    rule = tokens.segment_rule(name)
    scorer = TextScorer(token_counter=count, compiled=True, segment_tokens=rule)
    got = [s.metrics["n_tokens"] for s in scorer.score_batch(texts, language="en")]
    assert got == [count(t) for t in texts]
    assert scorer._segment_counts  # the uncommon segments were counted (and cached)
    if rule == "spaces":  # cutting at line starts too would be wrong for this pattern
        wrong = TextScorer(token_counter=count, compiled=True, segment_tokens="spaces+lines")
        fuzz = _fuzz(2, 2000)
        got_wrong = [s.metrics["n_tokens"] for s in wrong.score_batch(fuzz, language="en")]
        assert got_wrong != [count(t) for t in fuzz]
