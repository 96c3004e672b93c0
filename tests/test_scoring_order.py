"""Set metrics of a run do not depend on the order its texts were stored in."""

from __future__ import annotations

import random

from studio.scoring import build_scorer, summarise
from studio.store import Generation


def gen(i: int, text: str) -> Generation:
    return Generation(
        id=f"{(i * 7919) % 1000:04d}-job",
        run_id="r",
        prompt_hash="p",
        model="offline/default",
        sample_index=i,
        params={},
        status="ok",
        persona_id="college" if i % 2 else "young-children",
        topic_path="physics/mechanics/energy",
        style_id="story",
        text=text,
    )


def test_summary_is_the_same_whatever_order_the_texts_were_stored_in() -> None:
    rng = random.Random(3)
    words = "force mass motion energy wave charge field orbit planet spring river".split()
    gens = [gen(i, " ".join(rng.choices(words, k=60)) + ".") for i in range(24)]
    scores = build_scorer().score_batch([g.text or "" for g in gens])
    shuffled = list(range(len(gens)))
    rng.shuffle(shuffled)
    first = summarise(gens, scores, seed=1)
    second = summarise([gens[i] for i in shuffled], [scores[i] for i in shuffled], seed=1)
    assert first == second
