"""History services: versions listed and compared, revert, and What's new with its count."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kb.core.errors import Invalid, NotAllowed, NotFound
from kb.extensions import db
from kb.history import comparing
from kb.history.services import (
    KINDS,
    compare_pair,
    get_document,
    history_rows,
    record_look,
    revert,
    unseen_count,
    whats_new,
)
from kb.models import Article, ArticleVersion, AuditLog, utcnow
from tests.conftest import user_named

ARTICLES = KINDS["articles"]

BODIES = [
    "## Keys\n\nA replacement fob costs £10.\n\nCall the office.\n",
    "## Keys\n\nA replacement fob costs £15.\n\nCall the office.\n",
    "## Keys\n\nA replacement fob costs £15 and takes two days.\n\nCall the office.\n",
]


@pytest.fixture
def fobs(app, make_article, runner):
    """An article imported three times: versions 1, 2 and 3 (each import a new version)."""
    for body in BODIES:
        make_article("fobs", title="Fobs", body=body)
        result = runner.invoke(args=["import-content"])
        assert result.exit_code == 0, result.output
    return "fobs"


def test_history_lists_every_version_newest_first(app, fobs):
    with app.app_context():
        rows = history_rows(ARTICLES, get_document(ARTICLES, fobs))
        assert [row.version.number for row in rows] == [3, 2, 1]
        assert [row.current for row in rows] == [True, False, False]
        assert rows[0].author == ""  # imported from a file: nobody to name


def test_compare_defaults_to_previous_against_current(app, fobs):
    with app.app_context():
        article = get_document(ARTICLES, fobs)
        older, newer = compare_pair(ARTICLES, article, None, None)
        assert (older.number, newer.number) == (2, 3)


def test_compare_any_two_versions_word_by_word(app, fobs):
    with app.app_context():
        article = get_document(ARTICLES, fobs)
        older, newer = compare_pair(ARTICLES, article, "1", "3")
        diff = comparing.source_diff(older, newer)
        changes = [(p.op, p.text) for block in diff.blocks for p in block.pieces
                   if p.op != "equal"]
        assert ("delete", "10") in changes
        assert any(op == "insert" and "15 and takes two days" in text for op, text in changes)
        backwards = compare_pair(ARTICLES, article, "3", "1")
        assert [v.number for v in backwards] == [3, 1]


def test_rendered_diff_ignores_markup_that_reads_the_same(app, fobs):
    with app.app_context():
        article = get_document(ARTICLES, fobs)
        older, newer = compare_pair(ARTICLES, article, "1", "2")
        rendered = comparing.rendered_diff(older, newer)
        text = "".join(p.text for block in rendered.blocks for p in block.pieces)
        assert "##" not in text and "Keys" in text
        assert (rendered.inserted_words, rendered.deleted_words) == (1, 1)


def test_numbers_out_of_range_or_not_numbers_are_not_found(app, fobs):
    with app.app_context():
        article = get_document(ARTICLES, fobs)
        for pair in (("0", "3"), ("1", "4"), ("x", "2"), ("1", "-1"), ("1", "9" * 40)):
            with pytest.raises(NotFound):
                compare_pair(ARTICLES, article, *pair)


def test_revert_publishes_the_old_text_as_a_new_version(app, fobs):
    with app.app_context():
        manager = user_named("manager")
        new = revert(fobs, 1, manager, reason="price rise was withdrawn", material=False)
        db.session.commit()
        article = get_document(ARTICLES, fobs)
        assert new.number == 4 and article.current_version.number == 4
        assert article.current_version.markdown.strip() == BODIES[0].strip()
        assert new.change_summary == "Reverted to version 1: price rise was withdrawn"
        assert new.material is False and new.author_id == manager.id
        # Every earlier version is still there, unchanged.
        rows = history_rows(ARTICLES, article)
        assert [r.version.number for r in rows] == [4, 3, 2, 1]
        assert rows[0].author == manager.display_name and rows[1].author == ""
        assert "£15 and takes two days" in rows[1].version.markdown
        entry = db.session.scalar(db.select(AuditLog).filter_by(action="article.revert"))
        assert entry.user_id == manager.id and entry.target_id == str(article.id)
        assert entry.detail["reverted_to"] == 1 and entry.detail["version"] == 4


def test_revert_restores_the_old_title_and_quick_answer(app, fobs, make_article, runner):
    make_article("fobs", title="Door fobs", summary="Now fifteen pounds.", body=BODIES[2])
    assert runner.invoke(args=["import-content"]).exit_code == 0
    with app.app_context():
        revert(fobs, 3, user_named("manager"))
        db.session.commit()
        article = get_document(ARTICLES, fobs)
        assert (article.title, article.current_version.title) == ("Fobs", "Fobs")
        assert article.summary == "Quick answer for fobs."


def test_revert_refuses_agents_and_the_current_version(app, fobs):
    with app.app_context():
        with pytest.raises(NotAllowed):
            revert(fobs, 1, user_named("agent"))
        with pytest.raises(Invalid) as problem:
            revert(fobs, 3, user_named("manager"))
        assert problem.value.field == "number"
        with pytest.raises(Invalid) as problem:
            revert(fobs, 1, user_named("manager"), reason="x" * 401)
        assert problem.value.field == "reason"
        db.session.rollback()
        assert get_document(ARTICLES, fobs).current_version.number == 3


def _age(slug: str, number: int, days: float) -> None:
    """Pretend a version was published ``days`` ago."""
    version = db.session.scalar(
        db.select(ArticleVersion).join(ArticleVersion.article).where(Article.slug == slug,
                                                      ArticleVersion.number == number))
    version.created_at = utcnow() - timedelta(days=days)
    db.session.commit()


def test_whats_new_lists_material_changes_of_the_last_30_days(app, fobs, make_article, runner):
    make_article("lifts", title="Lifts", body="Report a broken lift.")
    assert runner.invoke(args=["import-content"]).exit_code == 0  # a first version: no change
    with app.app_context():
        _age(fobs, 2, 31)  # too old
        revert(fobs, 1, user_named("manager"), material=False)  # a minor change: not listed
        db.session.commit()
        items = whats_new()
        assert [(v.article.slug, v.number) for v in items] == [("fobs", 3)]
        revert(fobs, 2, user_named("manager"), reason="back again")
        db.session.commit()
        assert [(v.article.slug, v.number) for v in whats_new()] == [("fobs", 5), ("fobs", 3)]


def test_count_covers_what_the_user_has_not_seen_and_clears_on_a_look(app, fobs):
    with app.app_context():
        agent = user_named("agent")
        assert unseen_count(agent) == 2  # versions 2 and 3
        assert record_look(agent)
        assert unseen_count(user_named("agent")) == 0
        revert(fobs, 1, user_named("manager"))
        db.session.commit()
        assert unseen_count(user_named("agent")) == 1
        assert unseen_count(user_named("newstarter")) == 3  # never looked: the whole window
        _age(fobs, 2, 40)
        _age(fobs, 3, 40)
        assert unseen_count(user_named("newstarter")) == 1  # older than 30 days is not "new"
