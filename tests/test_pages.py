"""Home, category, article and search pages, as an agent sees them."""

from __future__ import annotations


def test_home_has_search_categories_and_recent(agent_client):
    page = agent_client.get("/").get_data(as_text=True)
    assert 'id="q"' in page and "autofocus" in page
    assert "Repairs" in page and "Complaints" in page
    assert "Recently updated" in page
    assert 'rel="search"' in page  # OpenSearch


def test_article_page(agent_client):
    response = agent_client.get("/articles/repair-priorities")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Quick answer" in page
    assert "2 hours" in page
    assert "On this page" in page
    assert "Owner" in page and "Next review" in page and "Last updated" in page
    assert "print.css" in page


def test_unknown_article_is_a_friendly_404(agent_client):
    response = agent_client.get("/articles/no-such-thing")
    assert response.status_code == 404
    assert "Try searching" in response.get_data(as_text=True)


def test_category_page_lists_its_articles(agent_client):
    page = agent_client.get("/categories/repairs").get_data(as_text=True)
    assert "Repair priorities" in page or "repair-priorities" in page
    assert agent_client.get("/categories/nope").status_code == 404


def test_search_page_works_without_javascript(agent_client):
    page = agent_client.get("/search?q=samaritans+number").get_data(as_text=True)
    assert '<ol class="results"' in page
    assert "/articles/crisis-self-harm" in page
    assert "<mark>" in page


def test_search_page_empty_state(agent_client):
    page = agent_client.get("/search?q=zzzzqqqxxx").get_data(as_text=True)
    assert "Nothing matched" in page


def test_search_page_category_filter(agent_client):
    page = agent_client.get("/search?q=hours&category=Repairs").get_data(as_text=True)
    assert "/articles/repair-priorities" in page
    assert "/articles/opening-hours" not in page


def test_searches_are_logged(shipped_app, agent_client):
    from kb.extensions import db
    from kb.models import SearchLog, User

    agent_client.get("/search?q=logged+query+check")
    with shipped_app.app_context():
        row = db.session.scalar(
            db.select(SearchLog).filter_by(query="logged query check"))
        assert row is not None
        assert db.session.get(User, row.user_id).username == "agent"
        assert row.result_count >= 0 and row.created_at is not None


def test_opensearch_description(agent_client):
    response = agent_client.get("/opensearch.xml")
    assert response.status_code == 200
    assert "opensearchdescription" in response.headers["Content-Type"]
    assert "/search?q={searchTerms}" in response.get_data(as_text=True)
