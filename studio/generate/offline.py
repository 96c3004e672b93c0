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
    guidance: _Guidance
    avoid_names: frozenset[str]


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
    names = (
        frozenset(re.findall(r"[A-Z][a-z]{1,10}", everything)) if language == "en" else frozenset()
    )
    if language == "zh":
        names = frozenset(n for n in _ZH_NAMES if n in everything)
    # The context path's upper levels ("Physics", "Mechanics") say little about this topic.
    ancestors = {
        p.strip().lower()
        for line in user.splitlines()
        if line.count(">") >= 2
        for p in line.split(":", 1)[-1].replace("：", ":").split(":")[-1].split(">")[:-1]
    }
    keywords = tuple(k for k in _keywords(user, topic, language) if k.lower() not in ancestors)
    return _PromptFacts(
        language,
        style,
        topic,
        audience,
        _atoms(keywords or (topic,), language),
        _read_guidance(user, everything, language),
        names,
    )


def _atoms(keywords: tuple[str, ...], language: str) -> tuple[str, ...]:
    """Short forms of the topic's phrases ("Force, Mass and Acceleration" gives "mass"...).

    Long phrases repeated through a text are what the repetition filters catch; a writer
    would also say "mass" rather than the subtopic's whole title each time.
    """
    if language == "zh":
        return keywords
    found: dict[str, None] = {}
    for phrase in keywords:
        parts = [p.strip() for p in re.split(r",| and | or |&|/", phrase) if p.strip()]
        for part in parts if len(parts) > 1 else [phrase]:
            words = [w if "'" in w or w.isupper() else w.lower() for w in part.split()]
            found.setdefault(" ".join(words), None)
    return tuple(found)


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
    sources = descriptions if descriptions or len(found) >= 4 else [user]
    for body in sources:
        for word in _EN_WORD.findall(body):
            low = word.lower()
            if low not in _EN_STOP and low not in topic_words and not word.isupper():
                found.setdefault(low, None)
    return tuple(found)[:40] or ("the main idea", "an everyday example")


# -- the persona's guidance -----------------------------------------------------------------

_QUOTED = re.compile(r'"([^"\n]{2,80})"|“([^”\n]{1,80})”')
_RANGE_EN = re.compile(r"(\d+)\s*(?:to|-|–)\s*(\d+)\s*words")
_RANGE_ZH = re.compile(r"(\d+)\s*(?:到|至|-|–)\s*(\d+)\s*个?字")
_PARAS = re.compile(r"(\d+)\s*(?:to|到|-|–)\s*(\d+)\s*(?:short |个短|个)?(?:paragraphs|段)")
_OPENING_RULE = re.compile(r"\b(?:open|start|begin)\w*|开头|开篇|开场")
_NEGATION = re.compile(r"\b(?:never|avoid|not|don't|no)\b|不要|不用|避免|别")


@dataclass(frozen=True)
class _Guidance:
    """What the persona's instructions, do and don't lines ask for, as the writer uses it.

    Read only from the guidance block, never from the audience line or the persona's name, so
    two personas with the same instructions write alike (the damage the cross-persona
    similarity matrix must show) and personas with different instructions write differently.
    """

    key: str
    tier: int
    words: tuple[int, int]
    paragraphs: tuple[int, int]
    settings: tuple[str, ...]
    quotes: tuple[str, ...]
    forbidden: tuple[str, ...]
    math: bool
    questions: bool
    dialogue: bool
    misconception: bool
    activity: bool
    history: bool
    hedging: bool


def _guidance_block(user: str) -> str:
    """The persona's part of the request: from the guidance header to the end of don't."""
    lines = user.splitlines()
    start = next(
        (i + 1 for i, line in enumerate(lines) if "guidance for this audience" in line.lower()),
        None,
    )
    if start is None:
        start = next((i + 1 for i, line in enumerate(lines) if "写作要求" in line), None)
    if start is None:
        return user
    block: list[str] = []
    in_dont = False
    for line in lines[start:]:
        stripped = line.strip()
        if stripped.lower().startswith(("don't", "dont", "要避免", "避免")):
            in_dont = True
        elif in_dont and stripped and not stripped.startswith(("-", "•", "*")):
            break
        block.append(line)
    return "\n".join(block)


