"""Managers edit the search vocabularies (crisis, emergency, synonyms) kept in the database."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from kb.extensions import db
from kb.models import AuditLog, SearchVocabulary
from tests.conftest import ROOT, build_app, csrf_token, login, write_article

CRISIS_DEFAULT = (ROOT / "kb" / "data" / "crisis_vocabulary.yml").read_text(encoding="utf-8")
# A made-up slang word, the kind a centre hears and adds for itself.
NEW_SLANG = CRISIS_DEFAULT.replace("  unalive: kill\n", "  unalive: kill\n  zorble: kill\n")


@pytest.fixture
def voc_app(tmp_path):
    """An app with a pest-control article, imported by the real command (which seeds the
    vocabularies); synonyms seeded from a copy of the shipped file."""
    synonyms = tmp_path / "synonyms.txt"
    shutil.copy(ROOT / "kb" / "search" / "synonyms.txt", synonyms)
    app = build_app(tmp_path, KB_SYNONYMS_FILE=str(synonyms))
    write_article(tmp_path / "articles", "pest-control", title="Pest control",
                  body="Mice, rats and cockroaches: book a pest control visit.")
    write_article(tmp_path / "articles", "crisis-self-harm", title="Caller in crisis",
                  category="Safeguarding", body="Stay on the line.")
    with app.app_context():
        from kb.auth.services import seed_demo_accounts
        from kb.extensions import db

        seed_demo_accounts()
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["import-content"])
    assert result.exit_code == 0, result.output
    assert "Search vocabularies: 3 loaded" in result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def _manager(app):
    """A client signed in as the demo manager."""
    client = app.test_client()
    login(client, "manager")
    return client


def _save(client, name, text):
    """Post the editor form as a manager would."""
    token = csrf_token(client.get(f"/admin/vocabularies/{name}"))
    return client.post(f"/admin/vocabularies/{name}", data={"csrf_token": token, "text": text})


def _stored(app, name):
    """The stored text and version of a vocabulary."""
    with app.app_context():
        row = db.session.scalar(db.select(SearchVocabulary).filter_by(name=name))
        return row.text, row.version


def _audits(app):
    """Every audit row as (action, target)."""
    with app.app_context():
        return [(a.action, a.target) for a in db.session.scalars(db.select(AuditLog))]


def test_first_import_seeds_the_shipped_defaults(voc_app, tmp_path):
    text, version = _stored(voc_app, "synonyms")
    assert text == (tmp_path / "synonyms.txt").read_text() and version == 1
    assert _stored(voc_app, "crisis")[0] == CRISIS_DEFAULT
    assert ("vocabulary.seed", "emergency") in _audits(voc_app)
    # A second import leaves managers' vocabularies alone.
    voc_app.test_cli_runner().invoke(args=["import-content"])
    assert _stored(voc_app, "crisis")[1] == 1


def test_a_newer_shipped_default_reaches_a_site_only_until_a_manager_edits(voc_app, tmp_path):
    runner = voc_app.test_cli_runner()
    shipped = tmp_path / "synonyms.txt"
    manager = _manager(voc_app)
    assert manager.get("/api/search?q=px7").get_json()["results"] == []
    # A new release ships a better default: an untouched site takes it on import.
    shipped.write_text(shipped.read_text() + "px7, pest control\n")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    assert _stored(voc_app, "synonyms") == (shipped.read_text(), 2)
    assert ("vocabulary.default", "synonyms") in _audits(voc_app)
    time.sleep(1.1)  # past the workers' version check
    assert manager.get("/api/search?q=px7").get_json()["results"]
    # Once a manager has changed it, it is theirs: the next release leaves it alone.
    edited = _stored(voc_app, "synonyms")[0] + "rodent, pest control\n"
    assert _save(manager, "synonyms", edited).status_code == 302
    shipped.write_text(shipped.read_text() + "qz9, pest control\n")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    assert _stored(voc_app, "synonyms") == (edited, 3)


def test_agents_cannot_see_or_change_vocabularies(voc_app):
    client = voc_app.test_client()
    login(client, "agent")
    for path in ("/admin/vocabularies/", "/admin/vocabularies/crisis", "/admin/synonyms"):
        assert client.get(path).status_code == 403
    manager = _manager(voc_app)
    token = csrf_token(manager.get("/admin/vocabularies/crisis"))
    response = client.post("/admin/vocabularies/crisis", data={"csrf_token": token,
                                                               "text": NEW_SLANG})
    assert response.status_code in (400, 403)
    assert _stored(voc_app, "crisis")[1] == 1


def test_a_post_without_the_csrf_token_changes_nothing(voc_app):
    client = _manager(voc_app)
    response = client.post("/admin/vocabularies/crisis", data={"text": NEW_SLANG})
    assert response.status_code == 400
    assert _stored(voc_app, "crisis") == (CRISIS_DEFAULT, 1)


def test_unknown_vocabulary_is_404(voc_app):
    assert _manager(voc_app).get("/admin/vocabularies/nonsense").status_code == 404


def test_manager_adds_a_synonym_and_search_uses_it_without_touching_the_file(voc_app, tmp_path):
    client = _manager(voc_app)
    assert not client.get("/api/search?q=px7").get_json()["results"]
    page = client.get("/admin/synonyms", follow_redirects=True).get_data(as_text=True)
    assert "asb, anti-social behaviour" in page.lower()
    before_file = (tmp_path / "synonyms.txt").read_text()
    current, _ = _stored(voc_app, "synonyms")
    # PX7: a made-up local job code, the kind of jargon a centre adds for itself.
    response = _save(client, "synonyms", current + "px7, pest control\n")
    assert response.status_code == 302
    found = client.get("/api/search?q=px7").get_json()["results"]
    assert [r["slug"] for r in found] == ["pest-control"]
    assert (tmp_path / "synonyms.txt").read_text() == before_file  # the seed is not edited
    with voc_app.app_context():
        entry = db.session.scalar(db.select(AuditLog).filter_by(action="vocabulary.update"))
        assert entry.target == "synonyms" and "+px7, pest control" in entry.detail["diff"]


def test_manager_extends_the_crisis_vocabulary(voc_app):
    client = _manager(voc_app)
    assert client.get("/api/search?q=zorble+himself").get_json()["crisis"] is False
    assert _save(client, "crisis", NEW_SLANG).status_code == 302
    data = client.get("/api/search?q=zorble+himself").get_json()
    assert data["crisis"] is True and data["results"][0]["slug"] == "crisis-self-harm"
    assert _stored(voc_app, "crisis") == (NEW_SLANG, 2)
    with voc_app.app_context():
        entry = db.session.scalar(db.select(AuditLog).filter_by(action="vocabulary.update"))
        assert entry.target == "crisis" and "+  zorble: kill" in entry.detail["diff"]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("crisis", CRISIS_DEFAULT.replace('"[strong_harm] [self]"', '"[strong_harm] [selff]"'),
     "which is not a concept"),
    ("crisis", CRISIS_DEFAULT.replace("name: crisis", "name: emergency"),
     "line says"),
    ("emergency", "name: emergency\nconcepts: [gas\n", "not valid YAML"),
    ("synonyms", "lonely\n", "only one term"),
    ("synonyms", "a, b\n" * 60_000, "at most"),
])
def test_bad_text_is_refused_and_nothing_changes(voc_app, name, text, message):
    client = _manager(voc_app)
    before = _stored(voc_app, name)
    audits = _audits(voc_app)
    response = _save(client, name, text)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page and "Nothing was saved" in page
    assert _stored(voc_app, name) == before
    assert _audits(voc_app) == audits


def test_the_line_of_a_mistake_is_named(voc_app):
    broken = CRISIS_DEFAULT.replace('"[strong_harm] [self]"', '"[strong_harm] [selff]"')
    line = broken.splitlines().index('  - "[strong_harm] [selff]"') + 1
    page = _save(_manager(voc_app), "crisis", broken).get_data(as_text=True)
    assert f"Line {line}:" in page


def test_another_app_on_the_same_database_sees_an_edit_within_a_second(voc_app, tmp_path):
    other = build_app(tmp_path, KB_SYNONYMS_FILE=str(tmp_path / "synonyms.txt"))
    other_client = _manager(other)
    assert other_client.get("/api/search?q=zorble+himself").get_json()["crisis"] is False
    assert _save(_manager(voc_app), "crisis", NEW_SLANG).status_code == 302
    saved = time.monotonic()
    while other_client.get("/api/search?q=zorble+himself").get_json()["crisis"] is False:
        assert time.monotonic() - saved < 3, "the other app never saw the edit"
        time.sleep(0.1)
    with other.app_context():
        db.engine.dispose()


def test_a_failed_commit_changes_neither_search_nor_the_stored_text(voc_app):
    """Issue 7 item 4: an edit must not go live before it is saved."""
    client = _manager(voc_app)
    current, version = _stored(voc_app, "synonyms")
    audits = _audits(voc_app)
    with voc_app.app_context():
        engine = db.engine

    def read_only(dbapi_connection, _record):
        """Make each new connection read-only, as when the database's disk or mount is."""
        if engine.dialect.name == "sqlite":
            dbapi_connection.execute("PRAGMA query_only = ON")
        else:
            dbapi_connection.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()

    token = csrf_token(client.get("/admin/vocabularies/synonyms"))
    engine.dispose()
    event.listen(engine, "connect", read_only)
    try:
        response = client.post("/admin/vocabularies/synonyms",
                               data={"csrf_token": token, "text": current + "px7, pest control\n"})
        assert response.status_code == 503
        assert "Nothing was saved" in response.get_data(as_text=True)
    finally:
        event.remove(engine, "connect", read_only)
        engine.dispose()
    # Search answers without the unsaved synonym, after any version check.
    time.sleep(1.1)
    assert client.get("/api/search?q=px7").get_json()["results"] == []
    assert client.get("/api/search?q=pest+control").get_json()["results"]
    assert _stored(voc_app, "synonyms") == (current, version)
    assert _audits(voc_app) == audits


