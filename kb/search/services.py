"""Search rules: keeping the index in step with the database, running and logging searches."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from kb.extensions import db
from kb.models import SearchLog, User
from kb.search import providers, vocabularies
from kb.search.engine import Document, Hit, IndexBusy, Results, SearchIndex
from kb.search.query import MAX_QUERY_CHARS

# The crisis protocol and the emergency guidance are articles (kb/search/vocabularies.py).
PIN_KIND = "article"
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


def public_slug(hit: Hit) -> str:
    """A hit's own slug, without the prefix its kind's index key carries."""
    return providers.public_slug(hit.kind, hit.slug)


def result_url(hit: Hit) -> str:
    """Where a search result links to, as the hit's provider says."""
    return providers.get(hit.kind).url(public_slug(hit))


def categories() -> list[tuple[str, int]]:
    """(name, count) of every category the providers know, alphabetically."""
    counts: dict[str, int] = {}
    for provider in providers.registered().values():
        for name, count in getattr(provider, "categories", list)():
            counts[name] = counts.get(name, 0) + count
    return sorted(counts.items())


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
    """index key -> fingerprint for every current document (the watermark to match)."""
    marks: dict[str, str] = {}
    for provider in providers.registered().values():
        marks.update({provider.key_prefix + slug: mark
                      for slug, mark in provider.fingerprints().items()})
    return marks


def _load_document(index_key: str) -> Document:
    """The document for an index key, from the provider of its kind."""
    kind, slug = providers.split_key(index_key)
    doc = providers.get(kind).document(slug)
    if doc is None:  # gone since the fingerprints were read; catch-up retries next time
        raise LookupError(f"no current {kind} {slug!r}")
    return providers.keyed(kind, doc)


def catch_up() -> dict:
    """Open (or recreate) the index and bring it in line with the database."""
    index = get_index()
    state = index.ensure()
    result = index.catch_up(current_fingerprints(), _load_document)
    result["index"] = state
    return result


def _db_watermark() -> tuple:
    """A cheap summary of the database's documents: changes whenever a fingerprint may."""
    return tuple((kind, *provider.watermark())
                 for kind, provider in providers.registered().items())


def database_watermark() -> tuple:
    """The database's change watermark (a few aggregates), for the background follower."""
    return _db_watermark()


def follow_database(lock_timeout: float) -> dict:
    """The background catch-up (kb/search/follow.py): index what other hosts and processes
    wrote to the database since this index last saw it.

    Unlike catch_up() it keeps the open index (reopened only if another process rebuilt
    or repaired it), and waits at most ``lock_timeout`` for another process's writer lock:
    on IndexBusy another worker on this host is writing, and the next round looks again.
    Searches in this process then skip their own comparison for CHECK_INTERVAL.
    """
    index = get_index()
    result = index.catch_up(current_fingerprints(), _load_document, lock_timeout=lock_timeout)
    state = current_app.extensions
    state["kb_search_ready"] = True
    state["kb_search_checked"] = time.monotonic()
    return result


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
    registered = providers.registered()
    total = sum(provider.count() for provider in registered.values())
    docs = itertools.chain.from_iterable(
        (providers.keyed(kind, doc) for doc in provider.documents())
        for kind, provider in registered.items()
    )
    try:
        count = get_index().rebuild(docs, total=total, progress=progress)
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


def document_counts() -> dict[str, int]:
    """kind -> how many current documents the database holds (what a rebuild indexes)."""
    return {kind: provider.count() for kind, provider in providers.registered().items()}


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
    if kind and kind not in providers.kinds():
        raise ValueError(f"kind must be one of: {', '.join(providers.kinds())}")
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
        results.hits = follow_their_sources(results.hits)
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
        row = SearchLog(
            # PostgreSQL cannot store NUL characters; nobody types one on purpose.
            # Runs of spaces are one space, so the analytics group "gas  leak" with
            # "gas leak" (and lower-case the rest).
            query=" ".join(query.replace("\x00", "").split()),
            result_count=results.total,
            category=category or None,
            user_id=user.id if user is not None and user.is_authenticated else None,
            took_ms=round(results.took_ms, 2),
            source=source,
            crisis=results.crisis,
            emergency=results.emergency,
        )
        db.session.add(row)
        db.session.flush()
        log_id = row.id
        db.session.commit()
        results.log_id = log_id
        return True
    except SQLAlchemyError as error:
        db.session.rollback()
        log.warning("Search log not written: %s", type(error).__name__)
        return False


def pin_first(results: Results, slug: str, limit: int, kind: str = PIN_KIND) -> None:
    """Put document ``slug`` first: moved up if it matched, otherwise added on top."""
    index_key = providers.key(kind, slug)
    found = [hit for hit in results.hits if hit.kind == kind and hit.slug == index_key]
    rest = [hit for hit in results.hits if hit not in found]
    if found:
        results.hits = [found[0], *rest]
        return
    brief = getattr(providers.get(kind), "brief", lambda _slug: None)(slug)
    if brief is None:
        return
    hit = Hit(slug=index_key, kind=kind, title=brief["title"], summary=brief["summary"],
              category=brief["category"], snippet="",
              score=max((h.score for h in rest), default=0.0))
    results.hits = [hit, *rest][: max(1, limit)]
    results.total += 1


def follow_their_sources(hits: list[Hit]) -> list[Hit]:
    """Move each hit just below the first hit it follows, as its provider says.

    Call scripts follow the articles they cite: the article is the procedure, read
    first, and the script built on it is one line further down.
    """
    follows: dict[str, set[str]] = {}
    for kind, provider in providers.registered().items():
        slugs = [public_slug(h) for h in hits if h.kind == kind]
        if not slugs or not hasattr(provider, "follows"):
            continue
        for slug, sources in provider.follows(slugs).items():
            follows[provider.key_prefix + slug] = {
                providers.key(source_kind, source) for source_kind, source in sources
                if source_kind in providers.kinds()
            }
    if not follows:
        return hits
    order = list(hits)
    for hit in [h for h in hits if h.slug in follows]:
        here = order.index(hit)
        sources = follows[hit.slug]
        below = next(
            (i for i in range(here + 1, len(order))
             if order[i] is not hit and order[i].slug in sources
             and order[i].slug not in follows),
            None,
        )
        if below is not None:
            order.insert(below, order.pop(here))  # lands just after that source
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
