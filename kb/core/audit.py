"""The audit trail: one ``record`` for every change, with a structured target."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import event, inspect

from kb.extensions import db
from kb.models import AuditLog

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def target_type(obj: object) -> str:
    """The audit type of a model instance: its class name in snake case (CallScript ->
    call_script)."""
    return _CAMEL.sub("_", type(obj).__name__).lower()


def record(
    actor,
    action: str,
    obj: object | tuple[str, str],
    detail: dict | None = None,
    *,
    label: str | None = None,
) -> AuditLog:
    """Add an audit row for ``obj`` (a flushed model instance, or a (type, id) pair for
    something without one row); the caller commits.

    ``label`` is the readable ``target`` text; by default the object's slug or key, else
    ``type:id``.
    """
    if isinstance(obj, tuple):
        kind, ident = obj
    else:
        kind, ident = target_type(obj), str(obj.id)
    if label is None:
        label = getattr(obj, "slug", None) or getattr(obj, "key", None) or f"{kind}:{ident}"
    user_id = getattr(actor, "id", None) if actor is not None else None
    row = AuditLog(user_id=user_id, action=action, target=label, target_type=kind,
                   target_id=str(ident), detail=detail or {})
    db.session.add(row)
    return row


def for_target(kind: str, ident: object):
    """A select of the audit rows about one object, newest first (add columns, limits)."""
    return (
        db.select(AuditLog)
        .where(AuditLog.target_type == kind, AuditLog.target_id == str(ident))
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
    )


def changed_fields(obj: object, names: Iterable[str]) -> dict:
    """The audit detail of an in-place change to ``obj`` (before it is flushed): each of
    ``names`` that changed, as {"before": {...}, "after": {...}}."""
    before, after = {}, {}
    state = inspect(obj)
    for name in names:
        history = state.attrs[name].history
        if history.has_changes():
            before[name] = history.deleted[0] if history.deleted else None
            after[name] = history.added[0] if history.added else None
    return {"before": before, "after": after}


@event.listens_for(AuditLog, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    """Audit rows are append-only: the application never changes one."""
    raise RuntimeError(f"audit row {target.id} cannot be changed")


@event.listens_for(AuditLog, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    """Audit rows are append-only: the application never deletes one."""
    raise RuntimeError(f"audit row {target.id} cannot be deleted")
