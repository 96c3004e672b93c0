"""The batch path (token ids, hashed n-grams) gives exactly what the per-text path gives."""

from __future__ import annotations

import random

import numpy as np
import pytest
import realprose

import studio.metrics.ngrams_batch as nb
from studio.metrics import minhash
from studio.metrics.ngrams import exact_duplicated_ngram_chars
from studio.metrics.scorer import TextScorer

HAND_MADE = [
    "",
    " ",
    "\n\n",
    "a",
    "word " * 3,
    "a b c\na b c\nd e f",
    "x\r\ny\r\nx\r\n\r\n\r\nx",
    "\n\nlead and trail\n\n\n\npara\n\n\n",
    " ".join(["one two three four five"] * 4),
    "ab c d e f x a bc d e f",  # glued keys collide like datatrove's
    "ab c d e f g h i j k ab c d e f g h i j k a bc d e f g h i j k",
    "lor[1]em ipsum dolor sit amet. " * 10,
    "A sentence that ends. " * 6 + "\nThe lorem [2]ipsum line is here.",
    "Enough sentences here. " * 6 + "\nA line with a { brace } in it.",
    "The the the. " * 30,
    "- item one\n- item two\n• item three...\n",
]


def _texts() -> list[str]:
    real = realprose.pydoc_topics()[:120] + realprose.stdlib_docstrings(max_files=40)
    return HAND_MADE + real + realprose.perturbed(real, count=120)


def _assert_same(fast: TextScorer, texts: list[str]) -> None:
    oracle = TextScorer().score_views(texts)
    for text, got, want in zip(texts, fast.score_batch(texts), oracle, strict=True):
        assert got.metrics == want.metrics, text[:80]
        assert list(got.metrics) == list(want.metrics)
        assert got.filters == want.filters, text[:80]


def test_batch_path_matches_the_per_text_path() -> None:
    texts = _texts()
    scorer = TextScorer()
    _assert_same(scorer, texts)
    _assert_same(scorer, texts[::-1])  # warm caches, other batch layout
    for text in HAND_MADE:
        assert scorer.score(text).as_dict() == TextScorer().score_views([text])[0].as_dict()


def test_hash_collisions_fall_back_to_exact_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """With keys cut to 3 bits every group is a collision: the verification must catch all."""
    real_mix = nb.splitmix

    def weak_mix(x: np.ndarray) -> np.ndarray:
        return real_mix(x) & np.uint64(7)

    def weak_prefix(self: nb.NgramBatch) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(self.n + 1, dtype=np.uint64), np.ones(self.n + 1, dtype=np.uint64)

    monkeypatch.setattr(nb, "splitmix", weak_mix)
    monkeypatch.setattr(nb.NgramBatch, "_glued_prefix", weak_prefix)
    monkeypatch.setattr(nb, "_TABLE_BITS", 4)
    texts = HAND_MADE + realprose.perturbed(realprose.pydoc_topics()[:60], count=40)
    _assert_same(TextScorer(), texts)


@pytest.mark.parametrize("wave_min", [1, 10**9])
def test_duplicate_scan_matches_datatrove_loop(
    monkeypatch: pytest.MonkeyPatch, wave_min: int
) -> None:
    monkeypatch.setattr(nb, "_WAVE_MIN", wave_min)
    rng = random.Random(3)
    docs = [[rng.choice("abcd") for _ in range(rng.randint(0, 60))] for _ in range(80)]
    for n in (2, 3, 5):
        pos: list[int] = []
        group: list[int] = []
        length: list[int] = []
        lo: list[int] = []
        hi: list[int] = []
        offset = 0
        groups: dict[tuple[int, str], int] = {}
        for d, words in enumerate(docs):
            grams = ["".join(words[i : i + n]) for i in range(len(words) - n + 1)]
            lo.append(len(pos))
            for i, gram in enumerate(grams):
                if grams.count(gram) > 1:
                    pos.append(offset + i)
                    group.append(groups.setdefault((d, gram), len(groups)))
                    length.append(len(gram))
            hi.append(len(pos))
            offset += len(words)
        got = nb.scan_duplicates(
            *(np.array(a, dtype=np.int64) for a in (pos, group, length, lo, hi)), n
        )
        assert got.tolist() == [exact_duplicated_ngram_chars(w, n) for w in docs]


def test_minhash_units_from_bytes_match_normalise_then_findall() -> None:
    rng = random.Random(5)
    alphabet = [*"0123456789.,., a-\n\t;:é”“—…１٫x\x1c\u00a0\u2028'ñÅøİǅ\u0301\u037e\u2000"]
    alphabet += ["ab", "12", "3.4", "数", "ﬁ", "Ǆ", "Straße", "naïve"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(5000)]
    texts += realprose.pydoc_topics()[:40]
    for text in texts:
        got = [u.decode() if isinstance(u, bytes) else u for u in minhash.units(text)]
        assert got == minhash._UNITS.findall(minhash.normalise(text)), repr(text)


def test_window_prefilter_keeps_glued_twins_with_other_tokens() -> None:
    """Glued n-grams of 16+ characters that repeat with other token boundaries are still found
    (the character-window pre-filter of the glued rule), in a batch wide enough for waves."""
    twin = "then ice cream tastes good and fine, x the nice cream tastes good and fine"
    texts = [f"{twin} {i} " + "filler words go here " * (i % 7) for i in range(80)]
    _assert_same(TextScorer(), texts)
    metrics = TextScorer().score(twin).metrics
    assert metrics["dup_5_gram_char_frac"] > 0


@pytest.mark.parametrize("rounds", [0, 1, 6])
def test_table_groups_match_a_dictionary(monkeypatch: pytest.MonkeyPatch, rounds: int) -> None:
    """_groups (hash-table rounds, then a sort for what is left) groups equal keys exactly."""
    monkeypatch.setattr(nb, "_ROUNDS", rounds)
    rng = np.random.default_rng(rounds)
    keys = rng.integers(0, 300, size=2000).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    positions = np.sort(rng.choice(10_000, size=2000, replace=False)).astype(np.int64)
    members_idx, group, first, sizes = nb._groups(keys, positions)
    members = positions[members_idx]
    want: dict[int, list[int]] = {}
    for key, p in zip(keys.tolist(), positions.tolist(), strict=True):
        want.setdefault(key, []).append(p)
    got: dict[int, list[int]] = {}
    for p, g in zip(members.tolist(), group.tolist(), strict=True):
        got.setdefault(g, []).append(p)
    assert sorted(got.values()) == sorted(v for v in want.values() if len(v) > 1)
    assert members.tolist() == sorted(members.tolist())
    for g, ps in got.items():
        assert first[g] == min(ps) and sizes[g] == len(ps)


def test_batch_glued_text_is_its_tokens_glued() -> None:
    """The glued text the character windows read is exactly the batch's tokens, glued."""
    scorer = TextScorer()
    texts = _texts()
    batch = scorer.vocab.batch(texts)
    tokens = scorer.vocab.tokens
    assert batch.glued == "".join(tokens[i] for i in batch.ids.tolist())


def test_token_groups_with_renamed_pairs_match(monkeypatch: pytest.MonkeyPatch) -> None:
    """When (text, id, id) would not fit in 64 bits, (text, id) pairs are renamed first."""
    texts = _texts()
    want = [sc.as_dict() for sc in TextScorer().score_batch(texts)]
    monkeypatch.setattr(nb, "_KEY_LIMIT", 0)
    assert [sc.as_dict() for sc in TextScorer().score_batch(texts)] == want
