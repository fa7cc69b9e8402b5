"""Search rules: keeping the index in step with the database, running and logging searches."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy.orm import joinedload

from kb.content.render import markdown_to_text
from kb.extensions import db
from kb.models import Article, ArticleVersion, SearchLog, User, sha256_text
from kb.search.engine import Document, IndexBusy, Results, SearchIndex

MAX_QUERY_CHARS = 500
_ready_lock = threading.Lock()


class IndexUnavailable(RuntimeError):
    """The index could not be written just now (another process holds it too long)."""


def init_search(app: Flask) -> None:
    """Attach one SearchIndex per app (and so per worker process)."""
    app.extensions["kb_search"] = SearchIndex(
        app.config["KB_INDEX_DIR"],
        synonyms_path=app.config["KB_SYNONYMS_FILE"],
        writer_timeout=app.config["KB_INDEX_WRITER_TIMEOUT"],
    )
    app.extensions["kb_search_ready"] = False


def get_index() -> SearchIndex:
    """This app's search index."""
    return current_app.extensions["kb_search"]


def fingerprint(article: Article, version_sha: str) -> str:
    """What the index must match for this article: its text and every indexed field."""
    return sha256_text(
        "\x1f".join(
            [version_sha, article.title, article.summary, article.category, *article.tags]
        )
    )


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
        sha256=fingerprint(article, version.sha256),
        updated_at=article.updated_at,
    )


def index_article(article: Article) -> None:
    """Add or replace an article in the index; raises IndexUnavailable if it is locked."""
    try:
        get_index().index_document(document_for(article))
    except IndexBusy as error:
        raise IndexUnavailable(str(error)) from error


def current_fingerprints() -> dict[str, str]:
    """slug -> fingerprint for every article in the database (the watermark to match)."""
    rows = db.session.execute(
        db.select(Article, ArticleVersion.sha256).join(
            ArticleVersion, Article.current_version_id == ArticleVersion.id
        )
    )
    return {article.slug: fingerprint(article, sha) for article, sha in rows}


def _load_document(slug: str) -> Document:
    article = db.session.scalar(
        db.select(Article).options(joinedload(Article.current_version)).filter_by(slug=slug)
    )
    return document_for(article)


def catch_up() -> dict:
    """Open (or recreate) the index and bring it in line with the database."""
    index = get_index()
    state = index.ensure()
    result = index.catch_up(current_fingerprints(), _load_document)
    result["index"] = state
    return result


def ensure_ready() -> None:
    """Once per process, before the first search: repair and catch up the index.

    A failure here must not stop search answering from what the index already holds.
    """
    app = current_app._get_current_object()
    if app.extensions.get("kb_search_ready"):
        return
    with _ready_lock:
        if app.extensions.get("kb_search_ready"):
            return
        try:
            catch_up()
        except IndexBusy:
            # Another worker is catching up right now; its writes reach us through the
            # searcher's freshness check.
            app.logger.info("Index busy at start-up; another process is catching it up")
        except Exception:  # noqa: BLE001 - keep serving; health() reports the problem
            app.logger.exception("Search index catch-up failed")
            return
        app.extensions["kb_search_ready"] = True


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database; returns the number of documents."""
    articles = db.session.scalars(
        db.select(Article)
        .options(joinedload(Article.current_version))
        .where(Article.current_version_id.is_not(None))
        .order_by(Article.id)
    )
    total = db.session.scalar(
        db.select(db.func.count(Article.id)).where(Article.current_version_id.is_not(None))
    )
    return get_index().rebuild(
        (document_for(a) for a in articles), total=total, progress=progress
    )


def run_search(
    query: str,
    *,
    category: str | None = None,
    kind: str | None = None,
    limit: int = 10,
    user: User | None = None,
    source: str = "page",
) -> Results:
    """Search and log the search (query, result count, user, time)."""
    ensure_ready()
    query = query[:MAX_QUERY_CHARS]
    results = get_index().search(query, category=category or None, kind=kind, limit=limit)
    if query.strip():
        db.session.add(
            SearchLog(
                query=query.strip()[:MAX_QUERY_CHARS],
                result_count=results.total,
                category=category or None,
                user_id=user.id if user is not None and user.is_authenticated else None,
                took_ms=round(results.took_ms, 2),
                source=source,
            )
        )
        db.session.commit()
    return results


def health() -> dict:
    """The index's health for /healthz."""
    return get_index().health()