def _lists(text: str, language: str) -> list[str]:
    """Runs of three or more short, comma-separated items: the settings a persona names."""
    found: list[str] = []
    if language == "zh":
        for run in re.findall(
            r"[：:（(]?([^：:。；（()）\n]{2,}?(?:、[^：:。；（()）\n]{1,12}){2,})", text
        ):
            for item in run.split("、"):
                item = re.sub(r"^(?:比如|例如|如|像|从|用)", "", item.strip(" ，。“”"))
                if 1 < len(item) <= 10 and not _QUOTED.search(item) and "不" not in item:
                    found.append(item)
        return found
    scene = re.compile(r"(?:scene|setting|situation|life|example|application|such as)[^:(]*[:(]$")
    for found_at in re.finditer(r"[(:]\s*([^():.;\n]*?,[^():.;\n]*?,[^():.;\n]*)", text):
        body = found_at.group(1)
        head = text[max(0, found_at.start() - 60) : found_at.start() + 1].lower()
        if not (head.endswith("(") or scene.search(head)):
            continue
        items = [
            re.sub(r"^(?:or|and|plus|such as|e\.g\.)\s+", "", i.strip()) for i in body.split(",")
        ]
        items = [re.sub(r"\s*\.\.\.$", "", i) for i in items]
        if len(items) >= 3 and all(0 < len(i.split()) <= 6 for i in items):
            found.extend(
                i for i in items if '"' not in i and i[:1].islower() and not i.startswith("not ")
            )
    return found


def _read_guidance(user: str, everything: str, language: str) -> _Guidance:
    block = _guidance_block(user)
    low = block.lower()
    rule_quotes: set[str] = set()
    forbidden: list[str] = []
    for line in everything.splitlines():
        if _OPENING_RULE.search(line.lower()) and _NEGATION.search(line.lower()):
            for a, b in _QUOTED.findall(line):
                phrase = (a or b).strip(" .…,，")
                rule_quotes.add(a or b)
                if phrase:
                    forbidden.append(phrase)
    quotes: list[str] = []
    past_dont = False
    for line in block.splitlines():
        past_dont = past_dont or line.strip().lower().startswith(("don't", "dont", "要避免"))
        if past_dont or _NEGATION.search(line.lower()) or "不" in line:
            continue
        for a, b in _QUOTED.findall(line):
            quote = (a or b).strip(" .…")
            if (len(quote.split()) >= 3 or (b and len(b) >= 4)) and quote not in forbidden:
                quotes.append(quote)
    ranged = (_RANGE_ZH if language == "zh" else _RANGE_EN).findall(block)
    words = (int(ranged[0][0]), int(ranged[0][1])) if ranged else (0, 0)
    paras = _PARAS.findall(block)
    math = "latex" in low
    if language == "zh":
        hi = words[1] or 40
        tier = 0 if hi <= 20 else 1 if not math else 2
    else:
        hi = words[1] or 40
        research = any(w in low for w in ("review article", "journal", "literature"))
        tier = 0 if hi <= 15 else 1 if hi <= 20 else 2 if hi <= 25 else 4 if research else 3
    if words == (0, 0):
        words = ((12, 30), (16, 40))[tier >= 3] if language == "en" else (15, 40)
    no_questions = "no rhetorical questions" in low or "不用反问" in block or "不要反问" in block
    return _Guidance(
        key=hashlib.sha256(block.encode("utf-8")).hexdigest()[:16],
        tier=tier,
        words=words,
        paragraphs=(int(paras[0][0]), int(paras[0][1])) if paras else (4, 7),
        settings=tuple(dict.fromkeys(_lists(block, language)))[:24],
        quotes=tuple(dict.fromkeys(q for q in quotes if "\n" not in q))[:12],
        forbidden=tuple(dict.fromkeys(forbidden)),
        math=math,
        questions=not no_questions and ("question" in low or "问题" in block),
        dialogue="dialogue" in low or "对话" in block,
        misconception="misconception" in low or "误解" in block or "误区" in block,
        activity=any(w in low for w in ("try", "activity", "thought experiment", "challenge"))
        or "实验" in block,
        history="histor" in low or "历史" in block,
        hedging=any(w in low for w in ("hedge", "evidence", "unresolved")) or "证据" in block,
    )


# -- English phrase banks, by register --------------------------------------------------------
# Register (tier) 0 is a young child's (sentences up to about 15 words), 1 a twelve-year-old's,
# 2 a high-school student's, 3 an undergraduate's and 4 a researcher's, chosen from the
# sentence lengths and notation the guidance asks for. Each bank is ranked per guidance and
# topic (the "plan"); the temperature sets how far past the plan's first choices a sample goes.

