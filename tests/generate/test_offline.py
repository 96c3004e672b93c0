"""The offline model: deterministic, temperature-sensitive, honours max_tokens, speaks Chinese."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING

from studio.generate.gateway import load_litellm
from studio.generate.offline import complete
from studio.prompts import render_prompt
from studio.tokens import count_tokens

if TYPE_CHECKING:
    from studio.library import Library

TOPIC = "physics/mechanics/newtons-laws"


def messages(
    library: Library, persona: str = "college", style: str = "textbook-academic"
) -> list[dict[str, str]]:
    prompt = render_prompt(library.persona(persona), library.topic(TOPIC), library.style(style))
    return prompt.message_dicts()


def distinct_2(texts: list[str]) -> float:
    grams = [tuple(t.split()[i : i + 2]) for t in texts for i in range(len(t.split()) - 1)]
    return len(set(grams)) / len(grams)


def test_same_seed_same_text_and_other_seeds_differ(library: Library) -> None:
    msgs = messages(library)
    a = complete(msgs, seed=7, temperature=1.0, max_tokens=400)
    b = complete(msgs, seed=7, temperature=1.0, max_tokens=400)
    c = complete(msgs, seed=8, temperature=1.0, max_tokens=400)
    assert a == b
    assert a.text != c.text


def test_temperature_zero_ignores_the_seed(library: Library) -> None:
    msgs = messages(library)
    texts = {complete(msgs, seed=s, temperature=0.0, max_tokens=300).text for s in range(5)}
    assert len(texts) == 1


def test_higher_temperature_gives_more_diverse_samples(library: Library) -> None:
    msgs = messages(library)
    cold = [complete(msgs, seed=s, temperature=0.2, max_tokens=400).text for s in range(12)]
    hot = [complete(msgs, seed=s, temperature=1.3, max_tokens=400).text for s in range(12)]
    assert distinct_2(hot) > distinct_2(cold) + 0.05
    assert len({t.split(".")[0] for t in hot}) > len({t.split(".")[0] for t in cold})


def test_max_tokens_is_honoured_with_finish_reason_length(library: Library) -> None:
    msgs = messages(library)
    short = complete(msgs, seed=1, temperature=0.7, max_tokens=40)
    assert short.finish_reason == "length"
    assert short.completion_tokens <= 40
    assert count_tokens(short.text) <= 44  # pieces are counted one by one
    full = complete(msgs, seed=1, temperature=0.7, max_tokens=100_000)
    assert full.finish_reason == "stop"
    assert full.text.startswith(short.text)


def test_text_reflects_topic_style_and_language(library: Library) -> None:
    story = complete(messages(library, style="story"), seed=3, temperature=0.7, max_tokens=600)
    steps = complete(messages(library, style="wikihow"), seed=3, temperature=0.7, max_tokens=600)
    assert "Newton" in story.text or "newton" in story.text
    assert "Step 1" in steps.text and "Step 1" not in story.text
    zh = complete(
        messages(library, persona="zh-high-school", style="story"),
        seed=3,
        temperature=0.7,
        max_tokens=300,
    )
    cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in zh.text)
    assert cjk > 0.5 * len(zh.text.replace(" ", ""))


def test_through_litellm_streaming_and_n(library: Library) -> None:
    litellm = load_litellm()
    msgs = messages(library)
    expected = complete(msgs, model="offline/instant", seed=5, temperature=0.9, max_tokens=120)

    async def go() -> tuple[str, str | None, list[str], str]:
        stream = await litellm.acompletion(
            model="offline/instant",
            messages=msgs,
            seed=5,
            temperature=0.9,
            max_tokens=120,
            stream=True,
            timeout=30,
            max_retries=0,
        )
        parts: list[str] = []
        finish = None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                parts.append(chunk.choices[0].delta.content)
            if chunk.choices and chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
        batch = await litellm.acompletion(
            model="offline/instant",
            messages=msgs,
            seed=5,
            temperature=0.9,
            max_tokens=120,
            n=2,
            timeout=30,
            max_retries=0,
        )
        texts = [c.message.content for c in batch.choices]
        return "".join(parts), finish, texts, batch.system_fingerprint

    streamed, finish, texts, fingerprint = asyncio.run(go())
    assert streamed == expected.text
    assert finish == expected.finish_reason
    # Choice i of a call with seed s is what seed s + i gives alone.
    assert texts[0] == expected.text
    assert (
        texts[1]
        == complete(msgs, model="offline/instant", seed=6, temperature=0.9, max_tokens=120).text
    )
    assert fingerprint == "offline"


# -- the persona's instructions drive the text (DESIGN 5.2's cross-persona matrix) -----------

AUDIENCES = ("young-children", "middle-school", "high-school", "college", "researchers")
LEAVES = (
    "physics/mechanics/newtons-laws/friction",
    "physics/mechanics/kinematics/projectile-motion",
)


def _grid(library: Library, personas: dict[str, object]) -> list[tuple[str, str, str]]:
    """(persona, topic, text) for two topics x two styles x two samples, seed 7."""
    from studio.library import Persona

    out: list[tuple[str, str, str]] = []
    for pid, persona in personas.items():
        assert isinstance(persona, Persona)
        for path in LEAVES:
            topic = library.topic(path)
            for style in ("textbook-academic", "story"):
                msgs = render_prompt(persona, topic, library.style(style)).message_dicts()
                for i in range(2):
                    text = complete(msgs, model="offline/instant", seed=7 + i, max_tokens=300).text
                    out.append((pid, path, text))
    return out


def _ratio(rows: list[tuple[str, str, str]]) -> float:
    import numpy as np

    from studio.metrics.minhash import MinHasher
    from studio.metrics.summary import cross_group_similarity

    sigs = MinHasher().signatures([t for _, _, t in rows])
    _, m = cross_group_similarity(sigs, [p for p, _, _ in rows], same_key=[t for _, t, _ in rows])
    off = m[~np.eye(len(m), dtype=bool)]
    return float(np.nanmean(off) / np.nanmean(np.diag(m)))


def test_personas_with_different_instructions_write_differently(library: Library) -> None:
    rows = _grid(library, {p: library.persona(p) for p in AUDIENCES})
    assert _ratio(rows) <= 0.6


def test_personas_with_the_same_instructions_converge(library: Library) -> None:
    college = library.persona("college")
    damaged = {
        p: dataclasses.replace(
            library.persona(p), instructions=college.instructions, do=college.do, dont=college.dont
        )
        for p in AUDIENCES
    }
    assert _ratio(_grid(library, damaged)) >= 0.85


def test_forbidden_openings_are_never_used(library: Library) -> None:
    for style in ("story", "textbook-academic"):
        msgs = messages(library, persona="young-children", style=style)
        for seed in range(30):
            text = complete(msgs, seed=seed, temperature=1.3, max_tokens=40).text
            assert not text.lower().startswith(("once upon", "one sunny day", "did you know"))
            assert "offline" not in text.lower()


def test_texts_pass_the_quality_filters_and_vary(library: Library) -> None:
    from studio.metrics.diversity import opening_diversity
    from studio.scoring import build_scorer

    rows = _grid(library, {p: library.persona(p) for p in AUDIENCES})
    texts = [t for _, _, t in rows]
    scores = build_scorer().score_batch(texts, None)
    kept = sum(all(d["keep"] for d in s.filters.values()) for s in scores)
    assert kept >= 0.85 * len(texts)
    assert opening_diversity(texts) >= 0.6
    zh = [
        complete(messages(library, persona=p, style=s), seed=k, max_tokens=400).text
        for p in ("zh-primary-school", "zh-university")
        for s in ("story", "textbook-academic")
        for k in range(3)
    ]
    zh_scores = build_scorer().score_batch(zh, None)
    assert sum(all(d["keep"] for d in s.filters.values()) for s in zh_scores) >= 0.9 * len(zh)
