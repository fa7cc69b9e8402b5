"""Review cycles: dates, "reviewed, no change", new versions, the dashboard by owner."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from kb.core.clock import local_today
from kb.core.errors import NotAllowed
from kb.extensions import db
from kb.models import Article, AuditLog, User, utcnow
from kb.reviews.services import mark_reviewed, next_review_on, review_board
from tests.conftest import csrf_token, login


def imported(runner) -> None:
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0, result.output


def article(slug: str) -> Article:
    return db.session.scalar(db.select(Article).filter_by(slug=slug))


def reviewed_days_ago(app, slug: str, days: int, cycle: int = 12) -> None:
    """Pretend the article's last review was ``days`` ago (its next review follows)."""
    with app.app_context():
        item = article(slug)
        item.review_cycle_months = cycle
        item.last_reviewed_at = utcnow() - timedelta(days=days)
        item.next_review_date = next_review_on(item.last_reviewed_at, cycle)
        db.session.commit()


# ----- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(("last", "cycle", "expected"), [
    (datetime(2026, 3, 10, 9), 12, date(2027, 3, 10)),
    (datetime(2026, 1, 31, 12), 1, date(2026, 2, 28)),      # month end clamps
    (datetime(2027, 12, 31, 12), 2, date(2028, 2, 29)),     # into a leap February
    (datetime(2028, 2, 29, 12), 12, date(2029, 2, 28)),     # from one
    (datetime(2026, 8, 31, 12), 6, date(2027, 2, 28)),
    (datetime(2026, 11, 15, 12), 3, date(2027, 2, 15)),     # over the year end
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (summer time): local day counts.
    (datetime(2026, 5, 31, 23, 30), 1, date(2026, 7, 1)),
])
def test_next_review_is_last_review_plus_cycle(app, last, cycle, expected):
    with app.app_context():
        assert next_review_on(last, cycle) == expected


def test_no_last_review_or_no_cycle_means_no_date(app):
    with app.app_context():
        assert next_review_on(None, 12) is None
        assert next_review_on(datetime(2026, 1, 1), 0) is None


def test_import_counts_as_the_first_review(app, runner, make_article):
    make_article("bins", review_cycle_months=6)
    imported(runner)
    with app.app_context():
        item = article("bins")
        assert item.last_reviewed_at == item.current_version.created_at
        assert item.last_reviewed_by_id is None  # the import has no author
        assert item.next_review_date == next_review_on(item.last_reviewed_at, 6)


def test_a_new_version_resets_the_review(app, runner, make_article):
    make_article("bins")
    imported(runner)
    reviewed_days_ago(app, "bins", 400)
    with app.app_context():
        assert article("bins").next_review_date < local_today()  # overdue
    make_article("bins", body="Bins go out by 7am.")
    imported(runner)
    with app.app_context():
        item = article("bins")
        assert item.current_version.number == 2
        assert item.last_reviewed_at == item.current_version.created_at
        assert item.next_review_date == next_review_on(item.current_version.created_at, 12)
        assert item.next_review_date > local_today()


def test_changing_the_cycle_moves_the_next_review_and_is_audited(app, runner, make_article):
    make_article("bins", review_cycle_months=12)
    imported(runner)
    make_article("bins", review_cycle_months=3)  # metadata only: no new version
    imported(runner)
    with app.app_context():
        item = article("bins")
        assert item.current_version.number == 1
        assert item.next_review_date == next_review_on(item.last_reviewed_at, 3)
        row = db.session.scalar(db.select(AuditLog).filter_by(action="article.metadata"))
        assert row.detail["before"] == {"review_cycle_months": 12}
        assert row.detail["after"] == {"review_cycle_months": 3}


# ----- reviewed, no change ---------------------------------------------------------------


def post_reviewed(client, slug: str, note: str = "", next_url: str = ""):
    token = csrf_token(client.get(f"/articles/{slug}"))
    return client.post(f"/reviews/articles/{slug}",
                       data={"csrf_token": token, "note": note, "next": next_url})


