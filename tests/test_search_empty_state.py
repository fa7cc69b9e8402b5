"""When search finds nothing: the nearest categories and call scripts, the crisis link, and
"Tell the knowledge team", which records a gap managers see (and resolve) in search
analytics and its CSV. Also: one quick answer per shipped article (the front matter's)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kb.analytics.gaps import reported_gaps
from kb.content.loader import QUICK_ANSWER_RE, parse_article
from kb.extensions import db
from kb.models import KnowledgeGap, SearchLog
from kb.search import gaps
from kb.search.nearby import Candidate, closest
from tests.conftest import csrf_token, login, user_named

ROOT = Path(__file__).resolve().parent.parent
NONSENSE = "zzqxv blorfle"
GAP_LINK = re.compile(r'href="(/search/gaps/(\d+))"')


def _gaps(app) -> list[KnowledgeGap]:
    with app.app_context():
        return db.session.scalars(db.select(KnowledgeGap).order_by(KnowledgeGap.id)).all()


def _search(client, q: str):
    """The search page for ``q`` and the data its "Tell the knowledge team" form sends."""
    page = client.get("/search", query_string={"q": q})
    html = page.get_data(as_text=True)
    assert html.count('id="q"') <= 1  # the form's hidden copy of the query has its own id
    log = re.search(r'name="log" type="hidden" value="(\d*)"', html)
    return html, {"csrf_token": csrf_token(page), "q": q, "log": log.group(1) if log else ""}


@pytest.fixture
def agent(two_articles):
    client = two_articles.test_client()
    assert login(client, "agent").status_code == 302
    return client


@pytest.fixture
def manager(two_articles):
    client = two_articles.test_client()
    assert login(client, "manager").status_code == 302
    return client


# The help on the page ------------------------------------------------------------------

def test_nonsense_offers_categories_scripts_the_crisis_link_and_the_button(agent_client):
    html, _form = _search(agent_client, NONSENSE)
    assert "Nothing matched" in html
    help_part = html[html.index("data-search-help"):]
    # Nothing is close to made-up words: the biggest categories and some call scripts,
    # as a place to start, said as such.
    assert "Nothing came close: start from one of these" in help_part
    assert re.search(r'<a href="/categories/[a-z-]+">Working practices</a>', help_part)
    assert re.search(r'<a href="/scripts/[a-z-]+/">', help_part)
    assert 'class="search-help__crisis"><a href="/crisis/"' in help_part
    form = help_part[help_part.index('<form class="gap-form"'):]
    assert 'action="/search/gaps"' in form and 'name="csrf_token"' in form
    assert ">Tell the knowledge team</button>" in form
    # The typeahead's fragment stays as it was: no form in a live region.
    fragment = agent_client.get("/search/suggest", query_string={"q": NONSENSE})
    assert "gap-form" not in fragment.get_data(as_text=True)


def test_words_near_a_category_or_script_are_offered_first(agent_client):
    html, _form = _search(agent_client, "guarding")
    help_part = html[html.index("data-search-help"):]
    assert "Closest to what you typed" in help_part
    assert re.search(r'<a href="/categories/safeguarding">Safeguarding</a>', help_part)
    assert "Working practices" not in help_part  # not close: not offered
    assert '<a href="/scripts/crisis-self-harm/">' in help_part


def test_closeness_is_partial_and_fuzzy_not_a_list():
    candidates = [Candidate("category", name, "", frozenset(name.lower().split()))
                  for name in ("Safeguarding", "Complaints", "Repairs", "Data and privacy")]
    labels = lambda q: [c.label for c in closest(q, candidates, 5)]  # noqa: E731
    assert labels("complaynt") == ["Complaints"]  # a typo
    assert labels("repai") == ["Repairs"]  # the start of a word
    assert labels("guarding") == ["Safeguarding"]  # part of a word
    assert labels("privacy repairs") == ["Data and privacy", "Repairs"]
    assert labels(NONSENSE) == [] and labels("the and of") == []


def test_results_that_miss_can_be_reported_too_but_not_crisis_ones(agent_client):
    html, _form = _search(agent_client, "swipe card")
    assert "None of these answer it? Tell the knowledge team" in html
    assert "search-help__crisis" not in html  # results: no empty-state help
    html, _form = _search(agent_client, "I want to kill myself")
    assert "Tell the knowledge team" not in html


# Reporting a gap -----------------------------------------------------------------------

def test_reporting_records_one_gap_and_confirms(agent, two_articles):
    html, form = _search(agent, "  Council   TAX band  ")
    assert form["log"]
    answer = agent.post("/search/gaps", data={**form, "note": "Caller asked which band"})
    assert answer.status_code == 303
    confirmation = agent.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Thanks: the knowledge team will see this." in confirmation
    assert "Caller asked which band" in confirmation
    [gap] = _gaps(two_articles)
    with two_articles.app_context():
        assert gap.query == "Council TAX band"  # tidied as the search log tidies it
        assert gap.user_id == user_named("agent").id and gap.resolved_at is None
        assert gap.search_log_id == int(form["log"])
        assert db.session.get(SearchLog, gap.search_log_id).query == "Council TAX band"
    # Back on the search page, the button says it has been done.
    html, _form = _search(agent, "council tax band")
    assert "You told the knowledge team about this search today" in html
    assert ">Tell the knowledge team</button>" not in html


def test_a_forged_or_expired_post_changes_nothing(agent, two_articles):
    _html, form = _search(agent, NONSENSE)
    assert agent.post("/search/gaps", data={"q": NONSENSE}).status_code == 400
    forged = agent.post("/search/gaps", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert _gaps(two_articles) == []


def test_the_same_person_reporting_the_same_query_the_same_day_counts_once(agent, manager,
                                                                          two_articles):
    _html, form = _search(agent, NONSENSE)
    first = agent.post("/search/gaps", data={**form, "note": "first"})
    again = agent.post("/search/gaps", data={**form, "q": NONSENSE.upper(), "note": "second"})
    assert first.headers["Location"].split("?")[0] == again.headers["Location"].split("?")[0]
    assert "already told them" in agent.get(again.headers["Location"]).get_data(as_text=True)
    assert [g.note for g in _gaps(two_articles)] == ["first"]
    # Somebody else reporting it is a second report; so is the same person the next day.
    _html, form = _search(manager, NONSENSE)
    assert manager.post("/search/gaps", data=form).status_code == 303
    with two_articles.app_context():
        tomorrow = gaps.utcnow() + timedelta(days=1)
        _gap, created = gaps.report_gap(user_named("agent"), NONSENSE, now=tomorrow)
        assert created
        db.session.commit()
    assert len(_gaps(two_articles)) == 3


def test_a_huge_note_is_refused_with_a_clear_message_and_kept_to_shorten(agent, two_articles):
    _html, form = _search(agent, NONSENSE)
    note = "word " * 2000
    answer = agent.post("/search/gaps", data={**form, "note": note})
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "The note can be up to 1,000 characters; this one has 9,999." in page
    assert "Nothing was sent" in page and note.strip()[:100] in page
    assert _gaps(two_articles) == []
    # An empty query has nothing to report.
    answer = agent.post("/search/gaps", data={**form, "q": "   "})
    assert answer.status_code == 400 and "There is no search to report" in answer.get_data(
        as_text=True)
    assert _gaps(two_articles) == []


def test_a_report_is_seen_by_its_sender_and_managers_only(agent, manager, make_user,
                                                          two_articles):
    _html, form = _search(agent, NONSENSE)
    where = agent.post("/search/gaps", data=form).headers["Location"]
    assert agent.get(where).status_code == 200
    assert manager.get(where).status_code == 200
    make_user("colleague")
    colleague = two_articles.test_client()
    assert login(colleague, "colleague", "pw-colleague").status_code == 302
    assert colleague.get(where).status_code == 404
    assert agent.get("/search/gaps/999999").status_code == 404


def test_a_log_id_of_someone_elses_search_is_not_kept(agent, manager, two_articles):
    _html, theirs = _search(manager, NONSENSE)
    _html, form = _search(agent, NONSENSE)
    agent.post("/search/gaps", data={**form, "log": theirs["log"]})
    [gap] = _gaps(two_articles)
    assert gap.search_log_id is None
    agent.post("/search/gaps", data={**form, "q": "other words", "log": "9" * 40})
    assert [g.search_log_id for g in _gaps(two_articles)] == [None, None]


# Managers: analytics, CSV, resolving ---------------------------------------------------

def _report(client, q: str, note: str = "") -> None:
    _html, form = _search(client, q)
    assert client.post("/search/gaps", data={**form, "note": note}).status_code == 303


def test_managers_see_reported_gaps_with_people_dates_and_notes(agent, manager, two_articles):
    _report(agent, "Garage waiting list", "Wanted to know how long")
    _report(manager, "garage  waiting list")
    _report(agent, NONSENSE)
    page = manager.get("/analytics/").get_data(as_text=True)
    section = page[page.index('id="report-gaps"'):page.index('id="report-never-opened"')]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">([^<]+)</th>\s*<td class=\"num\">(\d+)</td>"
                      r"\s*<td class=\"num\">(\d+)</td>", section)
    assert rows == [("garage waiting list", "2", "2"), (NONSENSE, "1", "1")]
    assert "Wanted to know how long" in section
    today = datetime.now().strftime("%B %Y")
    assert today in section  # first and last reported, as dates people read
    with two_articles.app_context():
        [row, _other] = reported_gaps(user_named("manager"))
        assert row.extra["first"] <= row.extra["last"]


def test_the_csv_lists_the_gaps_with_formula_like_cells_defused(agent, manager):
    _report(agent, "=HYPERLINK(\"http://x\")", "+44 number wanted")
    answer = manager.get("/analytics/gaps.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.get_data(as_text=True))))
    assert rows[0] == ["query", "people", "reports", "first_reported_utc",
                       "last_reported_utc", "notes"]
    assert rows[1][0] == "'=hyperlink(\"http://x\")" and rows[1][1:3] == ["1", "1"]
    assert rows[1][5] == "'+44 number wanted"
    assert agent.get("/analytics/gaps.csv").status_code == 403


def test_agents_cannot_resolve_and_managers_can(agent, manager, two_articles):
    _report(agent, NONSENSE)
    page = manager.get("/analytics/")
    token = csrf_token(page)
    answer = agent.post("/analytics/gaps/resolve", data={"query": NONSENSE,
                                                         "csrf_token": csrf_token(agent.get("/"))})
    assert answer.status_code == 403
    assert manager.post("/analytics/gaps/resolve", data={"query": NONSENSE}).status_code == 400
    assert [g.resolved_at for g in _gaps(two_articles)] == [None]
    answer = manager.post("/analytics/gaps/resolve", data={"query": NONSENSE.upper(),
                                                           "csrf_token": token},
                          follow_redirects=True)
    assert f"Marked resolved: \u201c{NONSENSE.upper()}\u201d (1 report)." in answer.get_data(
        as_text=True)
    [gap] = _gaps(two_articles)
    with two_articles.app_context():
        assert gap.resolved_at is not None and gap.resolved_by_id == user_named("manager").id
    page = manager.get("/analytics/").get_data(as_text=True)
    assert "No open reports" in page
    # Resolving again is harmless and says so.
    again = manager.post("/analytics/gaps/resolve", data={"query": NONSENSE, "csrf_token": token},
                         follow_redirects=True)
    assert "had already been marked resolved" in again.get_data(as_text=True)


# One quick answer per article ----------------------------------------------------------

SHIPPED = sorted([*ROOT.glob("articles/*.md"), *ROOT.glob("kb/data/packs/*/articles/*.md")])


def test_shipped_articles_have_their_quick_answer_only_in_the_front_matter():
    assert len(SHIPPED) >= 29
    for path in SHIPPED:
        article = parse_article(path)
        assert article.summary, path
        assert not QUICK_ANSWER_RE.search(article.body), f"{path} repeats its quick answer"
        assert article.warnings == []


def test_importing_a_body_with_a_quick_answer_paragraph_warns(make_article, runner):
    make_article("fobs", body="**Quick answer:** order a new fob.\n\n## Steps\n\nOrder it.")
    make_article("bins", body="Bins go out on Tuesday; a quick answer is in the box above.")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0
    assert "fobs.md: the body has a 'Quick answer' paragraph" in result.output
    assert "bins.md" not in result.output.split("warning:", 1)[-1]


def test_the_quick_answer_box_has_a_copy_button_for_scripts_to_show(agent_client):
    html = agent_client.get("/articles/hold-etiquette").get_data(as_text=True)
    box = html[html.index('class="quick-answer"'):html.index("</section>",
                                                           html.index('class="quick-answer"'))]
    assert re.search(r'<button type="button" class="button quick-answer__copy" '
                     r'data-copy-text="Always ask the caller&#39;s permission[^"]*" hidden>', box)
    assert "js/quick-answer.js" in box
