"""Per-text metrics and filters: hand-made cases with known answers, and Chinese prose."""

from __future__ import annotations

import pytest
import realprose

from studio.metrics.scorer import TextScorer
from studio.metrics.script import CJK_CHAR, detect_language, may_hold_cjk
from studio.metrics.words import EnglishWordSplitter, count_sentences


@pytest.fixture(scope="module")
def scorer() -> TextScorer:
    return TextScorer()


@pytest.fixture(scope="module")
def splitter() -> EnglishWordSplitter:
    return EnglishWordSplitter()


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("don't stop", ["do", "n't", "stop"]),
        ("I'm here, aren't you?", ["I", "'m", "here", ",", "are", "n't", "you", "?"]),
        ("See the U.S. e.g. here.", ["See", "the", "U.S.", "e.g.", "here", "."]),
        ('"Quoted" (text)...', ['"', "Quoted", '"', "(", "text", ")", "..."]),
        (
            "a=b x_y *bold* well-known",
            ["a", "=", "b", "x_y", "*", "bold", "*", "well", "-", "known"],
        ),
        ("visit https://example.com/a-b now", ["visit", "https://example.com/a-b", "now"]),
        ("f(): ok :)", ["f", "(", "):", "ok", ":)"]),
        ("cannot 5pm Dr. Smith's", ["can", "not", "5", "pm", "Dr.", "Smith", "'s"]),
    ],
)
def test_word_splits_follow_spacy_rules(
    splitter: EnglishWordSplitter, text: str, tokens: list[str]
) -> None:
    assert splitter.words(text) == tokens


def test_sentences_follow_spacys_sentencizer(splitter: EnglishWordSplitter) -> None:
    assert count_sentences("One. Two! Three? Four", splitter) == 4
    assert count_sentences("The U.S. is big. Yes.", splitter) == 2
    assert count_sentences("Wait... what.", splitter) == 1  # "..." is not a terminator token


def test_sentence_count_stops_at_its_limit(splitter: EnglishWordSplitter) -> None:
    assert count_sentences("One. Two! Three? Four", splitter, 2) == 2
    assert count_sentences("One. Two! Three? Four", splitter, 9) == 4


def test_repetition_values_by_hand(scorer: TextScorer) -> None:
    text = "a b c\na b c\nd e f"
    m = scorer.score(text, language="en").metrics
    assert m["dup_line_frac"] == pytest.approx(1 / 3)
    assert m["dup_line_char_frac"] == pytest.approx(5 / len(text))
    # most common 2-gram "a b" (3 chars) twice
    assert m["top_2_gram_char_frac"] == pytest.approx(6 / len(text))
    loop = " ".join(["one two three four five"] * 4)
    m = scorer.score(loop, language="en").metrics
    # scan keys "onetwothreefourfive": 19 chars, seen at 5 and 10 and 15
    assert m["dup_5_gram_char_frac"] == pytest.approx(3 * 19 / len(loop))


def test_glued_ngram_keys_collide_like_datatrove(scorer: TextScorer) -> None:
    # "".join makes ("ab", "c", ...) equal ("a", "bc", ...): datatrove counts it, so do we
    words = "ab c d e f x a bc d e f".split()
    m = scorer.score(" ".join(words), language="en").metrics
    assert m["dup_5_gram_char_frac"] == pytest.approx(len("abcdef") / len(" ".join(words)))


def test_filters_carry_datatrove_reasons(scorer: TextScorer) -> None:
    prose = realprose.pydoc_topics()[5]
    base = scorer.score(prose).filters
    assert set(base) == {"gopher_repetition", "gopher_quality", "c4", "fineweb"}
    short = scorer.score("Too short.").filters
    assert short["gopher_quality"] == {"keep": False, "reason": "gopher_short_doc"}
    assert short["c4"] == {"keep": False, "reason": "too_few_sentences"}
    line = "The same line, said once more, and again and again and again."
    looped = scorer.score("\n".join([line] * 20)).filters
    assert looped["gopher_repetition"] == {"keep": False, "reason": "dup_line_frac"}
    assert looped["fineweb"] == {"keep": False, "reason": "char_dup_ratio"}
    curly = scorer.score(". ".join(["This line has a brace { in it"] * 6) + ".").filters
    assert curly["c4"] == {"keep": False, "reason": "curly_bracket"}
    assert scorer.score("").filters["gopher_repetition"]["reason"] == "empty"


