"""Ask a model for subtopics of a topic node, and read its answer as a list of titles.

The call goes through ``studio.generate``'s batch function (the same gateway, routing and
retries as any run); nothing is stored. The reply is read leniently: bulleted or numbered
lines first, else short sentences, since a model may not follow the format.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.library import Topic, TopicTree

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$")


def suggestion_messages(
    tree: TopicTree, topic: Topic | None, count: int = 6
) -> list[dict[str, str]]:
    if topic is None:
        where, existing = tree.name, [node.title for node in tree.roots]
    else:
        where = " > ".join([tree.name, *(a.title for a in topic.ancestors), topic.title])
        existing = list(topic.children)
    avoid = f" It already has: {'; '.join(existing)}. Do not repeat them." if existing else ""
    return [
        {"role": "system", "content": "You design school and university curricula."},
        {
            "role": "user",
            "content": (
                f"Propose {count} subtopics for the curriculum node “{where}”.{avoid} "
                "Answer with one subtopic title per line, each line starting with '- ', "
                "and nothing else."
            ),
        },
    ]


def parse_suggestions(text: str, limit: int = 10) -> list[str]:
    titles: list[str] = []
    for line in text.splitlines():
        match = _BULLET.match(line)
        if match:
            titles.append(match.group(1).strip(" .*_"))
    if not titles:
        for sentence in re.split(r"(?<=[.!?。！？])\s+", text):
            words = sentence.split()
            if 1 <= len(words) <= 8:
                titles.append(sentence.strip(" .。"))
    seen: set[str] = set()
    unique = []
    for title in titles:
        if title and title.lower() not in seen:
            seen.add(title.lower())
            unique.append(title)
    return unique[:limit]


async def suggest_subtopics(
    model: str, tree: TopicTree, topic: Topic | None, api_base: str | None = None
) -> list[str]:
    """Titles the model proposes under ``topic`` (the tree's top level when None)."""
    from studio.generate import RunSettings, generate_batch_async, load_config, resolve_model
    from studio.generate.spec import Job
    from studio.prompts import Message, Prompt, content_hash

    messages = suggestion_messages(tree, topic)
    prompt = Prompt(
        messages=tuple(Message(m["role"], m["content"]) for m in messages),
        persona_id="",
        topic_path=topic.path if topic else tree.id,
        style_id="",
        language=tree.language,
    )
    params = {"temperature": 0.7, "max_tokens": 300, "seed": 0}
    route = resolve_model(model, load_config(), api_base=api_base)
    job = Job(
        id=content_hash({"messages": messages, "model": model, "params": params}),
        prompt=prompt,
        model=model,
        sample_index=0,
        params=params,
    )
    results = await generate_batch_async([job], {model: route}, RunSettings(stream=False))
    result = results[0]
    if result.status != "ok":
        raise RuntimeError(f"{result.error_class}: {result.error_message}")
    return parse_suggestions(result.text or "")