_EN_EXPLAIN: tuple[tuple[str, ...], ...] = (
    (
        "{K} is a big name for a small idea.",
        "You can spot {k} if you look closely.",
        "Here is the one idea: {k} is all around you.",
        "It shows up with {s}, too.",
        "Watch the {o} and you will see {k}.",
        "A little change makes a little difference.",
        "A big change makes a big difference.",
        "Some things change fast, and some change slowly.",
        "That is {k} at work.",
        "{K} and {k2} go together like socks and shoes.",
        "You can try it again and again at home.",
        "The {o} does not do it by itself.",
        "Something has to make it happen.",
        "Try it twice, and it happens twice.",
        "It is the same at home and at school.",
        "Grown-ups call this {k}.",
        "It is not magic, it is {k}.",
        "You have seen it many times already.",
        "Now you know what to look for.",
        "The {adj} {o} shows it best.",
    ),
    (
        "{K} describes something you have already noticed, even if nobody named it.",
        "In plain words, {k} is about how one thing changes another.",
        "The key idea is simple: {k} explains what happens to the {o}.",
        "A bigger cause usually gives a bigger effect, and {k} tells you how much bigger.",
        "{K} and {k2} show up together in almost every example.",
        "It sounds strange at first, but {k} is hiding in {s}.",
        "Here the numbers are friendly: {n} times the cause gives {n} times the effect.",
        "A simple ratio helps: {m} out of every {n}0 cases behave this way.",
        "Most of the time, several causes act at once, and only the total counts.",
        "When the causes balance, nothing changes at all.",
        "When they do not balance, you can see the difference right away.",
        "People who study this measure {k} carefully instead of guessing.",
        "A thought experiment helps: picture {s} with one thing changed.",
        "The word {k} just means a pattern you can test yourself.",
        "If you change only one thing, you can see what {k} really does.",
        "That is why the same rule works for {s} and for the {o}.",
        "A common mistake is to think {k} and {k2} are the same thing.",
        "It is tempting, but the examples show that they are different.",
        "You can check this with a {adj} {o} and a stopwatch.",
        "Try to predict the result before you test it.",
    ),
    (
        "{K} connects a cause you can measure with an effect you can predict.",
        "To describe {k}, you need the quantities involved and the units they are measured in.",
        "The reasoning behind {k} starts from careful measurements, not from a definition.",
        "If one quantity doubles while the others stay fixed, the result changes in a predictable "
        "way.",
        "{K} stops working as a simple rule once the conditions move far from everyday ones.",
        "A quick estimate with round numbers often shows whether an answer is reasonable.",
        "Engineers and scientists rely on {k} when they estimate {s}.",
        "{K} and {k2} describe the same situation from two different sides.",
        "Writing the relation as an equation makes the reasoning easy to check.",
        "The units are a useful check: both sides of the equation must match.",
        "A worked example makes this concrete: with {n} units of one quantity and {m} of another, "
        "the result follows in two lines.",
        "The idea was not obvious to the people who first found it, and it took careful "
        "experiments.",
        "A common misconception is that {k} only matters in the laboratory.",
        "In fact, {s} depends on it every day.",
        "Graphs make the relation visible: a straight line means a constant ratio.",
        "Each symbol in the equation stands for a measurable quantity with its own unit.",
        "The sign of the result tells you which way the change goes.",
        "When the assumptions fail, the simple rule must be replaced by a better model.",
        "The history of {k} shows how a good question leads to a good measurement.",
        "Understanding {k} is more useful than memorising it.",
    ),
    (
        "{K} is best stated precisely, together with the assumptions under which it holds.",
        "Formally, the relation can be written as $y = f(x)$, where $x$ measures {k} and $y$ "
        "measures {k2}.",
        "The derivation rests on two assumptions: the system is isolated, and its parameters do "
        "not change.",
        "Linearising about an equilibrium gives $\\Delta y \\approx k \\Delta x$, valid only for "
        "small deviations.",
        "The general result reduces to the familiar textbook form when the secondary terms are "
        "negligible.",
        "Integrating the relation over time gives a conservation statement that is easier to test.",
        "A worked example fixes the ideas: take {n} units of {k} and {m} units of {k2}.",
        "The assumption of constant parameters breaks down once the system exchanges matter or "
        "energy.",
        "This result builds on the material of the previous unit and prepares for the next one.",
        "A laboratory measurement of {k} typically agrees with the model to within a few percent.",
        "The same structure appears in {s}, where a linear response is assumed at small "
        "amplitudes.",
        "{K} and {k2} are not independent postulates, and the distinction matters for the "
        "derivation.",
        "Dimensional analysis confirms that both sides of the equation carry the same units.",
        "The model's limits are instructive, because they show which assumption fails first.",
        "An applied example is {s}, where {k} sets the design margin.",
        "Each step of the argument uses only the definitions and the stated assumptions.",
        "Standard terminology is used throughout, and new terms are defined where they first "
        "appear.",
        "The justification for this step is an approximation, and its error can be bounded.",
        "A careful statement distinguishes what is defined from what is measured.",
        "Precise definitions make the later derivations short and unambiguous.",
    ),
    (
        "The operational content of {k} depends on how its key quantities are identified in "
        "practice.",
        "Whether {k} is a definition or an empirical law remains contested in the foundations "
        "literature.",
        "In the appropriate limit, the more general theory recovers {k} with small, calculable "
        "corrections.",
        "Precision tests constrain deviations from {k} to a level that rules out the simplest "
        "alternatives.",
        "The standard model of {k} is a phenomenological approximation rather than a fundamental "
        "law.",
        "Competing models agree on the macroscopic predictions and differ in the underlying "
        "mechanism.",
        "The regime of validity is set by the ratio of the relevant time or length scales.",
        "Reproducibility is limited by uncontrolled variables that most studies do not report.",
        "We treat {k} here as a constitutive relation and ask what it predicts for {k2}.",
        "The evidence on {s} is mixed, and the disagreement is partly one of measurement error.",
        "What would settle the question is a measurement that separates {k} from {k2} directly.",
        "The identification problem is that both effects scale with the same control variable.",
        "Symmetry arguments ground {k} more firmly than the phenomenology alone.",
        "This caveat matters for {s}, where the usual assumptions are rarely satisfied.",
        "Sample sizes in the relevant studies remain small, so the effect sizes are uncertain.",
        "A compact notation helps: write $\\theta$ for the control parameter and $\\epsilon$ for "
        "the deviation.",
        "The scaling $\\epsilon \\propto \\theta^2$ is predicted by one model and excluded by the "
        "other.",
        "Hedging is warranted here, because the published estimates are not independent.",
        "The authors of the competing accounts disagree less on data than on interpretation.",
        "It remains unknown whether the effect persists outside the laboratory regime.",
    ),
)

