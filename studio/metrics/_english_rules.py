"""English tokenisation rules that reproduce spaCy's blank ``en`` tokenizer (spaCy 3.8).

datatrove 0.10.1 splits English into words with ``spacy.blank("en")``. To agree with it we
reproduce the same *rules*: the prefix, suffix and infix patterns of
``spacy/lang/punctuation.py`` and ``spacy/lang/en/punctuation.py``, the URL pattern of
``spacy/lang/tokenizer_exceptions.py`` and the English special cases (contractions,
abbreviations, times, emoticons) of ``spacy/lang/en/tokenizer_exceptions.py``. The rules are
re-derived here, not imported: spaCy is only a dev dependency used to measure agreement.

Character classes are built from Unicode general categories instead of spaCy's hand-made
script ranges. On English text the two coincide; they can differ on rare scripts, which only
matters for non-English text (that path has its own script-aware handling anyway).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import lru_cache

# --- character lists (spaCy's lang/char_classes.py: _punct, _quotes, _currency, _hyphens) ----
_PUNCT = (
    r"… …… , : ; \! \? ¿ ؟ ¡ \( \) \[ \] \{ \} < > _ # \* & 。 ？ ！ ， 、 ； ： ～ · । ، ۔ ؛ ٪"
)
_QUOTES = r"\' \" ” “ ` ‘ ´ ’ ‚ , „ » « 「 」 『 』 （ ） 〔 〕 【 】 《 》 〈 〉 〈 〉 ⟦ ⟧"
_CURRENCY = (
    r"\$ £ € ¥ ฿ US\$ C\$ A\$ ₽ ﷼ ₴ ₠ ₡ ₢ ₣ ₤ ₥ ₦ ₧ ₨ ₩ ₪ ₫ € ₭ ₮ ₯ ₰ "
    r"₱ ₲ ₳ ₴ ₵ ₶ ₷ ₸ ₹ ₺ ₻ ₼ ₽ ₾ ₿"
)
_HYPHENS = "- – — -- --- —— ~"
_UNITS = (
    "km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft "
    "kg g mg µg t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb "
    "TB T G M K % км км² км³ м м² м³ дм дм² дм³ см см² см³ мм мм² мм³ нм "
    "кг г мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тб"
)
_ELLIPSES = [r"\.\.+", "…"]

# Characters that end a sentence for spaCy's rule-based ``Sentencizer`` (its
# ``default_punct_chars``: the Unicode Sentence_Terminal characters spaCy lists).
SENTENCE_PUNCT_CHARS = frozenset(
    "!.?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？"
    "𐩖𐩗𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑩂𑩃𑪛𑪜𑱁𑱂𑻷𑻸𖩮𖩯𖫵𖬷𖬸𖭄𛲟𝪈｡。"
)


def _pieces(chars: str) -> list[str]:
    return [p for p in chars.strip().split(" ") if p]


def _ranges(predicate_categories: tuple[str, ...]) -> str:
    """A regex character-class body covering every code point in the given categories."""
    out: list[str] = []
    start = -1
    prev = -2
    for cp in range(0x30000):
        if unicodedata.category(chr(cp)) in predicate_categories:
            if cp != prev + 1:
                if start >= 0:
                    out.append(_range_text(start, prev))
                start = cp
            prev = cp
    if start >= 0:
        out.append(_range_text(start, prev))
    return "".join(out)


def _range_text(a: int, b: int) -> str:
    ea, eb = re.escape(chr(a)), re.escape(chr(b))
    return ea if a == b else f"{ea}-{eb}"


class EnglishRules:
    """Compiled prefix, suffix, infix and URL patterns plus special cases."""

    def __init__(self) -> None:
        upper = _ranges(("Lu", "Lt", "Lo"))
        lower = _ranges(("Ll", "Lo"))
        alpha = _ranges(("Lu", "Ll", "Lt", "Lo", "Lm"))
        icons = _ranges(("So",))
        concat_quotes = "".join(_pieces(_QUOTES))
        punct_alt = "|".join(_pieces(_PUNCT))
        currency_alt = "|".join(_pieces(_CURRENCY))
        units_alt = "|".join(_pieces(_UNITS))
        hyphens_alt = "|".join(_pieces(_HYPHENS))
        list_icons = [f"[{icons}]"]

        prefixes = [
            *("§", "%", "=", "—", "–", r"\+(?![0-9])"),
            *_pieces(_PUNCT),
            *_ELLIPSES,
            *_pieces(_QUOTES),
            *_pieces(_CURRENCY),
            *list_icons,
        ]
        suffixes = (
            _pieces(_PUNCT)
            + _ELLIPSES
            + _pieces(_QUOTES)
            + list_icons
            + ["'s", "'S", "’s", "’S", "—", "–"]
            + [
                r"(?<=[0-9])\+",
                r"(?<=°[FfCcKk])\.",
                rf"(?<=[0-9])(?:{currency_alt})",
                rf"(?<=[0-9])(?:{units_alt})",
                # spaCy interpolates its alternation strings inside a character class, so the
                # class also holds "|", "(", "?", ":" and ")": kept as it behaves.
                rf"(?<=[0-9{lower}%²\-\+{punct_alt}(?:{concat_quotes})])\.",
                rf"(?<=[{upper}][{upper}])\.",
            ]
        )
        infixes = (
            _ELLIPSES
            + list_icons
            + [
                r"(?<=[0-9])[+\-\*^](?=[0-9-])",
                rf"(?<=[{lower}{concat_quotes}])\.(?=[{upper}{concat_quotes}])",
                rf"(?<=[{alpha}]),(?=[{alpha}])",
                rf"(?<=[{alpha}0-9])(?:{hyphens_alt})(?=[{alpha}])",
                rf"(?<=[{alpha}0-9])[:<>=/](?=[{alpha}])",
            ]
        )
        self.prefix_search = re.compile("|".join("^" + p for p in prefixes)).search
        self.suffix_search = re.compile("|".join(p + "$" for p in suffixes)).search
        self.infix_finditer = re.compile("|".join(infixes)).finditer
        self.url_match = re.compile("(?u)" + _url_pattern(lower)).match
        self.specials: dict[str, tuple[str, ...]] = english_special_cases()


def _url_pattern(alpha_lower: str) -> str:
    """The URL pattern spaCy uses (after D. Perini's, MIT), with its private-IP exclusions."""
    return (
        r"^"
        r"(?:(?:[\w\+\-\.]{2,})://)?"
        r"(?:\S+(?::\S*)?@)?"
        r"(?:"
        r"(?!(?:10|127)(?:\.\d{1,3}){3})"
        r"(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})"
        r"(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})"
        r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])"
        r"(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
        r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
        r"|"
        r"(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\.)+"
        r"(?:[" + alpha_lower + r"]{2,63})"
        r")"
        r"(?::\d{2,5})?"
        r"(?:[/?#]\S*)?"
        r"$"
    )


