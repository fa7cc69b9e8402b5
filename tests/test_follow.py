"""The background index follower (kb/search/follow.py) in one process: what another host
writes to the database reaches this index with no search and no save here; a failing
round is logged once and the thread carries on; it stops when asked."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import pytest

from kb.extensions import db
from kb.search import follow
from tests.conftest import build_app, write_article
from tests.test_callscripts import write_script
from tests.test_multihost import indexed_slugs


def _indexed(app) -> set[str]:
    """What the app's index folder holds, read from its files (not through the app)."""
    return indexed_slugs(app.config["KB_INDEX_DIR"])


def _wait(check, timeout: float = 5.0) -> float:
    started = time.monotonic()
    for _ in range(int(timeout / 0.05) + 1):
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"not within {timeout} s")


@pytest.fixture
def hosts(tmp_path):
    """Two apps on one database with indexes of their own: "a" writes (one article
    imported), "b" follows."""
    articles = tmp_path / "articles"
    articles.mkdir()
    write_article(articles, "bins", body="Bins go out on Tuesday.")
    a = build_app(tmp_path, seeded=True)
    assert a.test_cli_runner().invoke(args=["import-content"]).exit_code == 0
    b = build_app(tmp_path, KB_INDEX_DIR=str(tmp_path / "index-b"),
                  KB_INDEX_FOLLOW_SECONDS=0.2)
    follower = follow.start(b)
    yield a, b, follower, articles
    assert follow.stop()
    for app in (a, b):
        with app.app_context():
            db.engine.dispose()


def test_what_another_host_publishes_and_archives_reaches_this_index_unasked(hosts):
    a, b, follower, articles = hosts
    _wait(lambda: _indexed(b) == {"bins"})  # its first round fills the new index
    runner = a.test_cli_runner()
    write_article(articles, "swipe-cards", body="Order a replacement fob.")
    scripts = Path(a.config["KB_SCRIPTS_DIR"])
    scripts.mkdir()
    write_script(scripts)  # a call script citing swipe-cards
    assert runner.invoke(args=["import-content"]).exit_code == 0
    assert _wait(lambda: _indexed(b) == {"bins", "swipe-cards", "script:lost-fob"}) < 2
    # Archived as a manager does in the editor (a removed file unpublishes nothing).
    from kb.models import Article, User
    from kb.publishing.archive import archive

    with a.app_context():
        manager = db.session.scalar(db.select(User).filter_by(username="manager"))
        archive(manager, db.session.scalar(db.select(Article).filter_by(slug="bins")))
        db.session.commit()
    assert _wait(lambda: _indexed(b) == {"swipe-cards", "script:lost-fob"}) < 2
    assert follower.alive and follower.rounds >= 2


def test_a_failing_round_is_logged_once_and_the_follower_repairs_the_index(hosts, caplog):
    _a, b, follower, _articles = hosts
    _wait(lambda: _indexed(b) == {"bins"})
    index_dir = Path(b.config["KB_INDEX_DIR"])
    with caplog.at_level(logging.WARNING, logger="kb.search.follow"):
        shutil.rmtree(index_dir)
        index_dir.write_text("a file where the index folder should be")
        _wait(lambda: follower.failures >= 3)
        assert follower.alive
        index_dir.unlink()
        # Recreated and refilled from the database by the follower alone, no search.
        _wait(lambda: _indexed(b) == {"bins"}, timeout=15)
    warnings = [r.getMessage() for r in caplog.records if r.name == "kb.search.follow"]
    assert len(warnings) == 1 and "could not catch up" in warnings[0], warnings


def test_off_when_the_setting_is_zero(tmp_path):
    app = build_app(tmp_path, KB_INDEX_FOLLOW_SECONDS=0)
    assert follow.start(app) is None
    assert follow.stop()
