"""Hostile and clumsy input: huge ids and page numbers, impossible incident times, a forged
Host header, look-alike article HTML, and incident pages kept out of caches."""

from __future__ import annotations

from datetime import datetime

import pytest

from kb.content.render import render_markdown
from kb.extensions import db
from kb.models import CrisisIncident
from tests.conftest import login
from tests.test_crisis import incident_form, record_one, signed_in

HUGE = ["2147483648", "9223372036854775808", "99999999999999999999"]


@pytest.mark.parametrize("number", HUGE)
def test_ids_beyond_the_database_are_404(app, number):
    manager = signed_in(app, "manager")
    for url in (f"/crisis/incidents/{number}", f"/crisis/helplines/{number}/edit"):
        assert manager.get(url).status_code == 404, url
    token = manager.get("/crisis/helplines")  # any page with a form gives a CSRF token
    from tests.conftest import csrf_token

    response = manager.post(f"/crisis/helplines/{number}/verify",
                            data={"csrf_token": csrf_token(token)})
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["10000000000000000000", "0", "-1", "1000001", "x"])
def test_page_numbers_beyond_range_are_404(app, page):
    manager = signed_in(app, "manager")
    assert manager.get(f"/crisis/incidents?page={page}").status_code == 404
    assert manager.get("/crisis/incidents?page=2").status_code == 200  # an empty page


def test_search_limit_with_thousands_of_digits_is_a_400(agent_client):
    assert agent_client.get("/api/search?q=fob&limit=" + "9" * 5000).status_code == 400


@pytest.mark.parametrize(("when", "message"), [
    ("0001-01-01T10:00", "The year 1 is before 2000"),
    ("1900-06-01T10:00", "The year 1900 is before 2000"),
    ("2026-03-29T01:30", "did not happen on UK clocks"),
])
def test_impossible_incident_times_are_refused(app, when, message):
    agent = signed_in(app, "agent")
    response = agent.post("/crisis/incidents/new", data=incident_form(agent, occurred_at=when))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(CrisisIncident.id))) == 0


def test_the_hour_that_happens_twice_is_asked_about(app):
    agent = signed_in(app, "agent")
    when = "2026-10-25T01:30"
    response = agent.post("/crisis/incidents/new", data=incident_form(agent, occurred_at=when))
    page = response.get_data(as_text=True)
    assert "happened twice" in page and "The first time (British Summer Time" in page
    for choice, utc in (("first", datetime(2026, 10, 25, 0, 30)),
                        ("second", datetime(2026, 10, 25, 1, 30))):
        response = agent.post("/crisis/incidents/new", data=incident_form(
            agent, occurred_at=when, clock_change=choice))
        assert response.status_code == 302
        incident_id = int(response.headers["Location"].rsplit("/", 1)[-1])
        with app.app_context():
            assert db.session.get(CrisisIncident, incident_id).occurred_at == utc


def test_incident_pages_are_never_cached(app):
    incident_id = record_one(app)
    manager = signed_in(app, "manager")
    for url in ("/crisis/incidents/new", "/crisis/incidents", f"/crisis/incidents/{incident_id}"):
        assert manager.get(url).headers["Cache-Control"] == "no-store", url


def test_opensearch_uses_the_configured_base_url_not_the_host_header(app):
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"  # every request, sign-in included
    login(client, "agent")
    xml = client.get("/opensearch.xml").get_data(as_text=True)
    assert 'template="http://127.0.0.1:5000/search?q={searchTerms}"' in xml
    assert "evil.example" not in xml
    app.config["KB_BASE_URL"] = "https://kb.example.org/"
    xml = client.get("/opensearch.xml").get_data(as_text=True)
    assert 'template="https://kb.example.org/search?q={searchTerms}"' in xml


def test_contents_box_escapes_headings_once(app, make_article, runner):
    make_article("fish", title="Fish", body="## Fish & chips: 5 < 6 > 4\n\nText.\n")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    client = app.test_client()
    login(client, "agent")
    page = client.get("/articles/fish").get_data(as_text=True)
    assert '<a href="#fish-chips-5-6-4">Fish &amp; chips: 5 &lt; 6 &gt; 4</a>' in page
    assert "&amp;amp;" not in page and "&amp;lt;" not in page and "&amp;gt;" not in page


def test_article_html_cannot_pose_as_the_app_or_link_off_site():
    html = render_markdown(
        '<div id="main" class="flash flash--error crisis-link">Fake alert</div>\n\n'
        '## Main\n\n## Next steps\n\n'
        '[a](//evil.example) <a href="/\\evil.example">b</a> <a href="\\\\evil.example">c</a> '
        '<a href="/\t/evil.example">d</a> [ok](/articles/x) [web](https://gov.uk)\n\n'
        '!!! warning "Careful"\n    Do not.\n\n```python\nx = 1\n```\n'
    ).html
    assert 'id="main"' not in html and "flash" not in html and "crisis-link" not in html
    assert '<h2 id="main-section">Main</h2>' in html  # never the page's own landmark
    assert '<h2 id="next-steps">' in html
    assert "evil.example" not in html
    assert 'href="/articles/x"' in html and 'href="https://gov.uk"' in html
    for bad in ('href="//', 'href="/\\', 'href="\\\\', 'href="/\t'):
        assert bad not in html, bad
    # What our own Markdown extensions add is kept.
    assert '<div class="admonition warning">' in html
    assert '<p class="admonition-title">Careful</p>' in html
    assert '<code class="language-python">' in html
