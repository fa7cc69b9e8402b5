"""Crisis protocol rules: helplines (data, verified and audited), time, audit, permissions.

Incident records live in ``kb.crisis.incidents``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from kb.core import audit as audit_trail
from kb.core.clock import (  # noqa: F401  (re-exported for the crisis views)
    format_local,
    local_now,
    local_today,
    local_zone,
    to_local,
    to_utc,
)
from kb.core.errors import Invalid, NotAllowed, NotFound  # noqa: F401  (NotAllowed re-exported)
from kb.core.permissions import require
from kb.extensions import db
from kb.models import AuditLog, CrisisIncident, Helpline, User, utcnow

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "helplines.yml"
DEFAULT_MAX_AGE_DAYS = 180

# Field caps, shared by the forms and the columns they fill.
NAME_MAX = 120
NUMBER_MAX = 60
HOURS_MAX = 200
AUDIENCE_MAX = 300
HELPLINE_NOTES_MAX = 2000
TEXT_MAX = 5000
LOCATION_MAX = 500
PARTNER_MAX = 120

_PHONE_RE = re.compile(r"^\+?[0-9 ()]+$")
_WEB_RE = re.compile(r"^(https://|www\.)[^\s<>\"'`]+\.[^\s<>\"'`]+$", re.IGNORECASE)
_AUDITED = ("name", "number", "hours", "audience", "notes", "coverage", "position", "active",
            "last_verified", "verified_by")
_EDITABLE = ("name", "number", "hours", "audience", "notes", "coverage", "position")

# Who can use a helpline: the crisis page lists the national ones first, local ones after.
NATIONAL = "national"
LOCAL = "local"
COVERAGES = (NATIONAL, LOCAL)


class HelplineNotFound(NotFound):
    """No helpline has this id."""


class IncidentNotFound(NotFound):
    """No incident record has this id."""


class InvalidEntry(Invalid):
    """A crisis value breaks a rule; ``field`` names the form field the message belongs to."""


class IncidentLocked(RuntimeError):
    """Incident records and their review notes are never changed or deleted."""


@dataclass(frozen=True)
class HelplineData:
    """What a manager (or the shipped file) says about a helpline."""

    name: str
    number: str
    hours: str = ""
    audience: str = ""
    notes: str = ""
    position: int | None = None
    coverage: str = NATIONAL


@dataclass(frozen=True)
class ShippedHelpline:
    """A helpline read straight from the shipped file, for when the database cannot answer."""

    id: int
    name: str
    number: str
    hours: str
    audience: str
    notes: str
    position: int
    coverage: str = NATIONAL
    active: bool = True
    last_verified: date | None = None
    verified_by: str = ""


# --- numbers -------------------------------------------------------------------------


def check_number(value: str) -> str:
    """The number with its spacing tidied; raises InvalidEntry unless a phone number or URL."""
    text = " ".join((value or "").split())
    if not text:
        raise InvalidEntry("number", "Enter the phone number or web address.")
    if len(text) > NUMBER_MAX:
        raise InvalidEntry("number", f"Keep the number to {NUMBER_MAX} characters or fewer.")
    if is_web_address(text):
        return text
    if not _PHONE_RE.match(text):
        raise InvalidEntry(
            "number",
            "Use digits, spaces, + and brackets only (for example 0800 731 2864), "
            "or a web address starting https:// or www.",
        )
    digits = sum(ch.isdigit() for ch in text)
    if digits < 3 or digits > 15:
        raise InvalidEntry("number", "A phone number has between 3 and 15 digits.")
    if text.count("(") != text.count(")"):
        raise InvalidEntry("number", "Check the brackets in the number: one is not closed.")
    return text


def check_coverage(value: str) -> str:
    """'national' or 'local'; raises InvalidEntry for anything else."""
    if value not in COVERAGES:
        raise InvalidEntry("coverage", "Choose whether callers anywhere in the country can "
                           "use this helpline, or only local ones.")
    return value


def is_web_address(number: str) -> bool:
    """True when a helpline's "number" is a web address (online support) not a phone."""
    return bool(_WEB_RE.match(number or ""))


def helpline_href(number: str) -> str:
    """A ``tel:`` link for a phone number, or an https link for a web address."""
    if is_web_address(number):
        return number if number.lower().startswith("https://") else f"https://{number}"
    if number.startswith("+"):
        # "+44 (0)20 ..." is dialled without the bracketed trunk zero.
        number = number.replace("(0)", "")
    return "tel:" + "".join(ch for ch in number if ch.isdigit() or ch == "+")


# --- settings and time ---------------------------------------------------------------