_EN_EXAMPLE: tuple[tuple[str, ...], ...] = (
    (
        "Think about {s}.",
        "Look at {s} next time.",
        "It happens with {s}, too.",
        "{Name} saw it with {s}.",
        "Picture {s} for a moment.",
        "A {adj} {o} is a good thing to test.",
        "Try it with a {adj} {o}.",
        "Next time you see {s}, watch closely.",
    ),
    (
        "Take {s} as an example.",
        "Consider what happens with {s}.",
        "You can see the same thing with {s}.",
        "Picture yourself with {s} and a {adj} {o}.",
        "Try the same idea with a {adj} {o} at home.",
        "Even {s} follows this rule.",
        "Think about {s} the next time you see it.",
        "The same pattern shows up in {s}.",
    ),
    (
        "A real application is {s}.",
        "Consider {s}, where the numbers are easy to estimate.",
        "The idea explains {s} better than memorising a rule does.",
        "Apply this to {s} and the result is less obvious than it looks.",
        "For a {adj} {o}, the calculation takes two lines.",
        "Take {s}: the same reasoning gives a quick estimate.",
        "Think of {s} and ask which quantity changes first.",
        "A short historical note helps: the first careful study of {k} came from a practical "
        "problem.",
    ),
    (
        "As an applied example, consider {s}.",
        "A standard application is {s}.",
        "The same analysis applies to {s}, with one extra assumption.",
        "For {s}, the result must be corrected for losses.",
        "In {s}, the relevant quantities are known to good accuracy.",
        "A {adj} {o} provides a worked case with round numbers.",
        "Consider {s} as a test of the model.",
        "An engineering version of the problem is {s}.",
    ),
    (
        "The case of {s} illustrates the difficulty.",
        "Consider {s}, where the competing models make different predictions.",
        "Evidence from {s} is suggestive but not decisive.",
        "The analysis of {s} depends on assumptions that are rarely tested.",
        "Studies of {s} report effects that are hard to reproduce.",
        "In {s}, the measurement error is comparable to the effect.",
        "A cleaner test would use {s} with controlled boundary conditions.",
        "The situation in {s} is a useful limiting case.",
    ),
)

_EN_SCENES: tuple[tuple[str, ...], ...] = (
    (
        "a wagon full of toys",
        "a soap bubble",
        "a paper boat",
        "a rolling orange",
        "a swing",
        "a shopping cart",
        "a sled on snow",
        "a kite on a string",
        "a ball of wool",
        "a sandbox",
    ),
    (
        "a skateboard ramp",
        "a bowling alley",
        "a school trip",
        "a bike ride downhill",
        "a football match",
        "a phone battery",
        "a trampoline",
        "a tug of war",
        "a bus ride",
        "a kitchen",
    ),
    (
        "a car on a wet road",
        "a phone charging overnight",
        "a bicycle on a hill",
        "a loan with interest",
        "a weather forecast",
        "a tennis serve",
        "a crash test",
        "a train leaving a station",
        "a hospital ward",
        "a power station",
    ),
    (
        "a laboratory measurement",
        "a bridge design",
        "a data set of measurements",
        "a pricing policy",
        "a historical case",
        "a control system",
        "a sensor calibration",
        "a clinical trial",
        "a supply chain",
        "a simulation study",
    ),
    (
        "large observational data sets",
        "controlled laboratory studies",
        "field measurements",
        "natural experiments",
        "long-term monitoring",
        "high-precision instruments",
        "meta-analyses",
        "numerical simulations",
        "cross-national comparisons",
        "replication studies",
    ),
)