def test_reviewed_no_change_records_a_review_without_a_version(app, runner, make_article,
                                                               client):
    make_article("bins")
    imported(runner)
    reviewed_days_ago(app, "bins", 380)
    login(client, "manager")
    page = client.get("/articles/bins").get_data(as_text=True)
    assert "Overdue for review" in page and "Reviewed, no change" in page

    response = post_reviewed(client, "bins", note="Checked with the waste team.")
    assert response.status_code == 302 and response.location.endswith("/articles/bins")
    with app.app_context():
        item = article("bins")
        assert len(item.versions) == 1
        assert item.last_reviewed_by.username == "manager"
        assert item.next_review_date == next_review_on(item.last_reviewed_at, 12)
        assert item.next_review_date > local_today() + timedelta(days=360)
        row = db.session.scalar(db.select(AuditLog).filter_by(action="article.reviewed"))
        assert row.user_id == item.last_reviewed_by_id
        assert (row.target_type, row.target_id) == ("article", str(item.id))
        assert row.detail["note"] == "Checked with the waste team."
        assert row.detail["version"] == 1
    page = client.get("/articles/bins").get_data(as_text=True)
    assert "Overdue for review" not in page
    assert "recorded as reviewed with no change" in page


def test_reviewed_returns_to_a_safe_next_page_only(app, runner, make_article, client):
    make_article("bins")
    imported(runner)
    login(client, "manager")
    assert post_reviewed(client, "bins", next_url="/reviews/?owner=x").location.endswith(
        "/reviews/?owner=x")
    assert post_reviewed(client, "bins", next_url="https://evil.example/").location.endswith(
        "/articles/bins")


def test_a_too_long_note_changes_nothing(app, runner, make_article, client):
    make_article("bins")
    imported(runner)
    reviewed_days_ago(app, "bins", 380)
    login(client, "manager")
    response = post_reviewed(client, "bins", note="x" * 501)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Nothing was recorded" in page and "keep it to 500" in page
    with app.app_context():
        assert article("bins").next_review_date < local_today()
        assert db.session.scalar(db.select(AuditLog).filter_by(action="article.reviewed")) is None


def test_reviewed_needs_csrf_a_manager_and_a_real_article(app, runner, make_article, client):
    make_article("bins")
    imported(runner)
    login(client, "manager")
    assert client.post("/reviews/articles/bins", data={}).status_code == 400
    assert post_reviewed(client, "bins").status_code == 302
    token = csrf_token(client.get("/articles/bins"))
    assert client.post("/reviews/articles/nope", data={"csrf_token": token}).status_code == 404


