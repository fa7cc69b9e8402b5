"""The JSON API contracts from DESIGN.md."""

from __future__ import annotations

import pytest


def test_search_contract(agent_client):
    data = agent_client.get("/api/search?q=nato+alphabet&limit=5").get_json()
    # DESIGN.md's keys; "emergency" says the emergency repair guidance was put first.
    assert set(data) == {"query", "total", "took_ms", "suggestion", "crisis", "emergency",
                         "results"}
    assert data["crisis"] is False and data["emergency"] is False
    assert data["query"] == "nato alphabet"
    assert 1 <= len(data["results"]) <= 5
    hit = data["results"][0]
    # The DESIGN.md keys, plus "kind" (article or script) so a client can label results.
    assert set(hit) == {"slug", "title", "url", "summary", "snippet", "category", "score",
                        "kind"}
    assert hit["slug"] == "phonetic-alphabet"
    assert hit["url"] == "/articles/phonetic-alphabet"
    assert hit["summary"]


def test_search_category_filter(agent_client):
    data = agent_client.get("/api/search?q=repair&category=Complaints").get_json()
    assert data["results"] and {r["category"] for r in data["results"]} == {"Complaints"}


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1000"])
def test_search_bad_limit_is_400_json(agent_client, limit):
    response = agent_client.get(f"/api/search?q=hold&limit={limit}")
    assert response.status_code == 400
    assert "limit" in response.get_json()["message"]


def test_article_contract(agent_client):
    data = agent_client.get("/api/articles/hold-etiquette").get_json()
    assert set(data) == {"slug", "title", "version", "sha256", "markdown", "html", "summary",
                         "category", "tags", "updated_at", "content_date", "requires_signoff"}
    assert data["version"] == 1 and len(data["sha256"]) == 64
    assert data["requires_signoff"] is True
    assert "<h2" in data["html"]


def test_api_errors_are_json(shipped_app, agent_client):
    missing = agent_client.get("/api/articles/nope")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"
    anonymous = shipped_app.test_client().get("/api/articles/hold-etiquette")
    assert anonymous.status_code == 401 and "message" in anonymous.get_json()


def test_healthz(shipped_app):
    response = shipped_app.test_client().get("/healthz")
    data = response.get_json()
    assert response.status_code == 200
    assert data["status"] == "ok" and data["db"] == "ok"
    assert data["index"]["documents"] >= 27
