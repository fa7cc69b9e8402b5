"""The audit log page and CSV export (managers), and the audit rows it relies on."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from kb.admin.audit import describe
from kb.core import audit
from kb.core.spreadsheet import safe_cell as neutralise
from kb.extensions import db
from kb.models import Article, AuditLog
from tests.conftest import every_stored_value, login, user_named


def add_row(action: str, target, *, by: str | None = "manager", at: datetime | None = None,
            detail: dict | None = None, label: str | None = None) -> AuditLog:
    """An audit row written through the one audit function, optionally back-dated."""
    row = audit.record(user_named(by) if by else None, action, target, detail, label=label)
    if at is not None:
        row.created_at = at
    db.session.flush()
    return row


@pytest.fixture
def logged(app, runner, make_article):
    """An imported article and a handful of audit rows at known times."""
    make_article("bins", title="Bin collections")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    with app.app_context():
        bins = db.session.scalar(db.select(Article).filter_by(slug="bins"))
        add_row("article.reviewed", bins, at=datetime(2026, 5, 20, 9, 0),
                detail={"version": 1, "note": "still right"})
        add_row("helpline.update", ("helpline", "7"), by="admin",
                at=datetime(2026, 5, 31, 23, 30),  # 00:30 on 1 June in London
                detail={"before": {"number": "0800 1"}, "after": {"number": "0800 2"}},
                label="Samaritans")
        add_row("vocabulary.update", ("search_vocabulary", "1"), at=datetime(2026, 6, 2, 12),
                detail={"diff": ["+fob = swipe card", "-fob = key"]}, label="synonyms")
        db.session.commit()
    return app


def manager(app):
    client = app.test_client()
    login(client, "manager")
    return client


def page_text(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def test_rows_newest_first_with_who_target_link_and_readable_detail(logged):
    page = page_text(manager(logged), "/admin/audit")
    order = [page.index(f"{action}</code>") for action in
             ("vocabulary.update", "helpline.update", "article.reviewed")]
    assert order == sorted(order)
    assert "Ash Admin (admin)" in page and "Morgan Manager (manager)" in page
    assert '<a href="/articles/bins">bins</a>' in page
    assert "version 1; note: still right" in page
    assert "number: 0800 1 → 0800 2" in page
    assert "1 line added, 1 removed" in page
    assert "Monday 1 June 2026, 00:30" in page  # shown in local time


def test_filter_by_user_action_type_and_document(logged):
    client = manager(logged)
    with logged.app_context():
        admin_id = user_named("admin").id
    page = page_text(client, f"/admin/audit?user={admin_id}")
    assert "helpline.update" in page and "article.reviewed</code>" not in page
    page = page_text(client, "/admin/audit?action=article.reviewed")
    assert "article.reviewed</code>" in page and "helpline.update</code>" not in page
    page = page_text(client, "/admin/audit?target_type=helpline&target=7")
    assert "helpline.update</code>" in page and "vocabulary.update</code>" not in page
    page = page_text(client, "/admin/audit?target=SAMARIT")  # the label, any case
    assert "helpline.update</code>" in page and "article.reviewed</code>" not in page
    page = page_text(client, "/admin/audit?target=%25")  # a LIKE wildcard is just text
    assert "No audit rows match" in page
    # The selects offer what is in the log.
    assert '<option selected>helpline</option>' in page_text(
        client, "/admin/audit?target_type=helpline")
    assert "<option>vocabulary.update</option>" in page


def test_filter_by_local_date_range(logged):
    client = manager(logged)
    page = page_text(client, "/admin/audit?from=2026-06-01&to=2026-06-01")
    assert "helpline.update</code>" in page  # 23:30 UTC on 31 May is 1 June here
    assert "vocabulary.update</code>" not in page and "article.reviewed</code>" not in page
    page = page_text(client, "/admin/audit?to=2026-05-31")
    assert "article.reviewed</code>" in page and "helpline.update</code>" not in page
    page = page_text(client, "/admin/audit?from=01/06/2026")  # typed the UK way
    assert "vocabulary.update</code>" in page and "article.reviewed</code>" not in page


@pytest.mark.parametrize(("query", "message"), [
    ("from=2026-02-31", "“2026-02-31” is not a date"),
    ("to=yesterday", "“yesterday” is not a date"),
    ("from=0001-01-01", "is not a date"),
    ("from=9999-12-31", "is not a date"),
    ("from=2026-06-05&to=2026-06-01", "The From date is after the To date"),
    ("user=99999999999999", "The person filter was not a user"),
    ("user=abc", "The person filter was not a user"),
])
def test_bad_filter_input_is_explained_and_ignored(logged, query, message):
    page = page_text(manager(logged), f"/admin/audit?{query}", status=400)
    assert message in page
    assert "The rows below use the other filters only" in page
    assert "article.reviewed</code>" in page and "vocabulary.update</code>" in page


def test_a_bad_filter_is_ignored_but_the_good_ones_still_apply(logged):
    page = page_text(manager(logged), "/admin/audit?from=nonsense&action=helpline.update",
                     status=400)
    assert "helpline.update</code>" in page and "article.reviewed</code>" not in page


def test_pagination_and_pages_out_of_range(app):
    with app.app_context():
        for number in range(120):
            add_row("standard.update", ("response_standard", str(number)),
                    at=datetime(2026, 6, 1, 8, 0, number % 60, number))
        db.session.commit()
    client = manager(app)
    first = page_text(client, "/admin/audit?action=standard.update")
    assert first.count("standard.update</code>") == 50 and "Page 1 of 3" in first
    assert "page=2" in first and "action=standard.update" in first  # links keep filters
    last = page_text(client, "/admin/audit?action=standard.update&page=3")
    assert last.count("standard.update</code>") == 20
    for bad in ("4", "0", "-1", "abc", "99999999999999999999"):
        assert client.get(f"/admin/audit?action=standard.update&page={bad}").status_code == 404
    assert client.get("/admin/audit?action=nothing-like-this").status_code == 200


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_of_the_filtered_rows(logged):
    client = manager(logged)
    response = client.get("/admin/audit.csv?action=helpline.update")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[:6] == ["time (local)", "who", "action", "target type", "target id",
                          "target"]
    assert len(rows) == 1
    assert rows[0][1:6] == ["Ash Admin (admin)", "helpline.update", "helpline", "7",
                            "Samaritans"]
    assert rows[0][0] == "2026-06-01 00:30:00"
    assert rows[0][6] == "number: 0800 1 → 0800 2"
    everything = csv_rows(client.get("/admin/audit.csv"))
    assert len(everything) - 1 == len(page_text(client, "/admin/audit").split("<code>")) - 1


def test_csv_export_neutralises_spreadsheet_formulas(app):
    evil = ['=HYPERLINK("http://evil.example","click")', "+1", "-2", "@SUM(A1:A9)",
            "\tTAB", "\rCR"]
    with app.app_context():
        for text in evil:
            add_row("article.reviewed", ("article", text[:20]), label=text,
                    detail={"note": text})
        db.session.commit()
    rows = csv_rows(manager(app).get("/admin/audit.csv?action=article.reviewed"))[1:]
    labels = sorted(row[5] for row in rows)
    assert labels == sorted("'" + text for text in evil)
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    assert neutralise("plain") == "plain" and neutralise("a=b") == "a=b"
    assert neutralise(None) == ""


def test_csv_export_refuses_bad_filters(logged):
    response = manager(logged).get("/admin/audit.csv?from=2026-13-01")
    assert response.status_code == 400
    assert "Nothing was exported" in response.get_data(as_text=True)


def test_agents_get_403_and_visitors_sign_in(logged, client):
    assert client.get("/admin/audit").status_code == 302  # to the sign-in page
    login(client, "agent")
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403


def test_no_route_changes_an_audit_row(app):
    rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule]
    assert {rule.rule for rule in rules} >= {"/admin/audit", "/admin/audit.csv"}
    for rule in rules:
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule
    with app.app_context():
        row = add_row("standard.update", ("response_standard", "1"))
        db.session.commit()
        row.action = "something.else"
        with pytest.raises(RuntimeError, match="cannot be changed"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditLog, row.id))
        with pytest.raises(RuntimeError, match="cannot be deleted"):
            db.session.commit()


def test_describe_reads_details():
    assert describe({"version": 3, "sha256": "ab" * 32, "source": None}) == "version 3"
    assert describe({"before": None, "after": {"key": "email"}}) == "key: (none) → email"
    assert describe({}) == ""
    assert len(describe({"note": "x" * 2000})) <= 400


# ----- audit coverage ---------------------------------------------------------------------


def test_a_failed_login_is_audited_without_the_password(app, client):
    response = login(client, "manager", password="Hunter2-secret")
    assert response.status_code == 200
    login(client, "no-such-person", password="Other-secret")
    with app.app_context():
        rows = db.session.scalars(db.select(AuditLog).filter_by(action="login.failed")
                                  .order_by(AuditLog.id)).all()
        assert [(r.target_type, r.target_id, r.user_id) for r in rows] == [
            ("login", "manager", None), ("login", "no-such-person", None)]
        assert rows[0].detail == {"username": "manager", "reason": "wrong password",
                                  "address": "127.0.0.1"}
        assert rows[1].detail["reason"] == "no such user"
        stored = every_stored_value(db)
        assert "Hunter2-secret" not in stored and "Other-secret" not in stored
    manager_client = app.test_client()
    login(manager_client, "manager")
    page = page_text(manager_client, "/admin/audit?action=login.failed")
    assert "Not signed in / system" in page and "reason: wrong password" in page
    assert "address: 127.0.0.1" in page


def test_a_refused_login_during_backoff_is_audited(tmp_path):
    from tests.conftest import build_app

    app = build_app(tmp_path, KB_LOGIN_ACCOUNT_LIMIT="2 per hour",
                    RATELIMIT_ENABLED=True)
    with app.app_context():
        from kb.auth.services import seed_demo_accounts

        seed_demo_accounts()
        db.session.commit()
    client = app.test_client()
    for _ in range(3):
        response = login(client, "agent", password="wrong")
    assert response.status_code == 429
    with app.app_context():
        reasons = db.session.scalars(db.select(AuditLog.detail)
                                     .filter_by(action="login.failed")).all()
        assert [r["reason"] for r in reasons][-1].startswith("too many failed sign-ins")
        db.engine.dispose()


def test_seeding_the_standards_is_audited(app):
    with app.app_context():
        row = db.session.scalar(db.select(AuditLog).filter_by(action="standard.seed"))
        assert row is not None and row.detail["count"] > 0 and "email" in row.detail["keys"]


def test_a_failed_login_with_a_nul_in_the_username_is_still_audited(app):
    from kb.auth.services import audit_login_failure

    with app.app_context():  # PostgreSQL cannot store a NUL: it is spelled out instead
        audit_login_failure("agent\x00", "192.0.2.1")
        db.session.commit()
        row = db.session.scalar(db.select(AuditLog).filter_by(action="login.failed"))
        assert (row.target_id, row.detail["username"]) == ("agent\\0", "agent\\0")
        assert row.detail["address"] == "192.0.2.1"
