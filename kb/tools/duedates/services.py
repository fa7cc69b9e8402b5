"""Response standards as data: seeding, listing, editing (audited), and due dates."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import yaml
from flask import current_app

from kb.core import audit
from kb.core.clock import local_datetime
from kb.core.errors import NotFound
from kb.core.permissions import require
from kb.extensions import db
from kb.models import ResponseStandard, User, utcnow
from kb.tools.duedates.arithmetic import (
    KEY_MAX,
    RULES_WITH_AMOUNT,
    DueDate,
    DueDateError,
    Rule,
    WorkingCalendar,
    due_date,
    validate_rule,
)

SEED_FILE = Path(__file__).resolve().parents[2] / "data" / "response_standards.yml"
KEY_RE = re.compile(rf"^[a-z0-9][a-z0-9-]{{0,{KEY_MAX - 1}}}$")


class UnknownStandard(NotFound):
    """No active standard has this key."""


def calendar() -> WorkingCalendar:
    """The working calendar from the app's settings."""
    config = current_app.config
    return WorkingCalendar(
        config["KB_HOLIDAY_REGION"], config["TIMEZONE"], config["KB_WORKING_HOURS"]
    )


def seed_standards() -> int:
    """Load the shipped standards into an empty table; returns how many were added."""
    if db.session.scalar(db.select(db.func.count(ResponseStandard.id))):
        return 0
    rows = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
    for position, row in enumerate(rows):
        db.session.add(ResponseStandard(position=position, amount=row.get("amount", 0),
                                        **{k: row[k] for k in ("key", "label", "channel",
                                                               "rule")}))
    db.session.flush()
    audit.record(None, "standard.seed", ("response_standard", ""),
                 {"count": len(rows), "keys": [row["key"] for row in rows]},
                 label="response standards")
    return len(rows)  # the caller commits


def list_standards(include_inactive: bool = False) -> list[ResponseStandard]:
    """Standards in display order (``flask import-content`` seeds the shipped ones)."""
    query = db.select(ResponseStandard).order_by(ResponseStandard.position, ResponseStandard.id)
    if not include_inactive:
        query = query.filter_by(active=True)
    return db.session.scalars(query).all()


def as_rule(standard: ResponseStandard) -> Rule:
    return Rule(standard.key, standard.label, standard.channel, standard.rule, standard.amount)


def get_rule(key: str) -> Rule:
    """The active standard with this key as a Rule; raises UnknownStandard."""
    standard = db.session.scalar(db.select(ResponseStandard).filter_by(key=key, active=True))
    if standard is None:
        raise UnknownStandard(key)
    return as_rule(standard)


def compute(key: str, received: datetime | None = None) -> DueDate:
    """The due date for standard ``key`` for a request received at ``received`` (or now)."""
    return due_date(get_rule(key), received or local_datetime(), calendar())


def missing_amount(rule: str, amount: int) -> str | None:
    """Why a rule counted in days or hours cannot have this amount, or None if it can."""
    if rule in RULES_WITH_AMOUNT and amount < 1:
        return "This rule needs a number of days or hours."
    return None


def save_standard(
    standard: ResponseStandard | None,
    *,
    key: str,
    label: str,
    channel: str,
    rule: str,
    amount: int,
    active: bool,
    user: User,
) -> ResponseStandard:
    """Create or change a standard, recording before and after in the audit log (managers
    only; raises NotAllowed)."""
    require(user, "manager", "Only managers can change the response standards.")
    validate_rule(rule, amount)
    if not KEY_RE.match(key):
        raise DueDateError("Key must be lower-case letters, digits and hyphens.")
    clash = db.session.scalar(db.select(ResponseStandard).filter_by(key=key))
    if clash is not None and clash is not standard:
        raise DueDateError(f"Another standard already uses the key {key!r}.")
    before = _snapshot(standard) if standard else None
    if standard is None:
        position = db.session.scalar(db.select(db.func.max(ResponseStandard.position)))
        standard = ResponseStandard(position=(position or 0) + 1)
        db.session.add(standard)
    standard.key, standard.label, standard.channel = key, label.strip(), channel.strip()
    standard.rule, standard.active = rule, active
    standard.amount = amount if rule in ("working_days", "calendar_hours") else 0
    standard.updated_at = utcnow()
    db.session.flush()
    audit.record(user, "standard.create" if before is None else "standard.update", standard,
                 {"before": before, "after": _snapshot(standard)})
    return standard  # the caller commits


def _snapshot(standard: ResponseStandard) -> dict:
    return {k: getattr(standard, k) for k in ("key", "label", "channel", "rule", "amount",
                                              "active")}
