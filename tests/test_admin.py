"""Managers edit the search synonyms; searches use them at once."""

from __future__ import annotations

import shutil

import pytest

from kb.extensions import db
from kb.models import AuditLog
from tests.conftest import ROOT, build_app, csrf_token, login


@pytest.fixture
def syn_app(tmp_path):
    synonyms = tmp_path / "synonyms.txt"
    shutil.copy(ROOT / "kb" / "search" / "synonyms.txt", synonyms)
    app = build_app(tmp_path, KB_SYNONYMS_FILE=str(synonyms))
    with app.app_context():
        from kb.auth.services import seed_demo_accounts

        seed_demo_accounts()
    return app


def _save(client, text):
    token = csrf_token(client.get("/admin/synonyms"))
    return client.post("/admin/synonyms", data={"csrf_token": token, "text": text})


def test_agents_cannot_edit_synonyms(syn_app):
    client = syn_app.test_client()
    login(client, "agent")
    assert client.get("/admin/synonyms").status_code == 403


def test_manager_adds_a_synonym_and_search_uses_it(syn_app, tmp_path):
    from tests.conftest import write_article

    write_article(tmp_path / "articles", "pest-control", title="Pest control",
                  body="Mice, rats and cockroaches: book a pest control visit.")
    syn_app.test_cli_runner().invoke(args=["import-content"])
    client = syn_app.test_client()
    login(client, "manager")
    found = client.get("/api/search?q=px7").get_json()["results"]
    assert not found
    text = client.get("/admin/synonyms").get_data(as_text=True)
    assert "asb, anti-social behaviour" in text.lower()
    current = (tmp_path / "synonyms.txt").read_text()
    # PX7: a made-up local job code, the kind of jargon a centre adds for itself.
    response = _save(client, current + "px7, pest control\n")
    assert response.status_code == 302
    found = client.get("/api/search?q=px7").get_json()["results"]
    assert [r["slug"] for r in found] == ["pest-control"]
    with syn_app.app_context():
        entry = db.session.scalar(db.select(AuditLog).filter_by(action="synonyms.update"))
        assert "+px7, pest control" in entry.detail["diff"]


def test_bad_synonyms_are_refused_and_nothing_changes(syn_app, tmp_path):
    client = syn_app.test_client()
    login(client, "manager")
    before = (tmp_path / "synonyms.txt").read_text()
    response = _save(client, "lonely\n")
    assert response.status_code == 200
    assert "only one term" in response.get_data(as_text=True)
    response = _save(client, "a, b\n" * 60_000)
    assert "at most" in response.get_data(as_text=True)
    assert (tmp_path / "synonyms.txt").read_text() == before


def test_forged_post_changes_nothing(syn_app, tmp_path):
    client = syn_app.test_client()
    login(client, "manager")
    before = (tmp_path / "synonyms.txt").read_text()
    response = client.post("/admin/synonyms", data={"text": "x, y"})
    assert response.status_code == 400
    assert (tmp_path / "synonyms.txt").read_text() == before


def test_manage_page_counts_what_needs_attention(client):
    login(client, "manager")
    page = client.get("/admin/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    # Shipped helplines start unverified, so every active one is due.
    assert "to verify" in text and "Response standards" in text
    assert 'href="/admin/"' in text  # the header shows managers the link


def test_agents_do_not_see_or_reach_manage(client):
    login(client, "agent")
    assert client.get("/admin/").status_code == 403
    assert 'href="/admin/"' not in client.get("/").get_data(as_text=True)