_EN_OBJECTS = (
    "ball",
    "box",
    "cart",
    "book",
    "block",
    "sled",
    "crate",
    "marble",
    "bottle",
    "chair",
    "basket",
    "stone",
    "puck",
    "trolley",
    "wagon",
    "bucket",
    "coin",
    "spoon",
    "brick",
    "drum",
)
_EN_ADJ = (
    "heavy",
    "light",
    "small",
    "big",
    "round",
    "wooden",
    "metal",
    "plastic",
    "full",
    "empty",
    "wet",
    "smooth",
    "rough",
    "red",
    "old",
    "new",
    "tall",
    "flat",
    "soft",
    "hard",
)
_EN_NAMES = (
    "Ayo",
    "Kenji",
    "Priya",
    "Tomas",
    "Zara",
    "Idris",
    "Mireille",
    "Oskar",
    "Nia",
    "Rafael",
    "Yusuf",
    "Ines",
    "Bodhi",
    "Carmen",
    "Dov",
    "Elif",
    "Farah",
    "Gus",
    "Hana",
    "Ilya",
    "Juno",
    "Kofi",
    "Lucia",
    "Mateo",
    "Nadia",
    "Omar",
    "Petra",
    "Quentin",
    "Rosa",
    "Soren",
    "Talia",
    "Ulla",
    "Vikram",
    "Wren",
    "Ximena",
    "Yara",
    "Zeno",
)

_EN_OPEN: tuple[tuple[str, ...], ...] = (
    (
        "Thump! The {adj} {o} hits the floor.",
        "Whoosh goes the {adj} {o}.",
        "Why does the {o} do that?",
        "Look at the {adj} {o} over there.",
        "{Name} holds up a {adj} {o}.",
        "Splash! Something moved near {s}.",
        "Put a {adj} {o} on the table.",
        "Clack, clack, clack goes the {o}.",
    ),
    (
        "{Name} was halfway through {s} when something odd happened.",
        "A {adj} {o} can tell you a lot about {k}.",
        "Picture {s} on an ordinary Tuesday.",
        "Here is a puzzle about {s} that most people get wrong.",
        "{Name} noticed something strange about a {adj} {o}.",
        "Two friends argued about {s} for a whole afternoon.",
        "The first time you think hard about {s}, {k} starts to make sense.",
        "Something puzzling happens every time you watch {s}.",
    ),
    (
        "Measured carefully, {s} reveals a pattern that is easy to miss.",
        "A surprising fact about {k}: it explains {s}.",
        "Start with a measurement: {n} trials of {s} give the same result.",
        "{K} was first worked out to solve a practical problem.",
        "The numbers behind {s} are a good way into {k}.",
        "Here is a concrete problem about {s} that {k} solves.",
        "One careful measurement of {s} is worth a page of definitions.",
        "Engineers who work on {s} use {k} every day.",
    ),
    (
        "Consider a system in which {k} can be isolated and measured.",
        "The central claim of {k} is stronger than it first appears.",
        "A motivating problem: how does {k} constrain {s}?",
        "The standard statement of {k} hides assumptions worth making explicit.",
        "There is a tension between {k} and {k2} that a careful derivation resolves.",
        "Suppose the parameters of the system are allowed to change in time.",
        "A precise statement of {k} requires two definitions and one assumption.",
        "The quantitative content of {k} is best seen through {s}.",
    ),
    (
        "The status of {k} as a law rather than a definition is still debated.",
        "Two competing accounts of {k} make different predictions for {k2}.",
        "Current estimates of {k} disagree by more than their stated uncertainties.",
        "The standard model of {k} fails in regimes that matter for {s}.",
        "Whether {k} is fundamental or emergent remains an open question.",
        "Models of {k} disagree most sharply where the data are thinnest.",
        "The empirical basis of {k} is narrower than textbook accounts suggest.",
        "A persistent discrepancy in {s} bears directly on {k}.",
    ),
)

_EN_CLOSE: tuple[tuple[str, ...], ...] = (
    (
        "So {k} is everywhere you look.",
        "That is the one big idea.",
        "Next time you play, watch for it.",
        "Ask a grown-up to help if you try it at home.",
    ),
    (
        "Challenge: what would change if the {o} were twice as {adj}?",
        "Next time you see {s}, see if you can spot {k}.",
        "Can you explain why {k} matters for {s}?",
        "Try it yourself and see if the numbers match.",
    ),
    (
        "Check your understanding: what happens to the result if one quantity doubles?",
        "Question: why does {k} fail when the conditions become extreme?",
        "Where would this rule stop being a good approximation?",
        "How would you measure {k} with equipment from a school laboratory?",
    ),
    (
        "A harder question remains: how should the model change when its assumptions fail?",
        "The next unit relaxes the simplest assumption and extends the model.",
        "Extending the model to {k2} is the natural next step.",
        "The model's limits appear exactly where {k2} becomes important.",
    ),
    (
        "What remains unresolved is whether the effect survives better-controlled measurements.",
        "A decisive test would need a larger sample and independent replication.",
        "The open question is which regime the standard model actually describes.",
        "Until then, the competing accounts remain empirically indistinguishable.",
    ),
)

