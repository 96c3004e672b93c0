"""The offline model: ``offline/<name>``, text written in-process with no key and no network.

It exists so the studio works on first start and in CI. It is a ``litellm.CustomLLM``
registered under the ``offline`` provider prefix, so it travels the same path as a real model,
and it is not a language model: it fills sentence templates with the prompt's own topic,
audience and key phrases. What it does promise:

- the same messages, name, seed and temperature give the same text;
- temperature 0 gives one text whatever the seed, and higher temperatures draw templates and
  phrases from wider choices, so diversity metrics respond to temperature as they would for a
  real model;
- ``max_tokens`` is honoured (cl100k tokens), with finish reason ``length`` when it cuts;
- streaming yields three words (six characters in Chinese) per ``pace`` seconds;
- a Chinese prompt gets Chinese text;
- its model name, provider and ``system_fingerprint`` all say ``offline``.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import os
import random
import re
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from studio.tokens import count_tokens

OFFLINE_PREFIX = "offline/"
# Seconds per streamed piece for a few named variants; any other name streams at the default.
PACES = {"instant": 0.0, "fast": 0.002, "default": 0.01, "slow": 0.1}
DEFAULT_PACE = PACES["default"]
PACE_ENV = "STUDIO_OFFLINE_PACE_MS"
DEFAULT_MAX_TOKENS = 1024

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z\-']{3,}")
_EN_STOP = frozenset(
    """about above after again against also and any are because been before being below
    between both but can cannot could does doing down during each every few first from
    further have having here into itself just like made make many more most much must never
    only other over same should some such than that their them then there these they this
    those through under until very what when where which while will with within without
    would write written your text unit units course textbook extensive detailed suitable
    targeted audience rigor rigorous engagement engaging application academic professional
    tone reading level interest specific practical examples example derivation proof
    mathematics history dates figures sources pitch guidance conflicts follow directly
    content title introduction closing recap images avoid filler repeat phrases sentences
    sentence openings english language output only notes task experienced author sits
    enclosing scope cover subtopics order concepts concept develop detail moving next value
    depth understanding breadth aim in-depth accurate coverage still holds reader readers
    start well blog post story steps step how-to wikihow""".split()
)


@dataclass(frozen=True)
class OfflineCompletion:
    """One offline answer: the pieces it streams, why it stopped, and its token counts."""

    pieces: tuple[str, ...]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True)
class _PromptFacts:
    language: str
    style: str
    topic: str
    audience: str
    keywords: tuple[str, ...]


def model_name(model: str) -> str:
    return model.split("/", 1)[1] if model.startswith(OFFLINE_PREFIX) else model


def pace_for(model: str) -> float:
    """Seconds between streamed pieces: ``$STUDIO_OFFLINE_PACE_MS`` beats the name's pace."""
    env = os.environ.get(PACE_ENV)
    if env:
        try:
            return max(0.0, float(env) / 1000.0)
        except ValueError:
            pass
    return PACES.get(model_name(model), DEFAULT_PACE)


def complete(
    messages: Sequence[dict[str, Any]],
    *,
    model: str = "offline/default",
    seed: int | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    choice: int = 0,
) -> OfflineCompletion:
    """Write the offline answer for ``messages``; choice ``i`` is what seed ``seed + i`` gives."""
    texts = [str(m.get("content") or "") for m in messages]
    facts = _read_prompt(texts)
    temp = 1.0 if temperature is None else max(0.0, float(temperature))
    name = model_name(model)
    effective_seed = (seed or 0) + choice
    # At temperature 0 the seed is irrelevant, as with a greedy-decoding model.
    key = [name, texts, 0 if temp == 0 else effective_seed, round(temp, 4)]
    digest = hashlib.sha256(repr(key).encode("utf-8")).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    voice = int.from_bytes(hashlib.sha256(name.encode()).digest()[:2], "big")
    sentences = _compose(facts, rng, temp, voice)
    limit = DEFAULT_MAX_TOKENS if max_tokens is None else max(1, int(max_tokens))
    pieces: list[str] = []
    used = 0
    finish = "stop"
    for piece in _pieces(sentences, facts.language):
        cost = count_tokens(piece)
        if used + cost > limit:
            finish = "length"
            break
        pieces.append(piece)
        used += cost
    prompt_tokens = sum(count_tokens(t) + 4 for t in texts) + 3
    return OfflineCompletion(tuple(pieces), finish, prompt_tokens, used)


# -- reading the prompt ---------------------------------------------------------------------


def _first(patterns: Sequence[str], text: str, default: str) -> str:
    for pattern in patterns:
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip()
    return default


