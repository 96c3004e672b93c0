"""Script detection and units for text written without spaces (Chinese, Japanese).

datatrove's English word splitter treats a run of Chinese characters as one word, so every
word-based rule (n-grams, word counts, mean word length) is meaningless on Chinese. Here a
text whose letters are mostly CJK ideographs or kana is handled in *CJK mode*:

- the unit of repetition is one CJK character (one ideograph or kana); Latin words, numbers
  and punctuation inside the text are still split with the English word splitter, so mixed
  Chinese-English text counts each English word as one unit;
- an n-gram's character length is the sum of its units' lengths (the text has no spaces, so
  joining with a space, as the English rule does, would inflate it).

The language-specific gates that use these units live in :mod:`studio.metrics.gates`.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs (+ extension A, compatibility) and the kana blocks. Hangul is left
# out on purpose: Korean separates words with spaces, so the English word rules apply.
_CJK_CLASS = (
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff"
    "\U00020000-\U0002fa1f"
)
CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")
_KANA = re.compile("[\u3040-\u309f\u30a0-\u30ff]")
#: one CJK character, or a run of other non-whitespace characters (``\\s`` is
#: ``str.isspace``, as ``str.split()`` uses)
CJK_OR_RUN = re.compile(f"[{_CJK_CLASS}]|[^\\s{_CJK_CLASS}]+")

#: share of letters that must be CJK for a text to be scored in CJK mode
CJK_MODE_SHARE = 0.3


def cjk_share(text: str) -> float:
    """CJK characters ÷ letters (``str.isalpha``) in ``text``; 0.0 when it has no letters."""
    n_cjk = len(CJK_CHAR.findall(text))
    if not n_cjk:
        return 0.0
    n_alpha = sum(map(str.isalpha, text))  # map keeps the loop in C
    return n_cjk / n_alpha if n_alpha else 0.0


# UTF-8 lead bytes of every character in _CJK_CLASS (U+3040-U+9FFF: E3-E9, U+F900-U+FAFF: EF,
# U+20000-U+2FA1F: F0). A text whose UTF-8 has none of them holds no CJK character.
_CJK_LEAD_BYTES = tuple(bytes([b]) for b in (0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEF, 0xF0))


def may_hold_cjk(text: str) -> bool:
    """False only when ``text`` has no CJK character (a byte search: several times faster
    than the character-class regex on a text without any)."""
    if text.isascii():
        return False
    raw = text.encode("utf-8", "surrogatepass")
    return any(lead in raw for lead in _CJK_LEAD_BYTES)


def detect_language(text: str) -> str:
    """``"zh"`` or ``"ja"`` for CJK-mode text (kana present means Japanese), else ``"en"``."""
    if not may_hold_cjk(text) or cjk_share(text) < CJK_MODE_SHARE:
        return "en"
    return "ja" if _KANA.search(text) else "zh"


_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogate(text: str) -> int:
    """Index of the first lone surrogate in ``text`` (JSON's ``"\\ud800"`` escape makes
    one), or -1. Such a string is not text: it cannot be encoded, scored or written."""
    if text.isascii():
        return -1
    m = _SURROGATE.search(text)
    return m.start() if m else -1


def is_cjk(unit: str) -> bool:
    """Whether a unit is a single CJK character."""
    return len(unit) == 1 and CJK_CHAR.match(unit) is not None
