"""The click-through log: which article or call script was opened, from which search."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from kb.bounds import MAX_ID
from kb.extensions import db
from kb.models import Article, ArticleView, CallScript, SearchLog, utcnow

log = logging.getLogger(__name__)
MAX_RANK = 1000
# A result link older than this (a bookmark, a reopened tab) is a view, not a click-through.
CLICK_WINDOW = timedelta(hours=12)


def _small_int(raw: object, limit: int) -> int | None:
    """A positive whole number up to ``limit`` from a query-string value, else None."""
    text = str(raw or "")
    if not text.isdigit() or len(text) > len(str(limit)):
        return None
    value = int(text)
    return value if 1 <= value <= limit else None


def on_document_viewed(document, *, user=None, args: Mapping | None = None, **_extra) -> None:
    """Receiver of kb.core.signals.document_viewed: log the view, never raise."""
    try:
        record_view(document, user=user, args=args or {})
    except Exception as error:  # a usage log must never break the page it logs
        log.warning("View not logged: %s: %s", type(error).__name__, error)


def record_view(document, *, user, args: Mapping) -> bool:
    """Log one opening of ``document``, with its search (``from``) and rank when valid.

    A usage log like SearchLog: written in its own small transaction on its own
    connection, so the page never depends on it (False when the database refuses).
    ``from`` counts only when it is a recent search of this same user that has not
    already been credited with this document; anything else is a plain view.
    """
    if isinstance(document, Article):
        target = {"article_id": document.id}
        same_document = ArticleView.article_id == document.id
    elif isinstance(document, CallScript):
        target = {"call_script_id": document.id}
        same_document = ArticleView.call_script_id == document.id
    else:
        return False
    user_id = user.id if user is not None and getattr(user, "is_authenticated", False) else None
    log_id = _small_int(args.get("from"), MAX_ID)
    rank = _small_int(args.get("rank"), MAX_RANK)
    try:
        with db.engine.begin() as connection:
            if log_id is not None:
                now = utcnow()
                searched = connection.execute(
                    db.select(SearchLog.id).where(
                        SearchLog.id == log_id,
                        SearchLog.user_id.is_(None) if user_id is None
                        else SearchLog.user_id == user_id,
                        SearchLog.created_at >= now - CLICK_WINDOW,
                    )
                ).first()
                credited = searched and connection.execute(
                    db.select(ArticleView.id).where(ArticleView.search_log_id == log_id,
                                                    same_document).limit(1)
                ).first()
                if not searched or credited:
                    log_id = None
            connection.execute(db.insert(ArticleView).values(
                user_id=user_id, search_log_id=log_id,
                rank=rank if log_id is not None else None, **target,
            ))
        return True
    except SQLAlchemyError as error:
        log.warning("View not logged: %s", type(error).__name__)
        return False
