"""Loading and validating library files."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from studio.library import Library, load_library

MALFORMED = Path(__file__).parent / "malformed"
SHIPPED = Path(__file__).resolve().parents[2] / "personas"


@pytest.fixture(scope="module")
def shipped() -> Library:
    return load_library(SHIPPED)


def test_shipped_library_has_no_errors(shipped: Library) -> None:
    assert [str(e) for e in shipped.errors] == []


def test_shipped_library_covers_cosmopedia_audiences_and_more(shipped: Library) -> None:
    ids = {p.id for p in shipped.personas}
    assert {"young-children", "college", "researchers"} <= ids
    assert ids & {"middle-school", "high-school"}
    english = [p for p in shipped.personas if p.language == "en"]
    chinese = [p for p in shipped.personas if p.language.startswith("zh")]
    assert len(english) >= 4 + 3
    assert len(chinese) >= 3


def test_shipped_styles_and_topic_trees(shipped: Library) -> None:
    style_ids = {s.id for s in shipped.styles}
    assert {"textbook-academic", "textbook-narrative", "blog-post", "wikihow", "story"} <= style_ids
    deep = [t for t in shipped.topic_trees if max(topic.depth for topic in t.walk()) >= 3]
    assert len(deep) >= 3
    assert any(t.language.startswith("zh") for t in deep)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def test_persona_instructions_are_really_different(shipped: Library) -> None:
    """Cosmopedia saw near-duplicates when personas differed by one word; ours must not."""
    for a, b in itertools.combinations(shipped.personas, 2):
        if a.language != b.language:
            continue
        wa, wb = _words(a.instructions), _words(b.instructions)
        jaccard = len(wa & wb) / len(wa | wb)
        assert jaccard < 0.5, f"{a.id} and {b.id} share {jaccard:.0%} of their instruction words"
        assert a.do != b.do and a.dont != b.dont


def test_malformed_corpus_gives_exact_errors_and_valid_files_still_load() -> None:
    lib = load_library(MALFORMED)
    got = sorted(str(e.relative_to(MALFORMED)) for e in lib.errors)
    expected = sorted((MALFORMED / "expected.txt").read_text("utf-8").splitlines())
    assert got == expected
    # The broken files are left out; the good ones (and the first of two twins) load.
    assert sorted(p.id for p in lib.personas) == ["good", "twin"]
    assert [s.id for s in lib.styles] == ["good-style"]
    assert [t.id for t in lib.topic_trees] == ["good-tree"]


def test_error_lines_point_at_the_file(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("id: Bad Id\nname: x\n", encoding="utf-8")
    lib = load_library(tmp_path)
    rendered = [str(e) for e in lib.errors]
    assert (
        f"{tmp_path / 'p.yaml'}:1: id: must be lower case letters, digits, '-' or '_' "
        in (rendered[0][: rendered[0].index("(")])
    )
    assert all(line.startswith(f"{tmp_path / 'p.yaml'}:") for line in rendered)


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    [error] = load_library(tmp_path).errors
    assert str(error.relative_to(tmp_path)) == (
        "list.yaml:1: -: expected a mapping of persona fields, got a list"
    )


def test_comment_only_file_is_empty(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("# nothing here yet\n\n", encoding="utf-8")
    [error] = load_library(tmp_path).errors
    assert error.message == "file is empty" and error.line == 1


def test_topic_paths_and_lookup(shipped: Library) -> None:
    for tree in shipped.topic_trees:
        paths = [t.path for t in tree.walk()]
        assert len(paths) == len(set(paths)), f"{tree.id} has duplicate paths"
        for topic in tree.walk():
            assert topic.path.startswith(f"{tree.id}/")
            assert shipped.topic(topic.path) == topic
            assert len(topic.path.split("/")) == topic.depth + 1


def test_unknown_ids_suggest_close_matches(shipped: Library) -> None:
    with pytest.raises(KeyError, match="did you mean young-children"):
        shipped.persona("young-childen")
    with pytest.raises(KeyError, match="unknown topic tree"):
        shipped.topic("no-such-tree/x")


def test_chinese_topic_keys_keep_their_characters(tmp_path: Path) -> None:
    (tmp_path / "topics").mkdir()
    (tmp_path / "topics" / "zh.yaml").write_text(
        "id: zh-physics\nname: 物理\nlanguage: zh\ntopics:\n"
        "  - title: 力学\n    children:\n      - title: 牛顿 第二定律\n",
        encoding="utf-8",
    )
    lib = load_library(tmp_path)
    assert [t.path for t in lib.topics()] == ["zh-physics/力学", "zh-physics/力学/牛顿-第二定律"]
