"""Article rules: versions, importing content files, listing and rendering."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import joinedload

from kb.content.importing import ImportReport, import_folder
from kb.content.loader import ParsedArticle, parse_article
from kb.content.render import Rendered, render_markdown
from kb.core import audit
from kb.core.clock import local_date, local_today
from kb.core.errors import NotFound
from kb.core.versioning import publish
from kb.extensions import db
from kb.models import Article, ArticleVersion, User, utcnow


class ArticleNotFound(NotFound):
    """No article has this slug."""


def get_article(slug: str) -> Article:
    """The article with this slug; raises ArticleNotFound."""
    article = db.session.scalar(
        db.select(Article)
        .options(joinedload(Article.current_version))
        .filter_by(slug=slug)
    )
    if article is None or article.current_version is None:
        raise ArticleNotFound(slug)
    return article


def save_version(
    article: Article | None,
    parsed: ParsedArticle,
    *,
    author: User | None = None,
    change_summary: str = "",
    material: bool = True,
) -> tuple[Article, bool]:
    """Apply ``parsed`` to an article, adding a version only when its text changed.

    Returns the article and whether a new version was made. The caller commits.
    """
    if article is None:
        article = Article(slug=parsed.slug, created_at=utcnow())
        db.session.add(article)
    article.title = parsed.title
    article.summary = parsed.summary
    article.category = parsed.category
    article.tags = list(parsed.tags)
    article.owner = parsed.owner
    article.requires_signoff = parsed.requires_signoff
    if parsed.questions is not None:
        article.signoff_questions = parsed.questions or None
    if parsed.standards is not None:
        article.response_standards = parsed.standards or None
    article.review_cycle_months = parsed.review_cycle_months
    article.source_path = parsed.path or article.source_path

    if article.id is None:
        db.session.flush()  # the audit row names the article by id
    _version, created = publish(
        article, parsed.body, author, change_summary or parsed.change_summary, material,
        version_class=ArticleVersion, action="article.version",
        fields={"title": parsed.title, "summary": parsed.summary, "material": material,
                "content_date": parsed.content_date},
        compare=("title", "summary"), source=parsed.path,
    )
    if not created and parsed.content_date is not None and (
            _version.content_date != parsed.content_date):
        # The same text with a corrected ``updated:`` date: the date describes the text
        # this version already holds (its sha256, what was read and signed, is unchanged),
        # so it is recorded on it rather than made into a new version to sign again.
        audit.record(author, "article.content_date", article, {
            "version": _version.number,
            "content_date": [_iso(_version.content_date), parsed.content_date.isoformat()],
        })
        _version.content_date = parsed.content_date
    if not created:
        if db.session.is_modified(article):
            article.updated_at = utcnow()
            audit.record(author, "article.metadata", article, audit.changed_fields(
                article, ("category", "tags", "owner", "requires_signoff",
                          "review_cycle_months", "source_path", "signoff_questions",
                          "response_standards")))
        return article, False
    # A new version counts as a review: kb/reviews sets the review dates on
    # version_published.
    return article, True


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def import_articles(directory: Path) -> ImportReport:
    """Load every article file under ``directory``; bad files are reported and skipped."""
    today = local_today()  # ``updated:`` may not be later than the centre's today
    return import_folder(
        directory,
        model=Article,
        parse=lambda path: parse_article(path, root=directory.parent, today=today),
        save=save_version,
        noun="article",
    )


def categories() -> list[tuple[str, int]]:
    """Each category with its number of articles, alphabetically."""
    rows = db.session.execute(
        db.select(Article.category, db.func.count(Article.id))
        .where(Article.archived_at.is_(None))
        .group_by(Article.category)
        .order_by(Article.category)
    )
    return [(name, count) for name, count in rows]


def category_slug(name: str) -> str:
    """A URL-friendly form of a category name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def articles_in_category(slug: str) -> tuple[str, list[Article]] | None:
    """The category name and its articles, or None if no category has that slug."""
    for name, _count in categories():
        if category_slug(name) == slug:
            items = db.session.scalars(
                db.select(Article).filter_by(category=name, archived_at=None)
                .order_by(Article.title)
            ).all()
            return name, items
    return None


def all_articles() -> list[Article]:
    """Every article that is not archived, by title."""
    return db.session.scalars(
        db.select(Article).where(Article.archived_at.is_(None)).order_by(Article.title)
    ).all()


def content_date(version: ArticleVersion) -> date:
    """When a version's content last changed: the ``updated:`` date its file gave, else the
    local day the version was made (the editor's versions, files without the key)."""
    return version.content_date or local_date(version.created_at)


@dataclass
class RecentArticle:
    article: Article
    changed: date  # content_date() of its current version


def recently_updated(limit: int = 8) -> list[RecentArticle]:
    """The articles whose content changed most recently, by their current version's
    content date (not when the article was imported or its details edited)."""
    # A date sorts before the versions made later that same day (both kinds of column
    # compare in order on SQLite and PostgreSQL).
    changed = db.func.coalesce(ArticleVersion.content_date, ArticleVersion.created_at)
    rows = db.session.execute(
        db.select(Article, ArticleVersion)
        .join(ArticleVersion, Article.current_version_id == ArticleVersion.id)
        .where(Article.archived_at.is_(None))
        .order_by(changed.desc(), ArticleVersion.created_at.desc(), Article.title)
        .limit(limit)
    ).all()
    return [RecentArticle(article, content_date(version)) for article, version in rows]


def render_version(version: ArticleVersion) -> Rendered:
    """Rendered HTML and table of contents of a version (cached: versions never change)."""
    return _render_cached(version.id, version.sha256, version.markdown)


@lru_cache(maxsize=512)
def _render_cached(_version_id: int, _sha: str, text: str) -> Rendered:
    return render_markdown(text)



def export_articles(directory: Path) -> int:
    """Write each article's current version as ``<slug>.md`` with front matter."""
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    for article in db.session.scalars(
        db.select(Article).options(joinedload(Article.current_version)).order_by(Article.slug)
    ):
        version = article.current_version
        if version is None:
            continue
        meta = {
            "title": version.title,
            "category": article.category,
            "tags": list(article.tags),
            "summary": version.summary,
            "owner": article.owner,
            "review_cycle_months": article.review_cycle_months,
            "requires_signoff": article.requires_signoff,
        }
        if version.content_date:
            meta["updated"] = version.content_date
        if article.signoff_questions:
            meta["questions"] = article.signoff_questions
        if article.response_standards:
            names = article.response_standards
            meta["standards"] = names[0] if len(names) == 1 else list(names)
        front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
        (directory / f"{article.slug}.md").write_text(
            f"---\n{front}---\n\n{version.markdown}", encoding="utf-8"
        )
        count += 1
    return count