_EN_LEADS: tuple[tuple[str, ...], ...] = (
    ("Look,", "Now", "Then", "And", "So", "Yes,", "Listen,"),
    ("Here is the trick:", "Now", "Notice that", "In real life,", "Surprisingly,", "So"),
    ("In practice,", "Notice that", "For example,", "Put simply,", "As a check,", "Importantly,"),
    ("Formally,", "In this case,", "By construction,", "Note that", "Equivalently,", "Hence"),
    ("Notably,", "By contrast,", "Arguably,", "In this regime,", "Conversely,", "Indeed,"),
)

_EN_STORY: tuple[tuple[str, ...], ...] = (
    (
        "{Name} runs to the {o}.",
        "{Friend} laughs and helps.",
        "They count to {n} together.",
        "{Name} tries again, slowly this time.",
        "The {o} rolls and rolls.",
        "{Friend} claps.",
        "{Name} frowns and thinks.",
        "Then {friend} has an idea.",
        "They try it once more.",
    ),
    (
        "{Name} grabbed the {o} and tried again.",
        "{Friend} rolled their eyes but helped anyway.",
        "They tried it {n} times, writing down each result.",
        "{Name} was not convinced yet.",
        "By lunch, the notebook was full of numbers.",
        "{Friend} had a better plan.",
    ),
    (
        "{Name} set up the measurement twice to be sure.",
        "{Friend} checked the units again.",
        "The second run gave almost the same number.",
        "{Name} frowned at the graph.",
        "After {n} trials, a pattern began to appear.",
        "{Friend} reached for a calculator.",
    ),
    (
        "{Name} reran the analysis with the missing term included.",
        "{Friend} questioned the assumption behind the model.",
        "The residuals were small but systematic.",
        "{Name} rewrote the derivation line by line.",
        "After {n} runs, the discrepancy had not gone away.",
        "{Friend} proposed a cleaner setup.",
    ),
    (
        "{Name} reread the referee report for the third time.",
        "{Friend} suspected a systematic error in the calibration.",
        "The data from {n} runs were consistent but noisy.",
        "{Name} argued that the model itself was the problem.",
        "Neither of them trusted the effect size.",
        "{Friend} proposed a blind reanalysis.",
    ),
)

# Word-level variation: a sampler at a higher temperature rarely repeats its exact wording.
_EN_SYNONYMS: dict[str, tuple[str, ...]] = {
    w[0]: tuple(w[1:])
    for w in (
        line.split()
        for line in """big large huge
        small little tiny
        simple plain basic
        careful precise close
        carefully precisely closely
        common frequent usual typical
        idea notion thought
        quickly fast rapidly
        slowly gradually
        shows reveals demonstrates illustrates
        show reveal demonstrate illustrate
        explains accounts
        strange odd curious puzzling
        useful handy helpful valuable
        example case instance illustration
        problem question puzzle
        result outcome answer
        change shift difference
        changes shifts alters affects
        measure quantify gauge
        measured quantified
        model picture account description
        predict forecast anticipate
        check test verify confirm
        important crucial essential significant
        often frequently regularly
        usually typically normally generally
        first initially
        again once_more
        really truly genuinely
        everyday ordinary daily
        whole entire
        look peek glance
        watch observe
        see notice spot
        try test attempt
        happens occurs takes_place
        different distinct separate
        same identical
        evidence data support
        assumption premise hypothesis
        assumptions premises hypotheses
        approximation estimate simplification
        regime range domain
        limits boundaries bounds
        relevant pertinent
        precise exact rigorous
        surprising unexpected remarkable
        obvious evident plain
        quick rapid fast
        pattern regularity trend
        rule law principle
        question issue matter
        unresolved open unsettled
        clear clean sharp""".splitlines()
    )
}
_EN_SAY = ("said", "asked", "whispered", "answered", "insisted", "wondered", "explained")

# -- Chinese phrase banks ----------------------------------------------------------------

