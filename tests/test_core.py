"""The shared core: role checks in services, the audit trail's structured target, one way
to publish a version, domain errors as HTTP answers, and the token-use bookkeeping."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kb.core import audit, signals
from kb.core.errors import Invalid, NotAllowed, NotFound, Stale
from kb.extensions import db
from kb.models import ApiToken, AuditLog, Helpline, SearchVocabulary
from kb.tools.duedates.models import ResponseStandard
from tests import databases
from tests.conftest import login, user_named


def test_an_agent_calling_save_standard_is_refused_and_nothing_changes(app):
    from kb.tools.duedates.services import save_standard

    with app.app_context():
        email = db.session.scalar(db.select(ResponseStandard).filter_by(key="email"))
        with pytest.raises(NotAllowed):
            save_standard(email, key="email", label="Changed", channel="Email",
                          rule="working_days", amount=1, active=True, user=user_named("agent"))
        db.session.rollback()
        assert db.session.get(ResponseStandard, email.id).label != "Changed"
        assert db.session.scalar(db.select(AuditLog).filter_by(action="standard.update")) is None


def test_an_agent_calling_the_vocabulary_save_is_refused(app):
    from kb.admin.services import save_vocabulary

    with app.app_context():
        with pytest.raises(NotAllowed):
            save_vocabulary("synonyms", "px7, pest control\n", user_named("agent"))
        assert db.session.scalar(db.select(SearchVocabulary)) is None
        assert save_vocabulary("synonyms", "px7, pest control\n", user_named("manager")) >= 1


def test_audit_rows_name_their_target_by_type_and_id(app, client):
    from kb.crisis.services import HelplineData, create_helpline, helpline_history

    with app.app_context():
        helpline = create_helpline(HelplineData(name="Test line", number="0800 000 000"),
                                   user_named("manager"))
        db.session.commit()
        row = db.session.scalar(db.select(AuditLog).filter_by(action="helpline.create"))
        assert (row.target_type, row.target_id) == ("helpline", str(helpline.id))
        assert row.target == f"helpline:{helpline.id}"  # still readable
        assert [entry.action for entry, _name in helpline_history(helpline.id)] == [
            "helpline.create"]


def test_publish_makes_no_version_for_unchanged_text_and_signals_a_new_one(
        app, make_article):
    from kb.articles.services import import_articles

    published = []

    def listen(document, version, material):
        published.append((document.slug, version.number, material))

    signals.version_published.connect(listen)
    try:
        with app.app_context():
            path = make_article("lost-fob", body="Cancel the old fob.")
            import_articles(path.parent)
            db.session.commit()
            import_articles(path.parent)  # the same text again: no new version
            db.session.commit()
            make_article("lost-fob", body="Cancel the old fob and issue a new one.")
            import_articles(path.parent)
            db.session.commit()
            rows = db.session.scalars(
                db.select(AuditLog).filter_by(action="article.version")).all()
    finally:
        signals.version_published.disconnect(listen)
    assert published == [("lost-fob", 1, True), ("lost-fob", 2, True)]
    assert [(r.target_type, r.target, r.detail["version"]) for r in rows] == [
        ("article", "lost-fob", 1), ("article", "lost-fob", 2)]


@pytest.mark.parametrize("error, code", [
    (NotFound("x"), 404), (NotAllowed("x"), 403), (Invalid("name", "Enter a name."), 400),
    (Stale("x"), 409)])
def test_domain_errors_no_view_handles_become_http_answers(app, error, code):
    def raising():
        raise error

    app.add_url_rule("/api/_raise", "raise_api", raising)
    app.add_url_rule("/_raise", "raise_page", raising)
    client = app.test_client()
    login(client, "agent")
    api = client.get("/api/_raise")
    assert api.status_code == code and api.is_json
    assert client.get("/_raise").status_code == code
    if code == 400:
        assert api.get_json()["message"] == "Enter a name."


def test_token_use_is_recorded_after_the_request(app, runner):
    token = runner.invoke(args=["create-token", "agent"]).output.strip()
    client = app.test_client()
    assert client.get("/api/search?q=hold",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(ApiToken.last_used_at)) is not None


def test_no_get_request_writes_to_the_database(app, client):
    login(client, "manager")
    with app.app_context():
        db.session.execute(db.delete(ResponseStandard))  # as before `import-content` ran
        db.session.commit()
        before = db.session.scalar(db.select(db.func.count(AuditLog.id)))
    for url in ("/tools/due-date", "/tools/due-date/standards", "/admin/"):
        assert client.get(url).status_code == 200
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(ResponseStandard.id))) == 0
        assert db.session.scalar(db.select(db.func.count(AuditLog.id))) == before


def test_the_migration_backfills_structured_targets(tmp_path):
    url = databases.empty_database(tmp_path)
    databases.migrate(url, "e7a1c2d3f4b5")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO articles (id, slug, title, category, tags, summary, owner, "
                "requires_signoff, review_cycle_months, created_at, updated_at) VALUES "
                "(5, 'lost-fob', 'Lost fob', 'Keys', '[]', '', '', false, 12, "
                "'2026-01-01', '2026-01-01')"))
            connection.execute(sa.text(
                "INSERT INTO audit_log (action, target, detail, created_at) VALUES "
                "('helpline.update', 'helpline:3', '{}', '2026-01-01'), "
                "('crisis_incident.create', 'crisis_incident:7', '{}', '2026-01-01'), "
                "('article.version', 'lost-fob', '{}', '2026-01-01')"))
        databases.migrate(url)
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT target, target_type, target_id FROM audit_log ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("helpline:3", "helpline", "3"),
                                       ("crisis_incident:7", "crisis_incident", "7"),
                                       ("lost-fob", "article", "5")]


def test_audit_target_type_is_the_model_name():
    assert audit.target_type(Helpline()) == "helpline"
    from kb.models import CallScript

    assert audit.target_type(CallScript()) == "call_script"
