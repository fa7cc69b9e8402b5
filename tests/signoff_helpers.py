"""Shared set-up for the sign-off tests: standards published through the versioning core."""

from __future__ import annotations

from kb.core.versioning import publish
from kb.extensions import db
from kb.models import Article, ArticleVersion, User, utcnow


def standard(slug: str, body: str = "Answer within 20 seconds.", *, requires: bool = True,
             **columns) -> Article:
    """A new article that requires a sign-off, at version 1 (flushed, not committed)."""
    article = Article(slug=slug, title=slug.replace("-", " ").capitalize(),
                      category="Standards", requires_signoff=requires, created_at=utcnow(),
                      **columns)
    db.session.add(article)
    db.session.flush()
    new_version(article, body, material=True)
    return article


def new_version(article: Article, body: str, *, material: bool) -> ArticleVersion:
    """Publish ``body`` as the article's next version, material or minor."""
    version, created = publish(
        article, body, None, "Changed", material, version_class=ArticleVersion,
        action="article.version",
        fields={"title": article.title, "summary": "", "material": material},
    )
    assert created
    return version


def user(username: str) -> User:
    """The user called ``username``."""
    return db.session.scalar(db.select(User).filter_by(username=username))
