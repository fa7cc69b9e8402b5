"""Search rules: keeping the index in step with the database, running and logging searches."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app, url_for
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from kb.content.render import markdown_to_text
from kb.extensions import db
from kb.models import (
    Article,
    ArticleVersion,
    CallScript,
    CallScriptVersion,
    SearchLog,
    User,
    sha256_text,
)
from kb.search import vocabularies
from kb.search.engine import Document, Hit, IndexBusy, Results, SearchIndex

MAX_QUERY_CHARS = 500
KINDS = ("article", "script")
# Scripts share the index with articles and may share a slug with one (the crisis
# protocol is both), so their index key carries a prefix.
SCRIPT_PREFIX = "script:"
# How often a worker compares its index with the database between writes (seconds);
# the comparison is two aggregate queries unless something changed.
CHECK_INTERVAL = 5.0
_ready_lock = threading.Lock()
log = logging.getLogger(__name__)


class IndexUnavailable(RuntimeError):
    """The index could not be written (locked too long by another process, or unwritable)."""


def init_search(app: Flask) -> None:
    """Attach one SearchIndex per app (and so per worker process)."""
    app.extensions["kb_search"] = SearchIndex(
        app.config["KB_INDEX_DIR"],
        synonyms_path=app.config["KB_SYNONYMS_FILE"],
        writer_timeout=app.config["KB_INDEX_WRITER_TIMEOUT"],
    )
    app.extensions["kb_search_ready"] = False
    vocabularies.init_vocabularies(app)


def get_index() -> SearchIndex:
    """This app's search index."""
    return current_app.extensions["kb_search"]