def _read_prompt(texts: Sequence[str]) -> _PromptFacts:
    user = texts[-1] if texts else ""
    everything = "\n".join(texts)
    cjk = len(_CJK.findall(user))
    language = "zh" if cjk > 0.1 * max(1, len(user.replace(" ", ""))) else "en"
    # The task sentence (the first line of the request) names the kind of text.
    task = (user.strip().splitlines() or [""])[0].lower()
    style = "exposition"
    for words, name in (
        (("wikihow", "tutorial", "how-to", "教程", "步骤"), "steps"),
        (("problems", "exercises", "题目", "习题"), "problems"),
        (("story", "故事"), "story"),
        (("blog", "博客"), "blog"),
        (("textbook", "course unit", "教材"), "textbook"),
    ):
        if any(w in task for w in words):
            style = name
            break
    if language == "zh":
        topic = _first([r"“([^”\n]{1,40})”", r"「([^」\n]{1,40})」", r'"([^"\n]{1,40})"'], user, "")
        topic = topic or "".join(_CJK.findall(user)[:6]) or "这个主题"
        audience = _first(
            [
                r"针对“([^”\n]{1,20})”",
                r"读者是([^。（(\n]{2,40})",
                r"为([^，。\n]{2,30}?)编写",
                r"写给([^，。\n]{2,30})",
            ],
            everything,
            "读者",
        )
    else:
        topic = _first([r'"([^"\n]{2,80})"', r"“([^”\n]{2,80})”"], user, "")
        topic = topic or " ".join(user.split()[:4]) or "this topic"
        audience = _first(
            [
                r"for this audience \(([^)\n]{2,60})\)",
                r"targeted at ([^.\n]{3,120})",
                r"(?:is|are) for ([^.\n]{3,120})",
                r"readers are ([^.\n]{3,120})",
                r"writing for ([^.\n]{3,120})",
            ],
            everything,
            "curious readers",
        )
        if len(audience) > 60:
            audience = audience.split(",")[0]
    return _PromptFacts(language, style, topic, audience, _keywords(user, topic, language))


def _keywords(user: str, topic: str, language: str) -> tuple[str, ...]:
    """Phrases of the request that belong to the topic: its context path, subtopics, scope."""
    found: dict[str, None] = {}
    descriptions: list[str] = []
    for line in user.splitlines():
        head, sep, body = line.replace("：", ":").partition(":")
        if not sep or len(head) > 60:
            continue
        listing = any(w in head.lower() for w in ("subtopic", "angle", "aspect", "子主题", "方面"))
        if ">" in body or (listing and (";" in body or "；" in body)):
            for part in re.split(r"[>;；]", body):
                part = part.strip(" .。“”\"'")
                if 1 < len(part) <= (12 if language == "zh" else 60) and part != topic:
                    found.setdefault(part, None)
        elif any(w in head.lower() for w in ("about", "scope", "范围", "简介", "说明", "关于")):
            descriptions.append(body)
    if language == "zh":
        for body in descriptions:
            for part in re.split(r"[、，。；：\s]+", body):
                if 2 <= len(part) <= 12 and _CJK.search(part):
                    found.setdefault(part, None)
        if len(found) < 4:
            for run in re.findall(r"[\u4e00-\u9fff]{2,8}", topic):
                found.setdefault(run, None)
        return tuple(found)[:40] or ("基本概念", "生活中的例子")
    topic_words = {w.lower() for w in topic.split()}
    sources = descriptions if len(found) >= 4 else [*descriptions, user]
    for body in sources:
        for word in _EN_WORD.findall(body):
            low = word.lower()
            if low not in _EN_STOP and low not in topic_words and not word.isupper():
                found.setdefault(low, None)
    return tuple(found)[:40] or ("the main idea", "an everyday example")


# -- writing --------------------------------------------------------------------------------

