"""The Whoosh internals search relies on exist in the pinned version, and the fallbacks agree."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kb.search import whoosh_internals
from kb.search.engine import Document, SearchIndex

# The search engine and index, not SQL: run once, on SQLite.
pytestmark = pytest.mark.database_independent

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _doc(slug: str, body: str) -> Document:
    return Document(slug=slug, kind="article", title=slug.title(), summary="", tags=[],
                    category="Rent", body=body, sha256=slug,
                    updated_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_the_installed_whoosh_is_the_pinned_one():
    pinned = re.search(r'"whoosh-reloaded==([^"]+)"', PYPROJECT.read_text()).group(1)
    assert whoosh_internals.PINNED_VERSION == pinned
    assert whoosh_internals.installed_version() == pinned


def test_every_internal_relied_on_is_there():
    assert whoosh_internals.missing() == []


@pytest.fixture
def leaf(tmp_path):
    index = SearchIndex(tmp_path / "index")
    index.ensure()
    index.rebuild([_doc(f"doc-{n}", "rent arrears " * (n + 1)) for n in range(300)], 300)
    with index._lock:
        reader = index._current().reader()
        yield next(leaf for leaf, _ in reader.leaf_readers() if leaf.doc_count())


def test_block_postings_agree_with_the_public_route(leaf):
    btext = next(iter(leaf.lexicon("body")))
    fast = whoosh_internals.postings(leaf, "body", btext)
    slow = whoosh_internals.postings(leaf, "body", btext, fast=False)
    assert len(fast[0]) == 300
    assert fast == slow


def test_raw_length_column_agrees_with_the_public_route(leaf):
    fast = whoosh_internals.length_column(leaf, "body")
    slow = whoosh_internals.length_column(leaf, "body", fast=False)
    assert len(slow) == leaf.doc_count_all()
    assert fast[: len(slow)] == slow


def test_an_unknown_term_has_no_postings(leaf):
    assert whoosh_internals.postings(leaf, "body", b"zzzzqqq") == (
        whoosh_internals.postings(leaf, "body", b"zzzzqqq", fast=False))
    assert len(whoosh_internals.postings(leaf, "body", b"zzzzqqq")[0]) == 0
