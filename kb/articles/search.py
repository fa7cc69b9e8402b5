"""Articles as search sees them: the article provider registered with kb.search.providers."""

from __future__ import annotations

from collections.abc import Iterator

from flask import url_for
from sqlalchemy.orm import joinedload

from kb.content.render import markdown_to_text
from kb.extensions import db
from kb.models import Article, ArticleVersion
from kb.search import providers
from kb.search.documents import Document


class ArticleProvider:
    """Lists, builds and links article documents for the search index."""

    label = "Articles"
    key_prefix = ""  # article slugs are the index keys, as they always were

    def fingerprints(self) -> dict[str, str]:
        """slug -> fingerprint for every article with a current version."""
        rows = db.session.execute(
            db.select(Article, ArticleVersion.sha256).join(
                ArticleVersion, Article.current_version_id == ArticleVersion.id
            ).where(Article.archived_at.is_(None))
        )
        return {article.slug: _fingerprint(article, sha) for article, sha in rows}

    def watermark(self) -> tuple:
        """Count, newest update, newest version and version-id sum of the published articles."""
        return tuple(db.session.execute(
            db.select(db.func.count(Article.id), db.func.max(Article.updated_at),
                      db.func.max(Article.current_version_id),
                      # Any current version changing moves the sum, whatever order
                      # concurrent publishes on several hosts commit in.
                      db.func.sum(Article.current_version_id))
            .where(Article.current_version_id.is_not(None), Article.archived_at.is_(None))
        ).one())

    def document(self, slug: str) -> Document | None:
        """The search document of one article's current version."""
        article = db.session.scalar(
            db.select(Article).options(joinedload(Article.current_version)).filter_by(slug=slug)
        )
        if article is None or article.current_version is None or article.archived_at:
            return None
        return document_for(article)

    def documents(self) -> Iterator[Document]:
        """Every published article, oldest first."""
        articles = db.session.scalars(
            db.select(Article)
            .options(joinedload(Article.current_version))
            .where(Article.current_version_id.is_not(None), Article.archived_at.is_(None))
            .order_by(Article.id)
        ).all()
        return (document_for(a) for a in articles)

    def count(self) -> int:
        """How many articles have a current version."""
        return db.session.scalar(
            db.select(db.func.count(Article.id))
            .where(Article.current_version_id.is_not(None), Article.archived_at.is_(None))
        ) or 0

    def url(self, slug: str) -> str:
        """The article page."""
        return url_for("articles.article", slug=slug)

    def brief(self, slug: str) -> dict | None:
        """Title, summary and category of a published article (for pinning it first)."""
        article = db.session.scalar(
            db.select(Article).where(Article.slug == slug, Article.archived_at.is_(None),
                                     Article.current_version_id.is_not(None))
        )
        if article is None:
            return None
        return {"title": article.title, "summary": article.summary,
                "category": article.category}

    def categories(self) -> list[tuple[str, int]]:
        """Each category with its number of articles, alphabetically."""
        from kb.articles.services import categories

        return categories()


def _fingerprint(article: Article, version_sha: str) -> str:
    """The fingerprint of an article at one version."""
    return providers.fingerprint(version_sha, article.title, article.summary,
                                 article.category, article.tags)


def document_for(article: Article) -> Document:
    """The search document for an article's current version."""
    version = article.current_version
    return Document(
        slug=article.slug,
        kind="article",
        title=article.title,
        summary=article.summary,
        tags=list(article.tags),
        category=article.category,
        body=markdown_to_text(version.markdown),
        sha256=_fingerprint(article, version.sha256),
        updated_at=article.updated_at,
    )


def register() -> None:
    """Make articles searchable (called at app creation)."""
    providers.register("article", ArticleProvider())