_EN_BODY = (
    "{Topic} matters to {audience} because it ties {kw} to {kw2}.",
    "Consider {kw}: looked at closely, it shows how {topic} works in practice.",
    "A useful way to think about {kw} is to set it beside {kw2}.",
    "For example, imagine measuring {kw} {num} times and watching how {kw2} changes.",
    "The key point is that {kw} never stands alone; it always pulls on {kw2}.",
    "Many people first assume {kw} is simple, but {topic} shows otherwise.",
    "Notice that {kw} depends on {kw2} in a way anyone can test.",
    "Historically, ideas about {kw} grew out of attempts to explain {kw2}.",
    "Try this: write down what you expect of {kw}, then check it against {kw2}.",
    "Here the numbers help: {num} parts of {kw} go with about {num2} of {kw2}.",
    "That is why {kw} tends to appear whenever {kw2} is discussed.",
    "One common mistake is to treat {kw} and {kw2} as the same thing.",
    "Seen from another angle, {kw} is simply {kw2} at a different scale.",
    "In everyday life, {kw} turns up in places as ordinary as a kitchen or a bus stop.",
)
_EN_OPEN = {
    "textbook": (
        "{Topic} begins with a question about {kw}.",
        "Start with {kw}, the idea on which {topic} rests.",
    ),
    "blog": (
        "I still remember when {kw} finally made sense to me.",
        "Let's talk about {topic}, and why {kw} deserves more attention.",
    ),
    "story": (
        "{name} had never thought much about {kw} until the day everything changed.",
        "On a grey morning, {name} found a note about {kw}.",
    ),
    "steps": (
        "This guide shows how to understand {topic}, one step at a time.",
        "Learning {topic} is easier when you take it in small steps.",
    ),
    "problems": (
        "These problems on {topic} start easy and get harder.",
        "Work through each problem on {topic} before reading its solution.",
    ),
    "exposition": (
        "{Topic} is easier to grasp than it first appears.",
        "Think about {kw} for a moment.",
    ),
}
_EN_STORY = (
    "{name} looked at the {kw} and wondered why it behaved that way.",
    "'Why does {kw} matter?' {name} asked, and {friend} pointed at the {kw2}.",
    "By the afternoon, {name} had worked out how {kw} and {kw2} fit together.",
    "{friend} laughed, but then tried it too, counting {num} times.",
)
_EN_STEP = (
    "Step {step}: Look carefully at {kw}.",
    "Step {step}: Compare {kw} with {kw2}.",
    "Step {step}: Write down what {kw} tells you about {topic}.",
    "Step {step}: Test your idea about {kw} with a simple example.",
)
_EN_PROBLEM = (
    "Problem {step}: How does {kw} change when {kw2} doubles?",
    "Solution: Start from {kw}; with {num} units of {kw2}, the answer is {num2}.",
    "Problem {step}: Explain why {kw} matters for {topic}.",
    "Check: the units of {kw} must match those of {kw2}.",
)
_EN_CLOSE = (
    "With {kw} in hand, {topic} stops being a list of facts and becomes a way of seeing.",
    "Next time you meet {kw2}, ask how {kw} is hiding inside it.",
)
_ZH_BODY = (
    "对{audience}来说，{topic}之所以重要，是因为它把{kw}和{kw2}联系在一起。",
    "我们先来看{kw}：仔细观察就会发现，{topic}在实际中随处可见。",
    "理解{kw}的一个好办法，是把它和{kw2}放在一起比较。",
    "举个例子，假设我们把{kw}测量{num}次，就会注意到{kw2}也随之变化。",
    "关键在于，{kw}从来不是孤立存在的，它总是和{kw2}相互影响。",
    "很多人一开始以为{kw}很简单，但{topic}告诉我们事情并非如此。",
    "需要注意的是，{kw}依赖于{kw2}，这一点可以用实验来检验。",
    "历史上，人们正是在解释{kw2}的过程中，逐渐认识了{kw}。",
    "不妨试一试：先写下你对{kw}的猜想，再用{kw2}来检验它。",
    "用数字来说明：{num}份{kw}大约对应{num2}份{kw2}。",
    "一个常见的误解，是把{kw}和{kw2}当成同一回事。",
    "换个角度看，{kw}不过是{kw2}在另一个尺度上的表现。",
    "在日常生活中，{kw}就出现在厨房、公交站这样平常的地方。",
)
_ZH_OPEN = {
    "textbook": ("{topic}要从一个关于{kw}的问题说起。", "{topic}的基础，是{kw}。"),
    "blog": (
        "我第一次真正弄懂{kw}，是在一个下雨的午后。",
        "今天想和大家聊聊{topic}，尤其是常被忽视的{kw}。",
    ),
    "story": (
        "{name}从来没有认真想过{kw}，直到那一天。",
        "一个阴沉的早晨，{name}发现了一张写着{kw}的纸条。",
    ),
    "steps": ("这份指南教你一步一步弄懂{topic}。", "把{topic}拆成几个小步骤，学起来就容易多了。"),
    "problems": (
        "下面这组关于{topic}的题目由易到难。",
        "先独立完成每道关于{topic}的题，再看解答。",
    ),
    "exposition": ("{topic}其实没有看上去那么难。", "先花一点时间想一想{kw}。"),
}
_ZH_STORY = (
    "{name}盯着{kw}看了很久，想弄明白它为什么会这样。",
    "“{kw}到底有什么用？”{name}问道，{friend}指了指旁边的{kw2}。",
    "到了下午，{name}终于想通了{kw}和{kw2}之间的关系。",
    "{friend}笑了笑，也跟着试了{num}次。",
)
_ZH_STEP = (
    "第{step}步：仔细观察{kw}。",
    "第{step}步：把{kw}和{kw2}作比较。",
    "第{step}步：写下{kw}告诉了你关于{topic}的什么。",
    "第{step}步：用一个简单的例子检验你对{kw}的想法。",
)
_ZH_PROBLEM = (
    "第{step}题：当{kw2}加倍时，{kw}会怎样变化？",
    "解答：从{kw}出发，取{num}份{kw2}，答案是{num2}。",
    "第{step}题：说明{kw}对{topic}为什么重要。",
    "检验：{kw}和{kw2}的单位必须一致。",
)
_ZH_CLOSE = (
    "掌握了{kw}，{topic}就不再是一堆零散的知识，而是一种看世界的方式。",
    "下次再遇到{kw2}时，不妨想一想{kw}藏在哪里。",
)
_EN_NAMES = ("Mia", "Leo", "Ana", "Sam", "Ravi", "Noor", "Tom", "Ines")
_ZH_NAMES = ("小明", "小红", "阿杰", "晓雨", "小林", "思远")