def test_agents_get_403_on_the_dashboard_and_the_review_post(app, runner, make_article,
                                                            client):
    make_article("bins")
    imported(runner)
    reviewed_days_ago(app, "bins", 380)
    login(client, "agent")
    assert client.get("/reviews/").status_code == 403
    page = client.get("/articles/bins")
    assert "Reviewed, no change" not in page.get_data(as_text=True)
    # A valid CSRF token (the sign-out form's) does not let an agent record a review.
    response = client.post("/reviews/articles/bins", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 403
    with app.app_context():
        assert article("bins").next_review_date < local_today()
        agent = db.session.scalar(db.select(User).filter_by(username="agent"))
        with pytest.raises(NotAllowed):  # the service checks the role too
            mark_reviewed("bins", agent)
        agent = db.session.scalar(db.select(User).filter_by(username="agent"))
        with pytest.raises(NotAllowed):
            mark_reviewed("bins", agent)


def test_everyone_sees_the_review_line_and_the_overdue_notice(app, runner, make_article,
                                                              client):
    make_article("bins")
    imported(runner)
    login(client, "agent")
    page = client.get("/articles/bins").get_data(as_text=True)
    assert "Last reviewed" in page and "next review" in page
    assert "Overdue for review" not in page
    reviewed_days_ago(app, "bins", 375)
    page = client.get("/articles/bins").get_data(as_text=True)
    assert "Overdue for review" in page
    assert "due to be checked" in page and "days ago" in page
    assert "Reviewed, no change" not in page  # the button is for managers


# ----- the dashboard ----------------------------------------------------------------------


@pytest.fixture
def owned(app, runner, make_article):
    """Four articles: two overdue, one due soon, one not due, over two owners."""
    make_article("bins", owner="Waste Manager")
    make_article("fly-tipping", owner="Waste Manager")
    make_article("repairs", owner="Repairs Manager")
    make_article("rent", owner="Income Manager")
    imported(runner)
    reviewed_days_ago(app, "bins", 400)        # about a month overdue
    reviewed_days_ago(app, "repairs", 370)     # a few days overdue
    reviewed_days_ago(app, "fly-tipping", 350)  # due in about two weeks
    return app


def test_board_lists_overdue_and_due_soon_by_owner(owned):
    with owned.app_context():
        groups = review_board()
        assert [g.owner for g in groups] == ["Repairs Manager", "Waste Manager"]
        repairs, waste = groups
        assert [i.article.slug for i in repairs.overdue] == ["repairs"]
        assert [i.article.slug for i in waste.overdue] == ["bins"]
        assert [i.article.slug for i in waste.due_soon] == ["fly-tipping"]
        bins = waste.overdue[0].status
        assert bins.overdue and bins.days == (bins.next_review - local_today()).days < -20
        assert 0 < waste.due_soon[0].status.days <= 30
        only = review_board("Waste Manager")
        assert [g.owner for g in only] == ["Waste Manager"]


def test_due_on_the_day_is_not_yet_overdue(app, runner, make_article):
    make_article("bins")
    imported(runner)
    with app.app_context():
        item = article("bins")
        item.next_review_date = local_today()
        db.session.commit()
        [group] = review_board()
        assert group.overdue == [] and group.due_soon[0].status.days == 0


def test_dashboard_page_groups_counts_and_filters(owned):
    client = owned.test_client()
    login(client, "manager")
    page = client.get("/reviews/").get_data(as_text=True)
    assert "<strong>2</strong> overdue" in page and "<strong>1</strong> due in the next 30" in page
    assert page.index("Repairs Manager") < page.index("Waste Manager")
    assert 'href="/articles/bins"' in page and "days overdue" in page
    assert "Income Manager</option>" in page  # in the filter, though nothing is due
    assert 'href="/articles/rent"' not in page
    page = client.get("/reviews/?owner=Waste+Manager").get_data(as_text=True)
    assert 'href="/articles/bins"' in page and 'href="/articles/repairs"' not in page
    response = client.get("/reviews/?owner=Nobody+Here")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "No document has the owner “Nobody Here”" in text and 'href="/articles/bins"' in text


def test_dashboard_button_records_the_review_and_returns(owned):
    client = owned.test_client()
    login(client, "manager")
    token = csrf_token(client.get("/reviews/"))
    response = client.post("/reviews/articles/bins",
                           data={"csrf_token": token, "next": "/reviews/"})
    assert response.location.endswith("/reviews/")
    page = client.get("/reviews/").get_data(as_text=True)
    assert 'href="/articles/bins"' not in page and "<strong>1</strong> overdue" in page


def test_managers_start_page_counts_overdue_reviews(owned):
    client = owned.test_client()
    login(client, "manager")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'href="/reviews/"' in page and "2 overdue" in page
    assert 'href="/admin/audit"' in page


# ----- the migration ------------------------------------------------------------------------


def test_migration_backfills_the_last_review_from_the_current_version(tmp_path):
    import sqlalchemy as sa

    from tests import databases

    url = databases.empty_database(tmp_path)
    databases.migrate(url, "b7d2e9c4a1f6")  # the revision before review cycles
    databases.insert_old_content(url, {"bins": 1, "draft-only": 0}, user_id=7)
    engine = sa.create_engine(url)
    try:
        databases.migrate(url)
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT slug, last_reviewed_at, last_reviewed_by_id FROM articles ORDER BY id"
            )).all()
    finally:
        engine.dispose()
    assert [(slug, str(when)[:19] if when else None, by) for slug, when, by in rows] == [
        ("bins", "2026-03-04 10:00:00", 7), ("draft-only", None, None)]