_ZH_BODY = (
    "{topic}之所以重要，是因为它把{kw}和{kw2}联系在一起。",
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
_ZH_OPEN_MORE = (
    "“{kw}到底是怎么回事？”{name}在{s}忍不住问。",
    "{s}，{name}看到了一件奇怪的事。",
    "在{s}，{kw}悄悄地起着作用。",
    "{name}和{friend}在{s}争论了好一会儿。",
    "先从{s}说起。",
)
_ZH_NAMES = (
    "小禾",
    "阿朵",
    "思远",
    "晓雨",
    "若溪",
    "青桐",
    "安然",
    "子墨",
    "嘉树",
    "一诺",
    "米粒",
    "乐言",
)


_ZH_SCENE = (
    "课间操场",
    "放学路上",
    "厨房里",
    "公交车上",
    "超市门口",
    "雨天的窗边",
    "公园的滑梯",
    "运动会",
)
_ZH_REFER = (
    "这个规律",
    "这一点",
    "这种现象",
    "这个道理",
    "这条定律",
    "这层关系",
    "前面说的现象",
    "这个结论",
    "刚才的发现",
    "这种变化",
    "其中的原理",
    "同样的道理",
)
_ZH_EXTRA = (
    "就拿{s}来说，{kw}的作用一眼就能看出来。",
    "想一想{s}：这里面就藏着{kw}。",
    "在{s}，{name}第一次注意到了{kw}。",
    "{s}也是一个好例子，{kw}在这里表现得很清楚。",
)
_WORD_LEAD = frozenset(
    "The A An It This That Some Most When If Each Every In For You Things Here Even Each "
    "Precise Standard Grown-ups People".split()
)


class _Writer:
    """Draws phrases for one text: ranked by the plan, spread by the temperature."""

    def __init__(self, plan: str, rng: random.Random, temp: float) -> None:
        self.plan = plan
        self.rng = rng
        self.temp = temp
        self.used: set[str] = set()
        self.named_topic = False

    def draw(self, options: Sequence[str], reuse: bool = False) -> str:
        fresh = [o for o in options if reuse or o not in self.used] or list(options)
        # The plan's preference: the same guidance and topic rank the options the same way.
        ranked = sorted(fresh, key=lambda o: hashlib.blake2b(f"{self.plan}|{o}".encode()).digest())
        if self.temp <= 0:
            choice = ranked[0]
        else:
            scale = 3.5 * self.temp**2
            weights = [math.exp(-i / scale) for i in range(len(ranked))]
            choice = self.rng.choices(ranked, weights=weights, k=1)[0]
        self.used.add(choice)
        return choice

    def chance(self, p: float) -> bool:
        return self.rng.random() < p if self.temp > 0 else p >= 0.5


def _compose(facts: _PromptFacts, rng: random.Random, temp: float, voice: int) -> list[str]:
    guide = facts.guidance
    plan = f"{voice}|{guide.key}|{facts.topic}"
    writer = _Writer(plan, rng, temp)
    if facts.language == "zh":
        return _compose_zh(facts, writer)
    return _compose_en(facts, writer)


def _en_values(facts: _PromptFacts, writer: _Writer, names: tuple[str, str]) -> dict[str, str]:
    guide = facts.guidance
    keywords = [k for k in facts.keywords if k.lower() != facts.topic.lower()] or [facts.topic]
    k = writer.draw(keywords, reuse=True)
    if not writer.named_topic:
        # Name the topic itself once, early, as any writer on it would.
        writer.named_topic = True
        k = " ".join(w if "'" in w or w.isupper() else w.lower() for w in facts.topic.split())
    k2 = writer.draw([x for x in keywords if x != k] or keywords, reuse=True)
    scenes = guide.settings + _EN_SCENES[guide.tier]
    small = guide.tier == 0
    n = writer.rng.randint(2, 9) if writer.temp > 0 else 3
    return {
        "k": k,
        "K": k[:1].upper() + k[1:],
        "k2": k2,
        "s": writer.draw(scenes, reuse=True),
        "o": writer.draw(_EN_OBJECTS, reuse=True),
        "adj": writer.draw(_EN_ADJ, reuse=True),
        "n": str(n),
        "m": str(n + (writer.rng.randint(1, 8) if writer.temp > 0 else 2) * (1 if small else 3)),
        "Name": names[0],
        "name": names[0],
        "Friend": names[1],
        "friend": names[1],
    }


def _vary(sentence: str, writer: _Writer) -> str:
    """Swap some words for synonyms; how many grows with the temperature."""
    if writer.temp <= 0:
        return sentence
    p = 0.45 * min(writer.temp, 1.5)
    out: list[str] = []
    for word in sentence.split(" "):
        core = word.strip(".,;:!?\u201c\u201d")
        low = core.lower()
        if low in _EN_SYNONYMS and "$" not in word and writer.rng.random() < p:
            swap = writer.rng.choice(_EN_SYNONYMS[low]).replace("_", " ")
            swap = swap[:1].upper() + swap[1:] if core[:1].isupper() else swap
            word = word.replace(core, swap, 1)
        out.append(word)
    return " ".join(out)


def _en_sentence(
    template: str, facts: _PromptFacts, writer: _Writer, names: tuple[str, str]
) -> str:
    text = _vary(template, writer).format(**_en_values(facts, writer, names))
    return text[:1].upper() + text[1:]


def _opening_ok(sentence: str, forbidden: Sequence[str]) -> bool:
    low = sentence.lower().lstrip("\"'“ ")
    return not any(low.startswith(f.lower()) for f in forbidden)


def _compose_en(facts: _PromptFacts, w: _Writer) -> list[str]:
    guide = facts.guidance
    tier = guide.tier
    keep_math = guide.math

    def usable(bank: Sequence[str]) -> list[str]:
        # Notation is a few symbols in prose, as the alpha-word gate of real filters expects.
        math_ok = keep_math and sum("$" in u for u in w.used) < 1
        return [t for t in bank if math_ok or "$" not in t]

    pool_names = [n for n in _EN_NAMES if n not in facts.avoid_names]
    name = w.draw(pool_names)
    names = (name, w.draw([n for n in pool_names if n != name]))

    def say(template: str) -> str:
        return _en_sentence(template, facts, w, names)

    def explain() -> str:
        sentence = say(w.draw(usable(_EN_EXPLAIN[tier])))
        first = sentence.split(" ", 1)[0]
        if first in _WORD_LEAD and w.chance(0.3 * min(1.0, w.temp + 0.3)):
            lead = w.draw(_EN_LEADS[tier], reuse=True)
            sentence = f"{lead} {sentence[:1].lower()}{sentence[1:]}"
        return sentence

    opening = ""
    for _ in range(12):
        opening = say(w.draw(usable(_EN_OPEN[tier])))
        if _opening_ok(opening, guide.forbidden):
            break
    sentences: list[str] = [opening]
    story = facts.style == "story"
    lo, hi = guide.paragraphs
    n_paragraphs = lo + (w.rng.randint(0, max(0, hi - lo)) if w.temp > 0 else 0)
    n_paragraphs = max(4, min(n_paragraphs, 8))
    quote_at = w.rng.randint(1, n_paragraphs) if guide.quotes and w.chance(0.7) else -1
    for paragraph in range(n_paragraphs):
        if paragraph or story:
            sentences.append("\n\n")
        n_sentences = (3 if tier <= 1 else 2) + (w.rng.randint(0, 2) if w.temp > 0 else 1)
        if facts.style == "steps":
            sentences.append(f"Step {paragraph + 1}: {explain()}")
        elif facts.style == "problems":
            sentences.append(f"Problem {paragraph + 1}: {explain()}")
        for i in range(n_sentences):
            roll = w.rng.random() if w.temp > 0 else (i % 3) / 3
            if story and roll < 0.3:
                sentences.append(say(w.draw(_EN_STORY[tier])))
            elif story and roll < (0.4 if tier == 0 else 0.55) and guide.tier < 4:
                line = explain()
                who = names[i % 2]
                verb = w.draw(_EN_SAY, reuse=True)
                line = line[:-1] + "," if line.endswith(".") else line
                sentences.append(f"\u201c{line}\u201d {who} {verb}.")
            elif roll < 0.75:
                sentences.append(explain())
            else:
                sentences.append(say(w.draw(_EN_EXAMPLE[tier])))
        if paragraph == quote_at:
            quote = w.draw(guide.quotes).rstrip(". …")
            sentences.append(f"{quote[:1].upper()}{quote[1:]}.")
    sentences.append(say(w.draw(_EN_CLOSE[tier])))
    return sentences


def _compose_zh(facts: _PromptFacts, w: _Writer) -> list[str]:
    guide = facts.guidance
    names = [n for n in _ZH_NAMES if n not in facts.avoid_names] or list(_ZH_NAMES)
    name = w.draw(names)
    friend = w.draw([n for n in names if n != name])
    scenes = guide.settings + _ZH_SCENE
    step = 0

    counts: dict[str, int] = {}

    def term(word: str) -> str:
        # Chinese repetition is counted per character: name a topic twice, then refer to it.
        counts[word] = counts.get(word, 0) + 1
        return word if counts[word] <= 2 else w.draw(_ZH_REFER, reuse=len(w.used) > 200)

    def say(template: str) -> str:
        nonlocal step
        if "{step}" in template:
            step += 1
        kw = w.draw(facts.keywords, reuse=True)
        kw2 = w.draw([k for k in facts.keywords if k != kw] or [kw], reuse=True)
        n = w.rng.randint(2, 9) if w.temp > 0 else 3
        return template.format(
            topic=term(facts.topic),
            audience=facts.audience,
            kw=term(kw),
            kw2=term(kw2),
            s=w.draw(scenes, reuse=True),
            num=str(n),
            num2=str(n + (w.rng.randint(1, 9) if w.temp > 0 else 3)),
            name=name,
            friend=friend,
            step=str(step),
        )

    extra = {"story": _ZH_STORY, "steps": _ZH_STEP, "problems": _ZH_PROBLEM}
    body = [*extra.get(facts.style, ()), *_ZH_BODY, *_ZH_EXTRA]
    opening = ""
    for _ in range(12):
        opening = say(w.draw([*_ZH_OPEN[facts.style], *_ZH_OPEN_MORE]))
        if _opening_ok(opening, guide.forbidden):
            break
    sentences = [opening]
    lo, hi = guide.paragraphs
    n_paragraphs = max(4, min(8, lo + (w.rng.randint(0, max(0, hi - lo)) if w.temp > 0 else 0)))
    for paragraph in range(n_paragraphs):
        if paragraph:
            sentences.append("\n\n")
        for _ in range(2 + (w.rng.randint(0, 2) if w.temp > 0 else 1)):
            sentences.append(say(w.draw(body)))
    sentences.append(say(w.draw(_ZH_CLOSE)))
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