def _pick(options: Sequence[str], rng: random.Random, temp: float, used: dict[str, int]) -> str:
    """Draw from ``options`` ranked by position and reuse; the temperature sets the spread."""
    scores = [i + 3.0 * used.get(o, 0) for i, o in enumerate(options)]
    if temp <= 0:
        choice = options[min(range(len(options)), key=scores.__getitem__)]
    else:
        # Scale so that T=1 spreads over several options and T>=1.5 is close to uniform.
        scale = 1.5 * temp
        low = min(scores)
        weights = [math.exp(-(s - low) / scale) for s in scores]
        choice = rng.choices(options, weights=weights, k=1)[0]
    used[choice] = used.get(choice, 0) + 1
    return choice


def _compose(facts: _PromptFacts, rng: random.Random, temp: float, voice: int) -> list[str]:
    zh = facts.language == "zh"
    body: tuple[str, ...] = _ZH_BODY if zh else _EN_BODY
    body = body[voice % len(body) :] + body[: voice % len(body)]
    extra = {
        "story": _ZH_STORY if zh else _EN_STORY,
        "steps": _ZH_STEP if zh else _EN_STEP,
        "problems": _ZH_PROBLEM if zh else _EN_PROBLEM,
    }
    opens = (_ZH_OPEN if zh else _EN_OPEN)[facts.style]
    closes = _ZH_CLOSE if zh else _EN_CLOSE
    names = _ZH_NAMES if zh else _EN_NAMES
    used: dict[str, int] = {}
    name = _pick(names, rng, temp, used)
    friend = _pick([n for n in names if n != name], rng, temp, used)
    step = 0

    def fill(template: str) -> str:
        nonlocal step
        if "{step}" in template:
            step += 1
        kw = _pick(facts.keywords, rng, temp, used)
        kw2 = _pick([k for k in facts.keywords if k != kw] or [kw], rng, temp, used)
        values = {
            "topic": facts.topic if zh else facts.topic.lower(),
            "Topic": facts.topic[:1].upper() + facts.topic[1:],
            "audience": facts.audience,
            "kw": kw,
            "kw2": kw2,
            "num": str(2 + int(rng.random() * 9 * min(temp, 1.0))) if temp > 0 else "3",
            "num2": str(4 + int(rng.random() * 20 * min(temp, 1.0))) if temp > 0 else "6",
            "name": name,
            "friend": friend,
            "step": str(step),
        }
        return template.format(**values)

    # Longer and more variable texts at higher temperatures, as real samplers tend to give.
    jitter = int(rng.random() * 12 * min(temp, 1.5)) if temp > 0 else 0
    n_paragraphs = 4 + jitter // 4
    sentences: list[str] = [fill(_pick(opens, rng, temp, used))]
    pool = list(extra.get(facts.style, ())) + list(body)
    for paragraph in range(n_paragraphs):
        if paragraph:
            sentences.append("\n\n")
        n_sentences = 3 + (int(rng.random() * 3 * min(temp, 1.0)) if temp > 0 else 1)
        for _ in range(n_sentences):
            sentences.append(fill(_pick(pool, rng, temp, used)))
    sentences.append(fill(_pick(closes, rng, temp, used)))
    return sentences