def test_export_and_import_carry_the_vocabularies(voc_app, tmp_path):
    runner = voc_app.test_cli_runner()
    assert _save(_manager(voc_app), "crisis", NEW_SLANG).status_code == 302
    out = tmp_path / "export"
    result = runner.invoke(args=["export-content", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "vocabularies" / "crisis.yml").read_text() == NEW_SLANG
    assert (out / "vocabularies" / "synonyms.txt").is_file()
    # A second site loads them.
    other_base = tmp_path / "other"
    other = build_app(other_base)
    result = other.test_cli_runner().invoke(args=[
        "import-content", "--articles", str(out / "articles"),
        "--vocabularies", str(out / "vocabularies")])
    assert result.exit_code == 0, result.output
    assert _stored(other, "crisis")[0] == NEW_SLANG
    # A broken file is reported, the command fails, and that vocabulary stays as it was.
    Path(out / "vocabularies" / "emergency.yml").write_text("name: emergency\n")
    result = other.test_cli_runner().invoke(args=[
        "import-content", "--articles", str(out / "articles"),
        "--vocabularies", str(out / "vocabularies")])
    assert result.exit_code == 1
    assert "emergency.yml" in result.output and "no 'concepts:' section" in result.output
    assert _stored(other, "emergency")[1] == 1
    with other.app_context():
        db.engine.dispose()


def test_search_still_answers_when_the_version_check_fails(voc_app):
    client = _manager(voc_app)
    assert client.get("/api/search?q=kill+himself").get_json()["crisis"] is True
    with voc_app.app_context():
        # The table goes missing (a bad restore, a half-applied migration).
        db.session.execute(db.text("ALTER TABLE search_vocabularies RENAME TO gone"))
        db.session.commit()
    time.sleep(1.1)
    data = client.get("/api/search?q=kill+himself").get_json()
    assert data["crisis"] is True and data["results"][0]["slug"] == "crisis-self-harm"
    assert client.get("/api/search?q=pest+control").get_json()["results"]
