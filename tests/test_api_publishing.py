"""The publishing API contract: POST /api/articles and PUT /api/articles/<slug>."""

from __future__ import annotations

import pytest

from kb.extensions import db
from kb.models import Article, Draft
from tests.conftest import csrf_token, login

NEW = {"slug": "bins", "title": "Bin collections", "category": "Waste", "tags": ["bins"],
       "summary": "Bins go out on Tuesday.", "markdown": "Put the bins out by 7am.",
       "change_summary": "New article", "material": True}
GET_KEYS = {"slug", "title", "version", "sha256", "markdown", "html", "summary", "category",
            "tags", "updated_at", "content_date", "requires_signoff"}


@pytest.fixture
def tokens(app, runner, make_user):
    """Bearer tokens for the demo manager, a second manager and the demo agent."""
    make_user("second", role="manager")
    made = {}
    for name in ("manager", "second", "agent"):
        result = runner.invoke(args=["create-token", name])
        assert result.exit_code == 0, result.output
        made[name] = {"Authorization": f"Bearer {result.output.strip()}"}
    return made


def test_post_creates_an_article_with_the_get_shape(client, tokens):
    response = client.post("/api/articles", json=NEW, headers=tokens["manager"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert GET_KEYS <= set(body) and body["version"] == 1 and body["indexed"] is True
    assert body["tags"] == ["bins"] and body["markdown"] == "Put the bins out by 7am.\n"
    fetched = client.get("/api/articles/bins", headers=tokens["agent"]).get_json()
    assert {k: fetched[k] for k in GET_KEYS} == {k: body[k] for k in GET_KEYS}
    found = client.get("/api/search?q=bins", headers=tokens["agent"]).get_json()
    assert found["results"][0]["slug"] == "bins"


def test_put_with_the_current_base_version_publishes(client, tokens):
    client.post("/api/articles", json=NEW, headers=tokens["manager"])
    response = client.put("/api/articles/bins", headers=tokens["manager"], json={
        "base_version": 1, "markdown": "Put the bins out by 6am.", "change_summary": "Earlier"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == 2 and body["title"] == "Bin collections"  # untouched fields kept


def test_put_with_a_stale_base_version_is_409_with_the_current_version(client, tokens):
    client.post("/api/articles", json=NEW, headers=tokens["manager"])
    client.put("/api/articles/bins", headers=tokens["second"], json={
        "base_version": 1, "markdown": "Second's text.", "change_summary": "Theirs"})
    response = client.put("/api/articles/bins", headers=tokens["manager"], json={
        "base_version": 1, "markdown": "My text.", "change_summary": "Mine"})
    assert response.status_code == 409
    current = response.get_json()["current"]
    assert current["version"] == 2 and current["markdown"] == "Second's text.\n"
    assert len(current["sha256"]) == 64


def test_agents_get_403_and_nothing_is_saved(client, tokens, app):
    assert client.post("/api/articles", json=NEW, headers=tokens["agent"]).status_code == 403
    client.post("/api/articles", json=NEW, headers=tokens["manager"])
    assert client.put("/api/articles/bins", json={"base_version": 1, "markdown": "x",
                                                  "change_summary": "x"},
                      headers=tokens["agent"]).status_code == 403
    with app.app_context():
        assert db.session.scalar(db.select(Article)).current_version.number == 1


@pytest.mark.parametrize("field, value", [
    ("slug", "Not A Slug"), ("title", ""), ("tags", 7), ("markdown", ""),
    ("change_summary", ""), ("material", "perhaps"), ("title", "x" * 300),
])
def test_invalid_fields_are_400_naming_the_field(client, tokens, app, field, value):
    response = client.post("/api/articles", json={**NEW, field: value},
                           headers=tokens["manager"])
    assert response.status_code == 400
    assert response.get_json()["field"] == field and response.get_json()["error"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Article.id))) == 0


def test_a_body_that_is_not_a_json_object_is_400(client, tokens):
    response = client.post("/api/articles", data="[1, 2]", headers=tokens["manager"],
                           content_type="application/json")
    assert response.status_code == 400 and response.get_json()["field"] == "body"
    response = client.put("/api/articles/bins", json={"markdown": "x"},
                          headers=tokens["manager"])
    assert response.status_code == 404


def test_a_duplicate_slug_is_400_naming_slug(client, tokens):
    client.post("/api/articles", json=NEW, headers=tokens["manager"])
    response = client.post("/api/articles", json=NEW, headers=tokens["manager"])
    assert response.status_code == 400 and response.get_json()["field"] == "slug"


def test_put_without_base_version_is_400(client, tokens):
    client.post("/api/articles", json=NEW, headers=tokens["manager"])
    response = client.put("/api/articles/bins", json={"markdown": "x", "change_summary": "x"},
                          headers=tokens["manager"])
    assert response.status_code == 400 and response.get_json()["field"] == "base_version"


def test_approval_required_answers_202_with_the_pending_draft(client, tokens, app):
    response = client.post("/api/articles", json={**NEW, "requires_approval": True},
                           headers=tokens["manager"])
    assert response.status_code == 202
    body = response.get_json()
    assert body["state"] == "pending" and body["slug"] == "bins"
    with app.app_context():
        assert db.session.get(Draft, body["draft_id"]).state == "pending"
        assert db.session.scalar(db.select(db.func.count(Article.id))) == 0


def test_a_session_call_needs_the_csrf_token_a_token_call_does_not(client, tokens):
    login(client, "manager")
    assert client.post("/api/articles", json=NEW).status_code == 400  # forged: no token
    token = csrf_token(client.get("/publishing/articles/new"))
    response = client.post("/api/articles", json=NEW, headers={"X-CSRFToken": token})
    assert response.status_code == 201
