"""Search analytics: each report on known rows (window edges included), the click-through
log from a real search to an opened article, and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest

from kb.analytics import services
from kb.analytics.usage import record_view
from kb.core.spreadsheet import safe_cell
from kb.extensions import db
from kb.models import Article, ArticleView, CallScript, SearchLog, utcnow
from kb.search.documents import Results
from kb.search.services import log_search
from tests.conftest import csrf_token, login, user_named
from tests.test_readonly_db import read_only  # noqa: F401  (the fixture)

NOW = datetime(2026, 11, 30, 15, 0)
# The first moment of each period: midnight UTC, N - 1 days before NOW's day.
STARTS = {7: datetime(2026, 11, 24), 30: datetime(2026, 11, 1), 90: datetime(2026, 9, 2)}
HREF = re.compile(r'class="result__link" href="([^"]+)"')


def _article(slug: str) -> Article:
    return db.session.scalar(db.select(Article).filter_by(slug=slug))


def _log(query: str, at: datetime, results: int = 1, *, crisis: bool = False,
         source: str = "page", user: str | None = "agent") -> SearchLog:
    row = SearchLog(query=query, result_count=results, created_at=at, crisis=crisis,
                    source=source, user_id=user_named(user).id if user else None)
    db.session.add(row)
    db.session.flush()
    return row


def _manager_window(days: int, source: str = ""):
    return user_named("manager"), services.window(days, source, now=NOW)


def test_the_window_is_the_last_n_days_from_midnight_utc():
    for days, start in STARTS.items():
        win = services.window(days, now=NOW)
        assert win.start == start and win.end == NOW
        assert (win.last_day - win.first_day).days == days - 1
    with pytest.raises(ValueError):
        services.window(14, now=NOW)


@pytest.mark.parametrize("days", [7, 30, 90])
def test_top_queries_count_inside_the_window_only(two_articles, days):
    with two_articles.app_context():
        start = STARTS[days]
        _log("gas leak", start)  # the first second of the period: in
        _log("Gas Leak", NOW)  # case does not split a query
        _log("gas leak", start - timedelta(seconds=1))  # a second too early: out
        _log("bins", start + timedelta(hours=1), results=0)
        _log("gas leak", NOW + timedelta(seconds=1))  # after "now": out
        manager, win = _manager_window(days)
        rows = services.top_queries(manager, win)
        assert [(r.label, r.value, r.extra["no_results"]) for r in rows] == [
            ("gas leak", 2, 0), ("bins", 1, 1)]


def test_a_logged_query_has_its_spaces_squeezed_so_it_groups_with_the_others(two_articles):
    with two_articles.app_context(), two_articles.test_request_context():
        results = Results("q", 3, [], None, 1.0)
        assert log_search("  GAS   leak \n", results, category=None, user=None, source="page")
        assert db.session.get(SearchLog, results.log_id).query == "GAS leak"
        db.session.execute(db.update(SearchLog).values(created_at=NOW))
        _log("gas leak", NOW)
        rows = services.top_queries(*_manager_window(7))
        assert [(r.label, r.value) for r in rows] == [("gas leak", 2)]


def test_zero_result_queries_are_the_content_gaps(two_articles):
    with two_articles.app_context():
        _log("council tax band", NOW - timedelta(days=2), results=0)
        _log("Council tax band", NOW - timedelta(hours=1), results=0)
        _log("council tax band", NOW, results=4)  # found something this time: not a gap
        _log("parking permit", NOW - timedelta(days=3), results=0)
        _log("parking permit", STARTS[7] - timedelta(minutes=1), results=0)  # before 7 days
        manager, win = _manager_window(7)
        rows = services.zero_result_queries(manager, win)
        assert [(r.label, r.value) for r in rows] == [("council tax band", 2),
                                                      ("parking permit", 1)]
        assert rows[0].extra["last_searched"] == NOW - timedelta(hours=1)
        rows = services.zero_result_queries(*_manager_window(30))
        assert [(r.label, r.value) for r in rows][1] == ("parking permit", 2)


def test_never_opened_is_searches_with_results_and_no_view_from_them(two_articles):
    with two_articles.app_context():
        article = _article("swipe-cards")
        opened = _log("fob", NOW - timedelta(hours=2), results=3)
        _log("fob", NOW - timedelta(hours=1), results=3)  # not opened
        _log("Bins day", NOW - timedelta(hours=1), results=2)  # not opened
        _log("Bins day", NOW, results=2)  # not opened either
        _log("nothing here", NOW, results=0)  # no results: a content gap, not this report
        _log("bins day", NOW, results=2, source="api")  # the API has no links to open
        seen = _log("lost fob", NOW, results=1)
        db.session.add_all([
            ArticleView(article_id=article.id, search_log_id=opened.id, rank=1, created_at=NOW),
            ArticleView(article_id=article.id, search_log_id=seen.id, rank=1, created_at=NOW),
        ])
        db.session.flush()
        manager, win = _manager_window(7)
        rows = services.never_opened_queries(manager, win)
        assert [(r.label, r.value, r.extra["searches"]) for r in rows] == [
            ("bins day", 2, 2), ("fob", 1, 2)]
        api = services.never_opened_queries(*_manager_window(7, "api"))
        assert api == []


def test_most_viewed_counts_openings_and_those_from_search(two_articles, scripts_dir):
    with two_articles.app_context():
        cards, bins = _article("swipe-cards"), _article("bins")
        search = _log("fob", NOW)
        db.session.add_all(
            [ArticleView(article_id=cards.id, created_at=NOW - timedelta(days=1))
             for _ in range(3)]
            + [ArticleView(article_id=cards.id, search_log_id=search.id, rank=1,
                           created_at=NOW),
               ArticleView(article_id=bins.id, created_at=STARTS[7]),
               ArticleView(article_id=bins.id, created_at=STARTS[7] - timedelta(seconds=1)),
               ArticleView(article_id=bins.id, created_at=STARTS[30] - timedelta(days=1))]
        )
        db.session.flush()
        rows = services.most_viewed(*_manager_window(7))
        assert [(r.label, r.value, r.extra["from_search"]) for r in rows] == [
            ("Swipe cards", 4, 1), ("Bin collections", 1, 0)]
        assert [r.value for r in services.most_viewed(*_manager_window(30))] == [4, 2]
        assert [r.value for r in services.most_viewed(*_manager_window(90))] == [4, 3]


def test_crisis_searches_per_day_fill_every_day_of_the_window(two_articles):
    with two_articles.app_context():
        _log("wants to end it", datetime(2026, 11, 30, 0, 0), crisis=True)
        _log("took tablets", datetime(2026, 11, 30, 14, 59), crisis=True)
        _log("took tablets", datetime(2026, 11, 28, 23, 59, 59), crisis=True)
        _log("gas leak", datetime(2026, 11, 29, 12, 0))  # not a crisis
        _log("kill myself", STARTS[7], crisis=True)  # first day of 7
        _log("kill myself", STARTS[7] - timedelta(seconds=1), crisis=True)  # day 8: out of 7
        rows = services.crisis_per_day(*_manager_window(7))
        assert [r.label for r in rows] == [f"2026-11-{d}" for d in range(24, 31)]
        assert [r.value for r in rows] == [1, 0, 0, 0, 1, 0, 2]
        month = services.crisis_per_day(*_manager_window(30))
        assert len(month) == 30 and sum(r.value for r in month) == 5
        assert len(services.crisis_per_day(*_manager_window(90))) == 90


def test_a_click_from_a_real_search_is_logged_against_that_search(two_articles):
    client = two_articles.test_client()
    login(client, "agent")
    page = client.get("/search?q=fob").get_data(as_text=True)
    href = HREF.search(page).group(1).replace("&amp;", "&")
    assert re.fullmatch(r"/articles/swipe-cards\?from=\d+&rank=1", href)
    opened = client.get(href)
    assert opened.status_code == 200 and "Order a replacement fob." in opened.get_data(
        as_text=True)
    client.get(href)  # a reload is a view, but the search is credited once
    # The typeahead's fragment carries its own search too.
    suggest = client.get("/search/suggest?q=bins").get_data(as_text=True)
    assert re.search(r'href="/articles/bins\?from=\d+&amp;rank=1"', suggest)
    with two_articles.app_context():
        log_id = int(re.search(r"from=(\d+)", href).group(1))
        assert db.session.get(SearchLog, log_id).query == "fob"
        views = db.session.scalars(db.select(ArticleView).order_by(ArticleView.id)).all()
        assert [(v.search_log_id, v.rank) for v in views] == [(log_id, 1), (None, None)]
        assert views[0].article_id == _article("swipe-cards").id
        assert views[0].user_id == user_named("agent").id
        win = services.window(7)
        manager = user_named("manager")
        assert [r.label for r in services.never_opened_queries(manager, win)] == ["bins"]
        assert [(r.label, r.value, r.extra["from_search"])
                for r in services.most_viewed(manager, win)] == [("Swipe cards", 2, 1)]


def test_a_call_script_opened_from_search_is_logged(two_articles, scripts_dir, runner):
    (scripts_dir / "lost-fob.md").write_text(
        "---\ntitle: Lost fob call\nsummary: Replacing a lost fob.\nstart: start\n---\n\n"
        "## Start {#start}\n\n> Have you lost your fob?\n\n"
        "- [Yes](#done)\n\n## Done {#done .end}\n\n> I will order one.\n",
        encoding="utf-8")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0, result.output
    client = two_articles.test_client()
    login(client, "agent")
    page = client.get("/search?q=lost+fob&kind=script").get_data(as_text=True)
    href = HREF.search(page).group(1).replace("&amp;", "&")
    assert href.startswith("/scripts/lost-fob/?from=")
    assert client.get(href).status_code == 200
    with two_articles.app_context():
        view = db.session.scalar(db.select(ArticleView))
        script = db.session.scalar(db.select(CallScript).filter_by(slug="lost-fob"))
        assert view.call_script_id == script.id and view.search_log_id is not None
        assert view.article_id is None
        rows = services.most_viewed(user_named("manager"), services.window(7))
        assert [(r.label, r.extra["kind"]) for r in rows] == [("Lost fob call", "Call script")]
    manager = two_articles.test_client()
    login(manager, "manager")
    assert '<a href="/scripts/lost-fob/">Lost fob call</a>' in manager.get(
        "/analytics/?days=7").get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "from=abc&rank=1", "from=-1&rank=2", "from=99999999999999&rank=1", "from=1&rank=0",
    "from=1&rank=1x", "from=%00&rank=%00", "rank=3",
])
def test_garbage_click_parameters_are_ignored_and_the_page_still_shows(two_articles, query):
    client = two_articles.test_client()
    login(client, "agent")
    response = client.get(f"/articles/swipe-cards?{query}")
    assert response.status_code == 200
    with two_articles.app_context():
        views = db.session.scalars(db.select(ArticleView)).all()
        assert [(v.search_log_id, v.rank) for v in views] == [(None, None)]


def test_someone_elses_or_an_old_search_is_not_credited(two_articles):
    with two_articles.app_context():
        theirs = _log("fob", utcnow(), user="manager").id
        old = _log("fob", datetime(2020, 1, 1)).id
        db.session.commit()
    client = two_articles.test_client()
    login(client, "agent")
    for log_id in (theirs, old, 123456):
        assert client.get(f"/articles/swipe-cards?from={log_id}&rank=1").status_code == 200
    with two_articles.app_context():
        assert db.session.scalars(db.select(ArticleView.search_log_id)).all() == [None] * 3


def test_record_view_says_false_for_what_it_cannot_log(two_articles):
    with two_articles.app_context():
        assert record_view(object(), user=None, args={}) is False


def test_csv_cells_that_look_like_formulas_are_neutralised():
    for text in ("=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("gas leak") == "gas leak"
    assert safe_cell(-3) == -3  # numbers are numbers


def test_the_csv_export_neutralises_injected_queries(two_articles):
    with two_articles.app_context():
        now = utcnow()
        _log("=cmd|' /C calc'!A0", now, results=0)
        _log("@sum(1+1)", now)
        _log("-rent arrears", now)
        db.session.commit()
    client = two_articles.test_client()
    login(client, "manager")
    for report in ("top", "no-results"):
        response = client.get(f"/analytics/{report}.csv?days=7")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
        queries = {row[0] for row in rows[1:]}
        assert all(q.startswith("'") for q in queries), queries
    top = list(csv.reader(io.StringIO(client.get("/analytics/top.csv").get_data(as_text=True))))
    assert top[0] == ["query", "searches", "no_results"]
    assert ["'=cmd|' /c calc'!a0", "1", "1"] in top
    for report in ("never-opened", "most-viewed", "crisis"):
        assert client.get(f"/analytics/{report}.csv?days=90").status_code == 200
    assert client.get("/analytics/bogus.csv").status_code == 404


def test_the_page_draws_bars_with_their_numbers_and_links_the_periods(two_articles):
    with two_articles.app_context():
        now = utcnow()
        for _ in range(3):
            _log("gas leak", now)
        _log("took an overdose", now, crisis=True)
        db.session.commit()
    client = two_articles.test_client()
    login(client, "manager")
    page = client.get("/analytics/?days=7").get_data(as_text=True)
    assert 'href="/analytics/?days=30"' in page and 'href="/analytics/?days=90"' in page
    assert 'aria-current="page">Last 7 days' in page
    assert '<th scope="row">gas leak</th>' in page and '<td class="num">3</td>' in page
    assert 'class="bar__fill"' in page and 'aria-hidden="true"' in page
    assert "1 search in this period put the crisis protocol first" in page
    assert 'role="img"' in page and "<table" in page
    assert 'href="/analytics/top.csv?days=7"' in page
    odd = client.get("/analytics/?days=14&source=nope")
    assert odd.status_code == 200
    assert "Showing all searches" in odd.get_data(as_text=True)
    assert "Last 30 days" in client.get("/analytics/?days=x").get_data(as_text=True)
    typeahead = client.get("/analytics/?days=7&source=typeahead").get_data(as_text=True)
    assert '<th scope="row">gas leak</th>' not in typeahead


def test_agents_get_403_on_analytics(two_articles):
    client = two_articles.test_client()
    login(client, "agent")
    assert client.get("/analytics/").status_code == 403
    assert client.get("/analytics/top.csv").status_code == 403
    with two_articles.app_context(), pytest.raises(PermissionError):
        services.top_queries(user_named("agent"), services.window(7))


def test_a_read_only_database_still_serves_the_article_from_a_search(read_only):  # noqa: F811
    app, writable = read_only
    client = app.test_client()
    login(client, "agent")
    page = client.get("/search?q=fob").get_data(as_text=True)
    href = HREF.search(page).group(1)
    assert href == "/articles/swipe-cards"  # the search was not logged: a plain link
    response = client.get("/articles/swipe-cards?from=1&rank=1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Order a replacement fob." in html and 'id="feedback"' in html
    sent = client.post("/feedback/articles/swipe-cards", data={
        "csrf_token": csrf_token(response), "version": "1", "kind": "outdated",
        "comment": "Price changed"})
    assert sent.status_code == 503
    assert "Nothing was sent" in sent.get_data(as_text=True)
    assert "Price changed" in sent.get_data(as_text=True)
    with writable.app_context():
        assert db.session.scalar(db.select(db.func.count(ArticleView.id))) == 0