# --- special cases --------------------------------------------------------------------------

_EXCLUDED = {
    "Ill",
    "ill",
    "Its",
    "its",
    "Hell",
    "hell",
    "Shell",
    "shell",
    "Shed",
    "shed",
    "were",
    "Were",
    "Well",
    "well",
    "Whore",
    "whore",
}

_NT_VERBS = [
    "ca",
    "do",
    "does",
    "did",
    "had",
    "may",
    "might",
    "must",
    "need",
    "ought",
    "sha",
    "should",
    "wo",
    "would",
    "could",
    "are",
    "is",
    "was",
    "were",
    "have",
    "has",
    "dare",
    "ai",
]
_VE_VERBS = ["could", "might", "must", "should", "would"]
_WH_WORDS = [
    "who",
    "what",
    "when",
    "where",
    "why",
    "how",
    "there",
    "that",
    "this",
    "these",
    "those",
]
_ABBREVIATIONS = [
    "'d",
    "a.m.",
    "Adm.",
    "Bros.",
    "co.",
    "Co.",
    "Corp.",
    "D.C.",
    "Dr.",
    "e.g.",
    "E.g.",
    "E.G.",
    "Gen.",
    "Gov.",
    "i.e.",
    "I.e.",
    "I.E.",
    "Inc.",
    "Jr.",
    "Ltd.",
    "Md.",
    "Messrs.",
    "Mo.",
    "Mont.",
    "Mr.",
    "Mrs.",
    "Ms.",
    "p.m.",
    "Ph.D.",
    "Prof.",
    "Rep.",
    "Rev.",
    "Sen.",
    "St.",
    "vs.",
    "v.s.",
    "Jan.",
    "Feb.",
    "Mar.",
    "Apr.",
    "Jun.",
    "Jul.",
    "Aug.",
    "Sep.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
    "Ala.",
    "Ariz.",
    "Ark.",
    "Calif.",
    "Colo.",
    "Conn.",
    "Del.",
    "Fla.",
    "Ga.",
    "Ia.",
    "Id.",
    "Ill.",
    "Ind.",
    "Kan.",
    "Kans.",
    "Ky.",
    "La.",
    "Mass.",
    "Mich.",
    "Minn.",
    "Miss.",
    "N.C.",
    "N.D.",
    "N.H.",
    "N.J.",
    "N.M.",
    "N.Y.",
    "Neb.",
    "Nebr.",
    "Nev.",
    "Okla.",
    "Ore.",
    "Pa.",
    "S.C.",
    "Tenn.",
    "Va.",
    "Wash.",
    "Wis.",
    "'s",
    "'S",
    "‘s",
    "‘S",
    "and/or",
    "w/o",
    "'re",
    "'Cause",
    "'cause",
    "'cos",
    "'Cos",
    "'coz",
    "'Coz",
    "'cuz",
    "'Cuz",
    "'bout",
    "ma'am",
    "Ma'am",
    "o'clock",
    "O'clock",
    "C++",
    "'",
    "''",
    "’’",
    '\\")',
    "\\t",
    "\\n",
    "<space>",
    "—",
    "ä.",
    "ö.",
    "ü.",
]
_EMOTICONS = [
    ":)",
    ":-)",
    ":))",
    ":-))",
    ":)))",
    ":-)))",
    "(:",
    "(-:",
    "=)",
    "(=",
    ":]",
    ":-]",
    "[:",
    "[-:",
    "[=",
    "=]",
    ":o)",
    "(o:",
    ":}",
    ":-}",
    "8)",
    "8-)",
    "(-8",
    ";)",
    ";-)",
    "(;",
    "(-;",
    ":(",
    ":-(",
    ":((",
    ":-((",
    ":(((",
    ":-(((",
    "):",
    ")-:",
    "=(",
    ">:(",
    ":')",
    ":'-)",
    ":'(",
    ":'-(",
    ":/",
    ":-/",
    "=/",
    ":|",
    ":-|",
    "=|",
    ":1",
    ":P",
    ":-P",
    ":p",
    ":-p",
    ":O",
    ":-O",
    ":o",
    ":-o",
    ":0",
    ":-0",
    ":()",
    ">:o",
    ":*",
    ":-*",
    ":3",
    ":-3",
    "=3",
    ":>",
    ":->",
    ":X",
    ":-X",
    ":x",
    ":-x",
    ":D",
    ":-D",
    ";D",
    ";-D",
    "=D",
    "xD",
    "XD",
    "xDD",
    "XDD",
    "8D",
    "8-D",
    "^_^",
    "^__^",
    "^___^",
    ">.<",
    ">.>",
    "<.<",
    "._.",
    ";_;",
    "-_-",
    "-__-",
    "v.v",
    "V.V",
    "v_v",
    "V_V",
    "o_o",
    "o_O",
    "O_o",
    "O_O",
    "0_o",
    "o_0",
    "0_0",
    "o.O",
    "O.o",
    "O.O",
    "o.o",
    "0.0",
    "o.0",
    ":-]",
    "=[",
    "=]",
    "[=",
    "]=",
    "<3",
    "<33",
    "<333",
    "</3",
    "(^_^)",
    "(-_-)",
    "(._.)",
    "(>_<)",
    "(*_*)",
    "(¬_¬)",
    "ಠ_ಠ",
    "ಠ︵ಠ",
    "(ಠ_ಠ)",
    "¯\\(ツ)/¯",
    "(╯°□°）╯︵┻━┻",
    "><(((*>",
    "@_@",
    "[-:",
    "[:",
]