def max_age_days() -> int:
    """How many days a helpline verification stays current (KB_HELPLINE_MAX_AGE_DAYS)."""
    return int(current_app.config.get("KB_HELPLINE_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS))


# --- helplines -----------------------------------------------------------------------


def load_seed(path: Path | None = None) -> list[HelplineData]:
    """The shipped helplines from ``kb/data/helplines.yml``, checked like a manager's edit."""
    entries = yaml.safe_load((path or SEED_FILE).read_text(encoding="utf-8")) or []
    items = []
    for index, entry in enumerate(entries, start=1):
        items.append(
            HelplineData(
                name=" ".join(str(entry["name"]).split()),
                number=check_number(str(entry["number"])),
                hours=str(entry.get("hours") or "").strip(),
                audience=" ".join(str(entry.get("audience") or "").split()),
                notes=" ".join(str(entry.get("notes") or "").split()),
                position=int(entry.get("position", index * 10)),
                coverage=check_coverage(str(entry.get("coverage") or NATIONAL)),
            )
        )
    return items


def seed_helplines(path: Path | None = None) -> int:
    """Fill an empty helplines table from the shipped file; returns how many were added.

    Does nothing once the table has any row, so managers' edits are never overwritten.
    ``flask import-content`` runs it (never a page); the caller commits.
    """
    if db.session.scalar(db.select(db.func.count(Helpline.id))):
        return 0
    items = load_seed(path)
    now = utcnow()
    for item in items:
        db.session.add(
            Helpline(
                name=item.name, number=item.number, hours=item.hours, audience=item.audience,
                notes=item.notes, position=item.position or 0, coverage=item.coverage,
                active=True,
                last_verified=None, verified_by="", updated_at=now,
            )
        )
    audit_trail.record(None, "helpline.seed", ("helpline", ""),
                 {"source": "kb/data/helplines.yml",
                  "helplines": [f"{item.name}: {item.number}" for item in items]},
                 label="helplines")
    db.session.flush()
    return len(items)


def page_order() -> tuple:
    """The crisis page's order: national helplines, then local ones; each by position."""
    return (db.case((Helpline.coverage == LOCAL, 1), else_=0), Helpline.position, Helpline.id)


def active_helplines() -> list[Helpline]:
    """The helplines shown on the crisis page, in page order."""
    return list(db.session.scalars(db.select(Helpline).filter_by(active=True)
                                   .order_by(*page_order())))


def helplines_for_page() -> tuple[list[Helpline] | list[ShippedHelpline], bool]:
    """Active helplines and whether they came from the shipped file (database unavailable)."""
    try:
        return active_helplines(), False
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("Helplines table unavailable; showing the shipped list")
    try:
        shipped = sorted(
            (ShippedHelpline(id=index, name=item.name, number=item.number, hours=item.hours,
                             audience=item.audience, notes=item.notes,
                             position=item.position or 0, coverage=item.coverage)
             for index, item in enumerate(load_seed(), start=1)),
            key=lambda h: (h.coverage == LOCAL, h.position, h.id),
        )
    except Exception:  # noqa: BLE001 - the page still shows the plan and 999
        current_app.logger.exception("Could not read the shipped helplines")
        shipped = []
    return shipped, True


def all_helplines() -> list[Helpline]:
    """Every helpline for the admin list: active ones first, each part in page order."""
    return list(db.session.scalars(db.select(Helpline)
                                   .order_by(Helpline.active.desc(), *page_order())))


def get_helpline(helpline_id: int) -> Helpline:
    """The helpline with this id; raises HelplineNotFound."""
    helpline = db.session.get(Helpline, helpline_id)
    if helpline is None:
        raise HelplineNotFound(helpline_id)
    return helpline


def verification_age(helpline: Helpline | ShippedHelpline, today: date) -> int | None:
    """Days since the helpline was last verified, or None if it never was."""
    if helpline.last_verified is None:
        return None
    return (today - helpline.last_verified).days


def needs_verifying(
    helpline: Helpline | ShippedHelpline, today: date, max_age: int
) -> bool:
    """True when the helpline was never verified or its verification is over ``max_age`` days."""
    age = verification_age(helpline, today)
    return age is None or age > max_age


def stale_helpline_ids(helplines: list[Helpline], today: date, max_age: int) -> set[int]:
    """The ids of active helplines that need verifying."""
    return {h.id for h in helplines if h.active and needs_verifying(h, today, max_age)}


def next_position() -> int:
    """A position after every existing helpline (steps of 10 leave room to insert)."""
    highest = db.session.scalar(db.select(db.func.max(Helpline.position)))
    return (highest or 0) + 10


def create_helpline(data: HelplineData, actor: User) -> Helpline:
    """Add a helpline (unverified until someone checks it) and audit it."""
    require_manager(actor)
    values = _clean(data)
    if values["position"] is None:
        values["position"] = next_position()
    helpline = Helpline(**values, active=True, last_verified=None, verified_by="",
                        updated_at=utcnow())
    db.session.add(helpline)
    db.session.flush()
    audit(actor, "helpline.create", helpline, {"before": None, "after": _snapshot(helpline)})
    db.session.flush()
    return helpline


def update_helpline(helpline_id: int, data: HelplineData, actor: User) -> list[str]:
    """Apply a manager's edit; returns the fields that changed (none: nothing is audited).

    A changed number is a new, unchecked number, so its verification is cleared.
    """
    require_manager(actor)
    helpline = get_helpline(helpline_id)
    values = _clean(data)
    if values["position"] is None:
        values["position"] = helpline.position
    before = _snapshot(helpline)
    changed = [key for key in _EDITABLE if getattr(helpline, key) != values[key]]
    if not changed:
        return []
    for key in changed:
        setattr(helpline, key, values[key])
    if "number" in changed:
        helpline.last_verified = None
        helpline.verified_by = ""
    helpline.updated_at = utcnow()
    audit(actor, "helpline.update", helpline, _diff(before, _snapshot(helpline)))
    db.session.flush()
    return changed


def verify_helpline(helpline_id: int, actor: User, today: date | None = None) -> Helpline:
    """Record that ``actor`` checked the helpline today."""
    require_manager(actor)
    helpline = get_helpline(helpline_id)
    before = _snapshot(helpline)
    helpline.last_verified = today or local_today()
    helpline.verified_by = actor.display_name
    helpline.updated_at = utcnow()
    detail = _diff(before, _snapshot(helpline))
    detail["before"].setdefault("last_verified", before["last_verified"])
    detail["after"].setdefault("last_verified", helpline.last_verified.isoformat())
    audit(actor, "helpline.verify", helpline, detail)
    db.session.flush()
    return helpline


def deactivate_helpline(helpline_id: int, actor: User) -> bool:
    """Take a helpline off the crisis page (kept for the record); False if already off."""
    return _set_active(helpline_id, actor, False, "helpline.deactivate")


def reactivate_helpline(helpline_id: int, actor: User) -> bool:
    """Put a deactivated helpline back on the crisis page; False if already on."""
    return _set_active(helpline_id, actor, True, "helpline.reactivate")


def helpline_history(helpline_id: int, limit: int = 20) -> list[tuple[AuditLog, str]]:
    """The latest audit rows for one helpline with who made them, newest first."""
    rows = db.session.execute(
        audit_trail.for_target("helpline", helpline_id)
        .add_columns(User.display_name)
        .outerjoin(User, AuditLog.user_id == User.id)
        .limit(limit)
    )
    return [(row, name or "System") for row, name in rows]


def _set_active(helpline_id: int, actor: User, active: bool, action: str) -> bool:
    require_manager(actor)
    helpline = get_helpline(helpline_id)
    if helpline.active == active:
        return False
    helpline.active = active
    helpline.updated_at = utcnow()
    audit(actor, action, helpline, {"before": {"active": not active}, "after": {"active": active}})
    db.session.flush()
    return True


def _clean(data: HelplineData) -> dict:
    name = " ".join(data.name.split())
    if not name:
        raise InvalidEntry("name", "Enter the helpline's name.")
    return {
        "name": name,
        "number": check_number(data.number),
        "hours": data.hours.strip(),
        "audience": data.audience.strip(),
        "notes": data.notes.strip(),
        "coverage": check_coverage(data.coverage),
        "position": data.position,
    }


def _snapshot(helpline: Helpline) -> dict:
    values = {key: getattr(helpline, key) for key in _AUDITED}
    if values["last_verified"] is not None:
        values["last_verified"] = values["last_verified"].isoformat()
    return values


def _diff(before: dict, after: dict) -> dict:
    keys = [key for key in _AUDITED if before[key] != after[key]]
    return {"before": {k: before[k] for k in keys}, "after": {k: after[k] for k in keys}}


# --- shared --------------------------------------------------------------------------


def require_manager(actor: User | None) -> None:
    """Raise NotAllowed unless ``actor`` is a signed-in manager (or admin)."""
    require(actor, "manager", "Only managers can do this.")


def audit(actor: User | None, action: str, row: Helpline | CrisisIncident, detail: dict) -> None:
    """Add an audit row for a helpline or incident (target ``helpline:3``); the caller
    commits."""
    audit_trail.record(actor, action, row, detail)