def test_token_counter_is_injected() -> None:
    counted = TextScorer(token_counter=lambda t: len(t) // 4).score("x" * 40)
    assert counted.metrics["n_tokens"] == 10
    assert TextScorer().score("x" * 40).metrics["n_tokens"] is None


# --- Chinese -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def zh_paragraphs() -> list[str]:
    text = realprose.chinese_tutorial()
    return [p for p in text.split("\n\n") if len(p) > 60 and "http" not in p]


def test_chinese_is_detected(zh_paragraphs: list[str]) -> None:
    assert detect_language(realprose.chinese_tutorial()) == "zh"
    assert detect_language("これは日本語の文章です。ひらがなが入っています。") == "ja"
    assert detect_language(realprose.pydoc_topics()[0]) == "en"


def test_clean_chinese_prose_passes(scorer: TextScorer) -> None:
    result = scorer.score(realprose.chinese_tutorial())
    assert result.metrics["language"] == "zh"
    assert all(f["keep"] for f in result.filters.values()), result.filters
    # units are characters: thousands of them, not a handful of "words"
    assert result.metrics["n_words"] > 2000
    assert result.metrics["stop_words_distinct"] >= 5


def test_chinese_repeated_lines_and_paragraphs_are_caught(
    scorer: TextScorer, zh_paragraphs: list[str]
) -> None:
    paras = zh_paragraphs[:4]
    repeated = "\n\n".join(paras + [paras[1]] * 3)
    rep = scorer.score(repeated).filters
    assert rep["gopher_repetition"]["keep"] is False
    assert rep["gopher_repetition"]["reason"] in {"dup_para_frac", "dup_para_char_frac"}
    lines = "\n".join([*paras[:3], "大模型需要高质量的数据。"] + ["大模型需要高质量的数据。"] * 6)
    assert scorer.score(lines).filters["gopher_repetition"]["reason"] in {
        "dup_line_frac",
        "dup_line_char_frac",
    }


def test_chinese_ngram_loop_is_caught(scorer: TextScorer, zh_paragraphs: list[str]) -> None:
    loop = zh_paragraphs[0] + "我们需要更多的数据" * 25
    result = scorer.score(loop)
    assert result.filters["gopher_repetition"]["keep"] is False
    assert result.filters["gopher_repetition"]["reason"].startswith(("top_", "duplicated_"))


def test_mixed_chinese_english_counts_english_words_as_units(scorer: TextScorer) -> None:
    mixed = (
        "我们使用 Scaling Law 来预测模型的性能。"
        "在此教程里，合成数据是由大模型根据不同的提示词生成的数据，"
        "例如 GPT-4 和 Qwen 生成的 textbook 风格文本。我们知道，数据的质量与丰富度同样重要。"
    ) * 3
    view = scorer.view(mixed)
    assert view.language == "zh"
    assert "Scaling" in view.words and "Law" in view.words and "我" in view.words
    result = scorer.score(mixed)
    assert result.metrics["alpha_word_frac"] > 0.8
    # the same two sentences three times over is a loop even in mixed text
    assert result.filters["gopher_repetition"]["keep"] is False


def test_english_rules_would_reject_chinese_but_ours_do_not(scorer: TextScorer) -> None:
    text = realprose.chinese_tutorial()
    as_english = scorer.score(text, language="en")
    assert as_english.filters["gopher_quality"]["keep"] is False
    assert scorer.score(text).filters["gopher_quality"]["keep"] is True


def test_cjk_byte_prefilter_never_misses_a_cjk_character() -> None:
    for cp in [*range(0x2000, 0x10000, 7), *range(0x20000, 0x2FA20, 101), 0x3040, 0x9FFF, 0xFAFF]:
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if CJK_CHAR.match(ch):
            assert may_hold_cjk(f"curly “quotes” — {ch} here")
    assert not may_hold_cjk("curly “quotes” — and ellipses… only")