def english_special_cases() -> dict[str, tuple[str, ...]]:
    """Special cases: a whole chunk that spaCy's English tokenizer splits (or keeps) by rule."""
    exc: dict[str, tuple[str, ...]] = {}

    def add(orth: str, *parts: str) -> None:
        exc[orth] = parts if parts else (orth,)

    def both_cases(word: str) -> tuple[str, str]:
        return (word, word.title())

    for i in both_cases("i"):
        add(i + "'m", i, "'m")
        add(i + "m", i, "m")
        add(i + "'ma", i, "'m", "a")
        add(i + "ma", i, "m", "a")
    for pron in ["i", "you", "he", "she", "it", "we", "they", *_WH_WORDS]:
        for p in both_cases(pron):
            add(p + "'ll", p, "'ll")
            add(p + "ll", p, "ll")
            add(p + "'ll've", p, "'ll", "'ve")
            add(p + "llve", p, "ll", "ve")
            add(p + "'d", p, "'d")
            add(p + "d", p, "d")
            add(p + "'d've", p, "'d", "'ve")
            add(p + "dve", p, "d", "ve")
    for pron in [
        "i",
        "you",
        "we",
        "they",
        "who",
        "what",
        "when",
        "where",
        "why",
        "how",
        "there",
        "these",
        "those",
    ]:
        for p in both_cases(pron):
            add(p + "'ve", p, "'ve")
            add(p + "ve", p, "ve")
    for pron in [
        "you",
        "we",
        "they",
        "who",
        "what",
        "when",
        "where",
        "why",
        "how",
        "there",
        "these",
        "those",
    ]:
        for p in both_cases(pron):
            add(p + "'re", p, "'re")
            add(p + "re", p, "re")
    for pron in [
        "he",
        "she",
        "it",
        "who",
        "what",
        "when",
        "where",
        "why",
        "how",
        "there",
        "that",
        "this",
    ]:
        for p in both_cases(pron):
            add(p + "'s", p, "'s")
            add(p + "s", p, "s")
    for verb in _NT_VERBS:
        for v in both_cases(verb):
            add(v + "n't", v, "n't")
            add(v + "nt", v, "nt")
            add(v + "n't've", v, "n't", "'ve")
            add(v + "ntve", v, "nt", "ve")
    for verb in [*_VE_VERBS, "not"]:
        for v in both_cases(verb):
            add(v + "'ve", v, "'ve")
            add(v + "ve", v, "ve")
    for word in ["doin", "goin", "nothin", "nuthin", "ol", "somethin", "lovin", "havin"]:
        for w in both_cases(word):
            add(w)
            add(w + "'")
    for word in ["em", "ll", "nuff"]:
        add(word)
        add("'" + word)
    for hour in range(1, 13):
        for period in ("a.m.", "am", "p.m.", "pm"):
            add(f"{hour}{period}", str(hour), period)
    for w in both_cases("cannot"):
        add(w, w[:3], "not")
    for w in both_cases("gonna"):
        add(w, w[:3], "na")
    for w in both_cases("gotta"):
        add(w, w[:3], "ta")
    for w in both_cases("c'mon"):
        add(w, w[:3], "on")
    add("y'all", "y'", "all")
    add("yall", "y", "all")
    for u in "cfkCFK":
        add(f"°{u}.", "°", u, ".")
    for letter in "abcdefghijklmnopqrstuvwxyz":
        add(letter + ".")
    for orth in _ABBREVIATIONS + _EMOTICONS + [" ", "\t", "\n", "\u00a0"]:
        add(orth)
    # spaCy also registers every rule with the typographic apostrophe.
    for orth, parts in list(exc.items()):
        if "'" in orth:
            exc.setdefault(orth.replace("'", "’"), tuple(p.replace("'", "’") for p in parts))
    for orth in _EXCLUDED:
        exc.pop(orth, None)
    return {sys.intern(k): v for k, v in exc.items()}


@lru_cache(maxsize=1)
def english_rules() -> EnglishRules:
    """Build the compiled rules once per process (about 0.2 s: it scans Unicode categories)."""
    return EnglishRules()
