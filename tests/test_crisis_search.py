"""Crisis intent and emergencies through the app: the API, the search page and the log."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from kb.extensions import db
from kb.models import SearchLog
from tests.test_intent import CRISIS, CRISIS_HOLDOUT, EMERGENCY, EMERGENCY_HOLDOUT

# The search engine and index, not SQL: run once, on SQLite.
pytestmark = pytest.mark.database_independent

BANNER = "Caller at risk? Open the crisis protocol"


def api(client, query: str, **params) -> dict:
    extra = "".join(f"&{k}={quote(str(v))}" for k, v in params.items())
    response = client.get(f"/api/search?q={quote(query)}{extra}")
    assert response.status_code == 200, query
    return response.get_json()


def test_every_crisis_phrasing_puts_the_protocol_first(agent_client):
    wrong = []
    for kind, text in CRISIS + CRISIS_HOLDOUT:
        data = api(agent_client, text)
        first = data["results"][0]["slug"] if data["results"] else None
        if kind == "crisis" and (data["crisis"] is not True or first != "crisis-self-harm"):
            wrong.append(("missed", text, first))
        if kind == "ordinary" and data["crisis"] is not False:
            wrong.append(("false alarm", text, first))
    assert not wrong, wrong


def test_every_hazard_puts_the_emergency_guidance_first(agent_client):
    wrong = []
    for kind, text in EMERGENCY + EMERGENCY_HOLDOUT:
        data = api(agent_client, text)
        first = data["results"][0]["slug"] if data["results"] else None
        if kind == "emergency" and (data["emergency"] is not True
                                    or first != "repair-priorities"):
            wrong.append(("missed", text, first))
        if kind == "ordinary" and (data["emergency"] or data["crisis"]):
            wrong.append(("false alarm", text, first))
    assert not wrong, wrong


def test_ordinary_results_follow_the_protocol_once(agent_client):
    plain = api(agent_client, "self-harm")
    assert plain["crisis"] is True
    slugs = [hit["slug"] for hit in plain["results"]]
    assert slugs[0] == "crisis-self-harm"
    assert slugs.count("crisis-self-harm") == 1  # it matched too: moved up, not repeated


def test_the_protocol_leads_even_inside_a_category_filter(agent_client):
    data = api(agent_client, "took a load of tablets", category="Repairs")
    assert data["crisis"] is True
    assert data["results"][0]["slug"] == "crisis-self-harm"
    assert all(hit["category"] == "Repairs" for hit in data["results"][1:])


def test_the_typeahead_gets_the_same_answer(agent_client):
    data = api(agent_client, "doesnt want to live", source="typeahead", limit=10)
    assert data["crisis"] is True and data["results"][0]["slug"] == "crisis-self-harm"


def test_the_search_page_shows_the_banner_without_javascript(agent_client):
    page = agent_client.get("/search?q=" + quote("said goodbye to his kids and has pills"))
    html = page.get_data(as_text=True)
    assert BANNER in html and 'href="/crisis/"' in html and "Alt+Shift+C" in html
    # The banner comes before the results, and the protocol is the first result.
    assert html.index(BANNER) < html.index('id="search-results"')
    first = html.index('class="result__link"')
    assert 'href="/articles/crisis-self-harm?from=' in html[first:first + 120]


def test_no_banner_for_a_repairs_call(agent_client):
    html = agent_client.get("/search?q=" + quote("radiator stone dead")).get_data(as_text=True)
    assert BANNER not in html


def test_the_emergency_guidance_leads_the_page_without_a_banner(agent_client):
    html = agent_client.get("/search?q=" + quote("gas smell")).get_data(as_text=True)
    assert BANNER not in html
    first = html.index('class="result__link"')
    assert 'href="/articles/repair-priorities?from=' in html[first:first + 120]


def test_crisis_and_emergency_searches_are_logged(agent_client, shipped_app):
    api(agent_client, "thinking of ending it all zz1")
    api(agent_client, "water pouring through the ceiling zz2")
    api(agent_client, "qqqzzz xxyyww")
    with shipped_app.app_context():
        rows = {row.query: row for row in db.session.scalars(
            db.select(SearchLog).order_by(SearchLog.id.desc()).limit(3))}
    assert rows["thinking of ending it all zz1"].crisis is True
    assert rows["water pouring through the ceiling zz2"].emergency is True
    zero = rows["qqqzzz xxyyww"]
    assert zero.result_count == 0 and not zero.crisis and not zero.emergency


def test_the_typeahead_fragment_is_the_pages_renderer_with_the_banner(agent_client):
    response = agent_client.get("/search/suggest?q=" + quote("doesnt want to live"))
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<html" not in html  # a fragment, not a page
    assert BANNER in html and html.index(BANNER) < html.index('id="search-results"')
    first = html.index('class="result__link"')
    assert 'href="/articles/crisis-self-harm?from=' in html[first:first + 120]
    calm = agent_client.get("/search/suggest?q=" + quote("radiator stone dead"))
    assert BANNER not in calm.get_data(as_text=True)
    assert 'class="result__link"' in calm.get_data(as_text=True)
