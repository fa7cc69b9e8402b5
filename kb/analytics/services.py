"""Search analytics: top queries, content gaps, unopened results, most-viewed documents and
crisis searches per day. Each report is one GROUP BY over an indexed time range, in SQL
that runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from kb.core.permissions import require
from kb.extensions import db
from kb.models import Article, ArticleView, CallScript, SearchLog, User, utcnow

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
SOURCES = {"": "All searches", "page": "Search page", "typeahead": "Typeahead",
           "api": "API"}
LIMIT = 20


@dataclass(frozen=True)
class Window:
    """The last ``days`` days, today included, from midnight UTC; and which searches."""

    days: int
    start: datetime
    end: datetime
    source: str = ""

    @property
    def first_day(self) -> date:
        """The window's first (UTC) day."""
        return self.start.date()

    @property
    def last_day(self) -> date:
        """The window's last (UTC) day: today."""
        return self.end.date()


def window(days: int = DEFAULT_PERIOD, source: str = "", now: datetime | None = None) -> Window:
    """The reporting window (days must be 7, 30 or 90; source one of SOURCES)."""
    if days not in PERIODS:
        raise ValueError(f"days must be one of {PERIODS}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {tuple(SOURCES)}")
    now = now or utcnow()
    start = datetime.combine(now.date() - timedelta(days=days - 1), time.min)
    return Window(days=days, start=start, end=now, source=source)


@dataclass
class Row:
    """One line of a report: a label (query or title), its number, and what else it has."""

    label: str
    value: int
    extra: dict = field(default_factory=dict)
    url: str | None = None  # where the label links to (set by the view)


def _query_key():
    """A query as the reports group it: lower-cased (runs of spaces are one when logged)."""
    return db.func.lower(SearchLog.query)


def _searches(win: Window, *conditions):
    """WHERE clauses for the window's searches (uses the created_at index)."""
    where = [SearchLog.created_at >= win.start, SearchLog.created_at <= win.end, *conditions]
    if win.source:
        where.append(SearchLog.source == win.source)
    return where


def top_queries(user: User | None, win: Window, limit: int = LIMIT) -> list[Row]:
    """The most searched queries, with how many of those searches found nothing."""
    require(user, "manager", "Only managers see search analytics.")
    key, count = _query_key(), db.func.count(SearchLog.id)
    empty = db.func.sum(db.case((SearchLog.result_count == 0, 1), else_=0))
    rows = db.session.execute(
        db.select(key, count, empty).where(*_searches(win))
        .group_by(key).order_by(count.desc(), key).limit(limit)
    )
    return [Row(q, n, {"no_results": int(e or 0)}) for q, n, e in rows]


def zero_result_queries(user: User | None, win: Window, limit: int = LIMIT) -> list[Row]:
    """Content gaps: queries that found nothing, most frequent first, with when last seen."""
    require(user, "manager", "Only managers see search analytics.")
    key, count = _query_key(), db.func.count(SearchLog.id)
    rows = db.session.execute(
        db.select(key, count, db.func.max(SearchLog.created_at))
        .where(*_searches(win, SearchLog.result_count == 0))
        .group_by(key).order_by(count.desc(), key).limit(limit)
    )
    return [Row(q, n, {"last_searched": last}) for q, n, last in rows]


def never_opened_queries(user: User | None, win: Window, limit: int = LIMIT) -> list[Row]:
    """Queries that found results nobody opened: searches with results and no view logged
    from them. API searches are left out (they have no links to open)."""
    require(user, "manager", "Only managers see search analytics.")
    key = _query_key()
    opened = db.exists().where(ArticleView.search_log_id == SearchLog.id)
    unopened = db.func.sum(db.case((opened, 0), else_=1))
    total = db.func.count(SearchLog.id)
    rows = db.session.execute(
        db.select(key, unopened, total)
        .where(*_searches(win, SearchLog.result_count > 0, SearchLog.source != "api"))
        .group_by(key).having(unopened > 0)
        .order_by(unopened.desc(), key).limit(limit)
    )
    return [Row(q, int(n), {"searches": t, "opened": t - int(n)}) for q, n, t in rows]


def most_viewed(user: User | None, win: Window, limit: int = LIMIT) -> list[Row]:
    """The most opened articles and call scripts, with how many openings came from search."""
    require(user, "manager", "Only managers see search analytics.")
    count = db.func.count(ArticleView.id)
    from_search = db.func.count(ArticleView.search_log_id)
    rows = db.session.execute(
        db.select(ArticleView.article_id, ArticleView.call_script_id, count, from_search)
        .where(ArticleView.created_at >= win.start, ArticleView.created_at <= win.end)
        .group_by(ArticleView.article_id, ArticleView.call_script_id)
        .order_by(count.desc(), ArticleView.article_id, ArticleView.call_script_id)
        .limit(limit)
    ).all()
    articles = _titles(Article, [r[0] for r in rows if r[0] is not None])
    scripts = _titles(CallScript, [r[1] for r in rows if r[1] is not None])
    result = []
    for article_id, script_id, n, searched in rows:
        if article_id is not None and article_id in articles:
            slug, title = articles[article_id]
            kind = "Article"
        elif script_id is not None and script_id in scripts:
            slug, title = scripts[script_id]
            kind = "Call script"
        else:
            continue
        result.append(Row(title, n, {"kind": kind, "slug": slug, "from_search": searched}))
    return result


def _titles(model, ids: list[int]) -> dict[int, tuple[str, str]]:
    """id -> (slug, title) for the given rows of Article or CallScript."""
    if not ids:
        return {}
    return {i: (s, t) for i, s, t in db.session.execute(
        db.select(model.id, model.slug, model.title).where(model.id.in_(ids)))}


def _day(column):
    """The UTC calendar day of a timestamp column, on SQLite and PostgreSQL."""
    # A cast, not date_trunc('day', ...): a bound 'day' would be a different parameter in
    # SELECT and GROUP BY, which PostgreSQL refuses to match.
    if db.session.get_bind().dialect.name == "postgresql":
        return db.cast(column, db.Date)
    return db.func.date(column)


def _as_date(value) -> date:
    """A day as the driver returns it (a date on PostgreSQL, 'YYYY-MM-DD' on SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def crisis_per_day(user: User | None, win: Window) -> list[Row]:
    """Crisis-detected searches on each day of the window (days without any show 0)."""
    require(user, "manager", "Only managers see search analytics.")
    day = _day(SearchLog.created_at)
    counts = {
        _as_date(d): n for d, n in db.session.execute(
            db.select(day, db.func.count(SearchLog.id))
            .where(*_searches(win, SearchLog.crisis.is_(True))).group_by(day)
        )
    }
    days = [win.first_day + timedelta(days=i) for i in range(win.days)]
    return [Row(d.isoformat(), counts.get(d, 0), {"day": d}) for d in days]


REPORTS = {
    "top": ("Top queries", top_queries),
    "no-results": ("Queries with no results", zero_result_queries),
    "never-opened": ("Queries whose results were never opened", never_opened_queries),
    "most-viewed": ("Most-viewed articles and scripts", most_viewed),
    "crisis": ("Crisis-detected searches per day", crisis_per_day),
}
