"""Real prose available offline, for cross-checks and benchmarks.

Sources: Python's own documentation (``pydoc_data.topics``), docstrings of the standard
library (read with ``ast``, no imports) and the licence texts shipped in site-packages. Plus
a trimmed Chinese tutorial (``data/zh_tutorial.txt``) and *perturbed* English texts built from
the real ones (repeated paragraphs, looped sentences, bullet lists, ...) so that every filter
rule gets exercised, not only the "keep" path.
"""

from __future__ import annotations

import ast
import random
import sysconfig
from pathlib import Path

HERE = Path(__file__).parent


def pydoc_topics() -> list[str]:
    from pydoc_data.topics import topics

    return [topics[k] for k in sorted(topics)]


def stdlib_docstrings(max_files: int = 400, min_chars: int = 300) -> list[str]:
    """Module, class and function docstrings of at least ``min_chars`` characters."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.glob("*.py"))[:max_files]
    out: list[str] = []
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        nodes = [
            tree,
            *(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef | ast.FunctionDef)),
        ]
        for node in nodes:
            doc = ast.get_docstring(node, clean=True)  # type: ignore[arg-type]
            if doc and len(doc) >= min_chars:
                out.append(doc)
    return out


def licence_texts(max_texts: int = 150) -> list[str]:
    site = Path(sysconfig.get_paths()["purelib"])
    paths = sorted(
        {
            *site.glob("*.dist-info/LICENSE*"),
            *site.glob("*.dist-info/licenses/**/*"),
            *site.glob("*.dist-info/COPYING*"),
        }
    )
    seen: set[str] = set()
    out: list[str] = []
    for p in paths:
        if not p.is_file():
            continue
        try:
            text = p.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if text not in seen and len(text) > 200:
            seen.add(text)
            out.append(text)
        if len(out) >= max_texts:
            break
    return out


def english_corpus() -> list[str]:
    """The real English texts, deterministic order."""
    return pydoc_topics() + stdlib_docstrings() + licence_texts()


def perturbed(texts: list[str], seed: int = 0, count: int = 300) -> list[str]:
    """Real texts damaged the ways generated text goes wrong, to exercise every filter rule."""
    rng = random.Random(seed)
    pool = [t for t in texts if len(t) > 400]
    out: list[str] = []
    for i in range(count):
        text = pool[rng.randrange(len(pool))]
        paras = [p for p in text.split("\n\n") if p.strip()]
        sents = [s for s in text.replace("\n", " ").split(". ") if s.strip()]
        kind = i % 8
        if kind == 0 and paras:  # repeated paragraphs
            p = rng.choice(paras)
            out.append("\n\n".join(paras + [p] * rng.randint(1, 4)))
        elif kind == 1 and sents:  # a looping sentence
            s = rng.choice(sents)
            out.append(text[: rng.randint(100, 800)] + " " + ". ".join([s] * rng.randint(2, 12)))
        elif kind == 2:  # bullet list
            lines = [ln for ln in text.splitlines() if ln.strip()]
            out.append("\n".join(("- " if rng.random() < 0.95 else "") + ln for ln in lines))
        elif kind == 3:  # truncated lines with ellipses
            lines = [ln for ln in text.splitlines() if ln.strip()]
            out.append("\n".join(ln[: rng.randint(10, 60)] + "..." for ln in lines))
        elif kind == 4:  # hashtags / markdown noise
            words = text.split(" ")
            out.append(" ".join(("#" + w if rng.random() < 0.15 else w) for w in words))
        elif kind == 5:  # CRLF and repeated lines
            lines = text.splitlines()
            lines += rng.sample(lines, min(len(lines), rng.randint(1, 8)))
            out.append("\r\n".join(lines))
        elif kind == 6:  # a short fragment
            out.append(text[: rng.randint(20, 600)])
        else:  # one word looped (n-gram loop)
            words = text.split()
            k = rng.randint(2, 6)
            start = rng.randrange(max(1, len(words) - k))
            loop = " ".join(words[start : start + k])
            out.append(" ".join(words[:start]) + (" " + loop) * rng.randint(3, 30))
    return out


def chinese_tutorial() -> str:
    """A real Chinese tutorial on synthetic data (trimmed copy of the shared seed)."""
    return (HERE / "data" / "zh_tutorial.txt").read_text(encoding="utf-8")
