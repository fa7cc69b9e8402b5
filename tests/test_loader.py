"""Parsing content files (no app needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.content.loader import ContentError, article_files, parse_article
from tests.conftest import SHIPPED_ARTICLES, write_article


def test_good_file_parses(tmp_path):
    path = write_article(tmp_path, "hold-etiquette", title="Hold etiquette",
                         tags="[hold, waiting]", requires_signoff="true")
    item = parse_article(path)
    assert item.slug == "hold-etiquette"
    assert item.title == "Hold etiquette"
    assert item.tags == ["hold", "waiting"]
    assert item.requires_signoff is True


def _bad(tmp_path: Path, name: str, data: bytes) -> ContentError:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ContentError) as caught:
        parse_article(path)
    assert caught.value.path == str(path)
    return caught.value


def test_broken_yaml_names_the_line(tmp_path):
    error = _bad(tmp_path, "x.md", b"---\ntitle: Fine\ntags: [unclosed\nsummary: x\n---\nBody\n")
    assert "front matter" in error.message
    assert error.line is not None and error.line >= 3


def test_missing_title(tmp_path):
    error = _bad(tmp_path, "x.md", b"---\ncategory: Repairs\n---\nBody\n")
    assert "no title" in error.message


def test_no_front_matter(tmp_path):
    error = _bad(tmp_path, "x.md", b"# Just markdown\n")
    assert "front matter" in error.message and error.line == 1


def test_unclosed_front_matter(tmp_path):
    assert "not closed" in _bad(tmp_path, "x.md", b"---\ntitle: x\nBody\n").message


def test_non_utf8_names_the_line(tmp_path):
    error = _bad(tmp_path, "x.md", b"---\ntitle: ok\n---\nline one\ncaf\xe9\n")
    assert "UTF-8" in error.message and error.line == 5


def test_binary_and_huge_files(tmp_path):
    assert "binary" in _bad(tmp_path, "b.md", b"\x89PNG\x00\x00\x01").message
    assert "limit" in _bad(tmp_path, "h.md", b"---\ntitle: x\n---\n" + b"a" * 2_000_000).message


def test_wrong_types_are_refused(tmp_path):
    assert "review_cycle_months" in _bad(
        tmp_path, "a.md", b"---\ntitle: x\nreview_cycle_months: soon\n---\nBody\n").message
    assert "requires_signoff" in _bad(
        tmp_path, "b.md", b"---\ntitle: x\nrequires_signoff: maybe\n---\nBody\n").message
    assert "unknown" in _bad(tmp_path, "c.md", b"---\ntitle: x\ntitel: y\n---\nBody\n").message
    assert "slug" in _bad(tmp_path, "d.md", b"---\ntitle: x\nslug: Bad Slug\n---\nBody\n").message


def test_readme_is_not_an_article(tmp_path):
    (tmp_path / "README.md").write_text("# about")
    write_article(tmp_path, "one")
    assert [p.name for p in article_files(tmp_path)] == ["one.md"]


def test_every_shipped_article_parses():
    paths = article_files(SHIPPED_ARTICLES)
    assert len(paths) == 27
    items = [parse_article(p) for p in paths]
    signoff = {i.slug for i in items if i.requires_signoff}
    assert signoff == {
        "customer-promise", "call-handling-standards", "hold-etiquette", "crisis-self-harm",
        "response-times", "repair-priorities", "complaints", "data-protection",
    }
    assert all(i.summary for i in items)