def fingerprint(article: Article | CallScript, version_sha: str) -> str:
    """What the index must match for an article or script: its text and indexed fields."""
    return sha256_text(
        "\x1f".join([version_sha, article.title, article.summary, article.category, *article.tags])
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


def script_key(slug: str) -> str:
    """The index key of a call script."""
    return SCRIPT_PREFIX + slug


def public_slug(hit: Hit) -> str:
    """A hit's own slug, without the index prefix scripts carry."""
    return hit.slug.removeprefix(SCRIPT_PREFIX) if hit.kind == "script" else hit.slug


def result_url(hit: Hit) -> str:
    """Where a search result links to: the article page or the script player."""
    if hit.kind == "script":
        return url_for("callscripts.start", slug=public_slug(hit))
    return url_for("articles.article", slug=hit.slug)


def document_for_script(script: CallScript) -> Document:
    """The search document for a call script's current version."""
    from kb.callscripts.services import definition

    version = script.current_version
    parsed = definition(version)
    parts = [parsed.intro]
    for step in parsed.steps.values():
        parts += [step.title, step.say, step.alerts, step.guidance]
        parts += [choice.label for choice in step.choices]
    body = markdown_to_text("\n\n".join(p for p in parts if p))
    return Document(
        slug=script_key(script.slug),
        kind="script",
        title=script.title,
        summary=script.summary,
        tags=list(script.tags),
        category=script.category,
        body=body,
        sha256=fingerprint(script, version.sha256),
        updated_at=script.updated_at,
    )


def sync_index() -> dict:
    """After a commit: bring the whole index in line with the database.

    Never only "what this write changed": if the index was lost or the database got
    ahead of it (an earlier failed index write), this is where it catches up in full.
    Raises IndexUnavailable, with words for people, when the index cannot be written.
    """
    try:
        return catch_up()
    except IndexBusy as error:
        raise IndexUnavailable(str(error)) from error
    except OSError as error:
        log.error("Search index not writable: %s", error)
        raise IndexUnavailable(
            f"the search index folder cannot be written ({type(error).__name__}). The "
            "database has the changes; they are indexed at the next import, reindex, save "
            "or start-up once the folder is writable again"
        ) from error


def current_fingerprints() -> dict[str, str]:
    """index key -> fingerprint for every article and script (the watermark to match)."""
    rows = db.session.execute(
        db.select(Article, ArticleVersion.sha256).join(
            ArticleVersion, Article.current_version_id == ArticleVersion.id
        )
    )
    marks = {article.slug: fingerprint(article, sha) for article, sha in rows}
    scripts = db.session.execute(
        db.select(CallScript, CallScriptVersion.sha256).join(
            CallScriptVersion, CallScript.current_version_id == CallScriptVersion.id
        )
    )
    marks.update({script_key(script.slug): fingerprint(script, sha) for script, sha in scripts})
    return marks


def _load_document(slug: str) -> Document:
    if slug.startswith(SCRIPT_PREFIX):
        script = db.session.scalar(
            db.select(CallScript)
            .options(joinedload(CallScript.current_version))
            .filter_by(slug=slug.removeprefix(SCRIPT_PREFIX))
        )
        return document_for_script(script)
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


def _db_watermark() -> tuple:
    """A cheap summary of the database's documents: changes whenever a fingerprint may."""
    marks = []
    for model in (Article, CallScript):
        marks.extend(db.session.execute(
            db.select(db.func.count(model.id), db.func.max(model.updated_at),
                      db.func.max(model.current_version_id))
            .where(model.current_version_id.is_not(None))
        ).one())
    return tuple(marks)


def expected_fingerprints() -> dict[str, str]:
    """current_fingerprints(), reloaded only when the database's watermark moved."""
    cache = current_app.extensions.setdefault("kb_search_expected", {})
    watermark = _db_watermark()
    if cache.get("watermark") != watermark:
        cache.update(watermark=watermark, marks=current_fingerprints())
    return dict(cache["marks"])


def compare_with_database() -> dict:
    """How far the index is from the database: counts of missing, stale and extra keys."""
    expected, indexed = expected_fingerprints(), get_index().indexed()
    return {
        "documents": len(indexed),
        "expected": len(expected),
        "missing": sum(1 for key in expected if key not in indexed),
        "stale": sum(1 for key, mark in expected.items() if key in indexed
                     and indexed[key] != mark),
        "extra": sum(1 for key in indexed if key not in expected),
    }


def _in_step(diff: dict) -> bool:
    """True when nothing is missing, out of date or extra."""
    return not (diff["missing"] or diff["stale"] or diff["extra"])


def ensure_ready() -> None:
    """Before the first search in a process, whenever the engine had to recreate a corrupt
    index, and every few seconds if the database got ahead of the index: catch it up.

    A failure here must not stop search answering from what the index already holds.
    """
    app = current_app._get_current_object()
    index, state = get_index(), app.extensions

    def settled() -> bool:
        """Ready, nothing to refill, and checked against the database lately."""
        return (bool(state.get("kb_search_ready")) and not index.needs_refill
                and time.monotonic() - state.get("kb_search_checked", 0.0) < CHECK_INTERVAL)

    if settled():
        return
    with _ready_lock:
        if settled():
            return
        state["kb_search_checked"] = time.monotonic()
        try:
            if (state.get("kb_search_ready") and not index.needs_refill
                    and _in_step(compare_with_database())):
                return
            catch_up()
        except IndexBusy:
            # Another worker is catching up right now; its writes reach us through the
            # searcher's freshness check.
            app.logger.info("Index busy; another process is catching it up")
        except Exception as error:  # noqa: BLE001 - keep serving; health() reports it
            app.logger.warning("Search index catch-up failed: %s: %s",
                               type(error).__name__, error)
            db.session.rollback()
            return
        state["kb_search_ready"] = True


def rebuild(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index (articles and scripts); returns the number of documents."""
    articles = db.session.scalars(
        db.select(Article)
        .options(joinedload(Article.current_version))
        .where(Article.current_version_id.is_not(None))
        .order_by(Article.id)
    ).all()
    scripts = db.session.scalars(
        db.select(CallScript)
        .options(joinedload(CallScript.current_version))
        .where(CallScript.current_version_id.is_not(None))
        .order_by(CallScript.id)
    ).all()
    docs = itertools.chain(
        (document_for(a) for a in articles), (document_for_script(s) for s in scripts)
    )
    try:
        count = get_index().rebuild(docs, total=len(articles) + len(scripts),
                                    progress=progress)
    except IndexBusy as error:
        raise IndexUnavailable(str(error)) from error
    except OSError as error:
        log.error("Search index not writable: %s", error)
        raise IndexUnavailable(
            f"the search index folder cannot be written ({type(error).__name__})"
        ) from error
    # The swap replaces anything another process indexed during the build: catch up.
    sync_index()
    return count


def document_counts() -> tuple[int, int]:
    """How many articles and scripts the database holds (what a rebuild will index)."""
    articles = db.session.scalar(
        db.select(db.func.count(Article.id)).where(Article.current_version_id.is_not(None))
    )
    scripts = db.session.scalar(
        db.select(db.func.count(CallScript.id)).where(CallScript.current_version_id.is_not(None))
    )
    return articles or 0, scripts or 0


def run_search(
    query: str,
    *,
    category: str | None = None,
    kind: str | None = None,
    limit: int = 10,
    user: User | None = None,
    source: str = "page",
) -> Results:
    """Search and log the search (query, result count, user, time).

    ``kind`` is "article", "script" or None for both; anything else is a ValueError.
    """
    if kind and kind not in KINDS:
        raise ValueError(f"kind must be one of: {', '.join(KINDS)}")
    ensure_ready()
    query = query[:MAX_QUERY_CHARS]
    index = get_index()
    vocabularies.apply_synonyms(index.synonyms)
    intent = vocabularies.recognise(query)
    results = index.search(query, category=category or None, kind=kind, limit=limit)
    if index.needs_refill:
        # This search found the index lost and recreated it empty: refill, then answer.
        ensure_ready()
        results = index.search(query, category=category or None, kind=kind, limit=limit)
    if kind is None:
        results.hits = scripts_after_their_articles(results.hits)
    # Safety first: the protocol (or the emergency guidance) leads whatever the filters.
    if intent.crisis is not None:
        results.crisis = True
        pin_first(results, intent.crisis_article, limit)
    elif intent.emergency is not None:
        results.emergency = True
        pin_first(results, intent.emergency_article, limit)
    if query.strip():
        log_search(query, results, category=category, user=user, source=source)
    return results


def log_search(query: str, results: Results, *, category: str | None, user: User | None,
               source: str) -> bool:
    """Record one search (with what the recogniser saw) for the search analytics.

    Returns False (and raises nothing) when the database refuses: an answer must never
    depend on a database write, so a read-only or locked database loses the log row,
    not the search.
    """
    try:
        db.session.add(
            SearchLog(
                # PostgreSQL cannot store NUL characters; nobody types one on purpose.
                query=query.strip().replace("\x00", ""),
                result_count=results.total,
                category=category or None,
                user_id=user.id if user is not None and user.is_authenticated else None,
                took_ms=round(results.took_ms, 2),
                source=source,
                crisis=results.crisis,
                emergency=results.emergency,
            )
        )
        db.session.commit()
        return True
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("Search log not written: %s", type(error).__name__)
        return False


def pin_first(results: Results, slug: str, limit: int) -> None:
    """Put article ``slug`` first: moved up if it matched, otherwise added on top."""
    found = [hit for hit in results.hits if hit.kind == "article" and hit.slug == slug]
    rest = [hit for hit in results.hits if hit not in found]
    if found:
        results.hits = [found[0], *rest]
        return
    article = db.session.scalar(
        db.select(Article).where(Article.slug == slug, Article.current_version_id.is_not(None))
    )
    if article is None:
        return
    hit = Hit(slug=article.slug, kind="article", title=article.title,
              summary=article.summary, category=article.category, snippet="",
              score=max((h.score for h in rest), default=0.0))
    results.hits = [hit, *rest][: max(1, limit)]
    results.total += 1


def scripts_after_their_articles(hits: list[Hit]) -> list[Hit]:
    """Move each script just below the first article it cites that also matched.

    The article is the procedure and the script is built on it, so the article is read
    first and the script is one line further down.
    """
    script_slugs = [public_slug(h) for h in hits if h.kind == "script"]
    if not script_slugs:
        return hits
    cited = {
        script_key(slug): set(slugs or [])
        for slug, slugs in db.session.execute(
            db.select(CallScript.slug, CallScriptVersion.cited_slugs)
            .join(CallScriptVersion, CallScript.current_version_id == CallScriptVersion.id)
            .where(CallScript.slug.in_(script_slugs))
        )
    }
    order = list(hits)
    for hit in [h for h in hits if h.kind == "script"]:
        here = order.index(hit)
        sources = cited.get(hit.slug, set())
        below = next(
            (
                i
                for i in range(here + 1, len(order))
                if order[i].kind == "article" and order[i].slug in sources
            ),
            None,
        )
        if below is not None:
            order.insert(below, order.pop(here))  # lands just after that article
    return order


def health() -> dict:
    """The index's health for /healthz: it opens, and it agrees with the database.

    "ok" when every document in the database is indexed at its current fingerprint,
    "degraded" (with counts, never paths) while it is behind, "error" when it cannot
    be opened at all.
    """
    index = get_index()
    opened = index.health()
    if opened["status"] == "error":
        return opened
    try:
        diff = compare_with_database()
    except SQLAlchemyError:
        db.session.rollback()
        return {**opened, "status": "unknown",
                "reason": "the database could not be read to compare with the index"}
    except Exception as error:  # noqa: BLE001 - a health check reports, never raises
        log.warning("Index comparison failed: %s: %s", type(error).__name__, error)
        return {"documents": 0, "status": "error",
                "reason": f"the index cannot be read ({type(error).__name__})"}
    result = {"documents": diff["documents"], "expected": diff["expected"], "status": "ok"}
    if _in_step(diff):
        index.refilled()  # whichever process repaired it, this worker need not say so
        return result
    parts = [f"{diff[key]} {label}" for key, label in
             (("missing", "missing"), ("stale", "out of date"),
              ("extra", "no longer in the database")) if diff[key]]
    result.update(
        status="degraded",
        reason=f"the index is not in step with the database ({', '.join(parts)}); it "
        "catches up at the next search, save or 'reindex --if-needed'",
    )
    return result