def _pieces(sentences: Sequence[str], language: str) -> Iterator[str]:
    """Split the text into the pieces a stream delivers: three words, or six CJK characters.

    Bigger than a real model's one token per chunk, because each chunk costs litellm's stream
    wrapper about 0.2 ms of CPU and the offline model should not be what a run waits on.
    """
    words: list[str] = []
    for sentence in sentences:
        if sentence == "\n\n":
            words.append("\n\n")
        elif language == "zh":
            words.extend(sentence[i : i + 2] for i in range(0, len(sentence), 2))
        else:
            words.extend(f" {w}" for w in sentence.split(" "))
    text: list[str] = []
    for word in words:
        if word == "\n\n":
            text.append(word)
        elif (text and text[-1] == "\n\n") or not text:
            text.append(word.lstrip(" "))
        else:
            text.append(word)
    for i in range(0, len(text), 3):
        yield "".join(text[i : i + 3])


# -- the litellm handler --------------------------------------------------------------------


def _params(optional_params: dict[str, Any]) -> tuple[int | None, float | None, int | None, int]:
    seed = optional_params.get("seed")
    temperature = optional_params.get("temperature")
    max_tokens = optional_params.get("max_tokens") or optional_params.get("max_completion_tokens")
    n = int(optional_params.get("n") or 1)
    return (
        None if seed is None else int(seed),
        None if temperature is None else float(temperature),
        None if max_tokens is None else int(max_tokens),
        n,
    )


def make_offline_handler() -> Any:
    """Build the ``CustomLLM`` instance; litellm must already be imported and configured."""
    from litellm.llms.custom_llm import CustomLLM, CustomLLMError
    from litellm.types.utils import Choices, Message, Usage

    class OfflineLLM(CustomLLM):
        """litellm's handler for ``offline/<name>``: see the module docstring.

        litellm calls these with keyword arguments (model, messages, model_response,
        optional_params and a dozen we don't need), hence the ``**kwargs`` signatures.
        """

        def _answer(self, kwargs: dict[str, Any]) -> tuple[Any, float]:
            seed, temperature, max_tokens, n = _params(kwargs["optional_params"])
            full = f"{OFFLINE_PREFIX}{model_name(kwargs['model'])}"
            answers = [
                complete(
                    kwargs["messages"],
                    model=full,
                    seed=seed,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    choice=i,
                )
                for i in range(n)
            ]
            response = kwargs["model_response"]
            response.choices = [
                Choices(
                    finish_reason=a.finish_reason,
                    index=i,
                    message=Message(content=a.text, role="assistant"),
                )
                for i, a in enumerate(answers)
            ]
            completion = sum(a.completion_tokens for a in answers)
            prompt = answers[0].prompt_tokens
            response.usage = Usage(
                prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
            )
            response.model = full
            response.system_fingerprint = "offline"
            longest = max(len(a.pieces) for a in answers)
            return response, pace_for(full) * longest

        def completion(self, *args: Any, **kwargs: Any) -> Any:
            response, delay = self._answer(kwargs)
            time.sleep(delay)
            return response

        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            response, delay = self._answer(kwargs)
            await asyncio.sleep(delay)
            return response

        def _stream_answer(self, kwargs: dict[str, Any]) -> tuple[OfflineCompletion, float]:
            seed, temperature, max_tokens, n = _params(kwargs["optional_params"])
            if n != 1:
                raise CustomLLMError(400, "offline model streams one choice; use n=1")  # type: ignore[no-untyped-call]
            full = f"{OFFLINE_PREFIX}{model_name(kwargs['model'])}"
            answer = complete(
                kwargs["messages"],
                model=full,
                seed=seed,
                temperature=temperature,
                max_tokens=max_tokens,
            )
            return answer, pace_for(full)

        def streaming(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:  # type: ignore[override]
            answer, pace = self._stream_answer(kwargs)
            for piece in answer.pieces:
                if pace:
                    time.sleep(pace)
                yield _chunk(piece)
            yield _last_chunk(answer)

        async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:  # type: ignore[override]
            answer, pace = self._stream_answer(kwargs)
            for piece in answer.pieces:
                await asyncio.sleep(pace)
                yield _chunk(piece)
            yield _last_chunk(answer)

    return OfflineLLM()


def _chunk(piece: str) -> dict[str, Any]:
    return {"text": piece, "is_finished": False, "finish_reason": "", "usage": None, "index": 0}


def _last_chunk(answer: OfflineCompletion) -> dict[str, Any]:
    usage = {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
    }
    return {
        "text": "",
        "is_finished": True,
        "finish_reason": answer.finish_reason,
        "usage": usage,
        "index": 0,
    }
