"""Editing programmes (managers): name and description, items added, removed and moved
(positions kept 1, 2, 3...), archive; and the shipped default programme.

Services flush; the view or CLI command commits. Every change is audited.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import func

from kb.core import audit
from kb.core.errors import Invalid, NotFound
from kb.core.permissions import require
from kb.extensions import db
from kb.induction.models import (
    ITEM_KINDS,
    Enrolment,
    Programme,
    ProgrammeItem,
    TaskConfirmation,
)
from kb.models import Article, CallScript, utcnow

NAME_MAX = 120
DESCRIPTION_MAX = 2000
TITLE_MAX = 200
MAX_DUE_DAYS = 365
MAX_ITEMS = 60
DEFAULT_FILE = Path(__file__).resolve().parent.parent / "data" / "induction.yml"


class ProgrammeNotFound(NotFound):
    """No programme has this id."""


class ItemNotFound(NotFound):
    """The programme has no item with this id."""


def list_programmes(*, archived: bool = False) -> list[tuple[Programme, int, int]]:
    """Programmes by name with their item and enrolment counts (one query); archived ones
    only when ``archived``."""
    items = (db.select(func.count(ProgrammeItem.id))
             .where(ProgrammeItem.programme_id == Programme.id).scalar_subquery())
    people = (db.select(func.count(Enrolment.id))
              .where(Enrolment.programme_id == Programme.id).scalar_subquery())
    query = db.select(Programme, items, people).order_by(Programme.name)
    query = query.where(Programme.archived_at.is_not(None) if archived
                        else Programme.archived_at.is_(None))
    return [tuple(row) for row in db.session.execute(query)]


def get_programme(programme_id: int) -> Programme:
    """The programme, or ProgrammeNotFound."""
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise ProgrammeNotFound("No induction programme has this number.")
    return programme


def signable_articles() -> list[Article]:
    """Live articles that ask for a sign-off: what an article item may point at."""
    return list(db.session.scalars(
        db.select(Article).where(Article.requires_signoff.is_(True),
                                 Article.archived_at.is_(None),
                                 Article.current_version_id.is_not(None))
        .order_by(Article.title)))


def live_scripts() -> list[CallScript]:
    """Live call scripts: what a script item may point at."""
    return list(db.session.scalars(
        db.select(CallScript).where(CallScript.archived_at.is_(None),
                                    CallScript.current_version_id.is_not(None))
        .order_by(CallScript.title)))


def parse_due_days(value: object) -> int:
    """Days after the start date, 0 to 365, from what was typed; Invalid otherwise."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or len(text) > 3 or int(text) > MAX_DUE_DAYS:
        raise Invalid("due_days", f"Due days must be a whole number from 0 to {MAX_DUE_DAYS} "
                                  "(days after the start date).")
    return int(text)


def _clean_name(name: str, programme: Programme | None) -> str:
    """A programme name, checked: present, not too long, not another programme's."""
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("name", "Give the programme a name.")
    if len(name) > NAME_MAX:
        raise Invalid("name", f"Keep the name to {NAME_MAX} characters.")
    clash = db.session.scalar(db.select(Programme).where(
        func.lower(Programme.name) == name.lower(),
        *([Programme.id != programme.id] if programme is not None else [])))
    if clash is not None:
        raise Invalid("name", f"There is already a programme called “{clash.name}”. Choose "
                              "another name.")
    return name


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        raise Invalid("description", f"Keep the description to {DESCRIPTION_MAX} characters.")
    return description


def create_programme(actor, name: str, description: str = "") -> Programme:
    """A new, empty programme (managers)."""
    require(actor, "manager")
    programme = Programme(name=_clean_name(name, None),
                          description=_clean_description(description),
                          created_by_id=actor.id, created_at=utcnow())
    db.session.add(programme)
    db.session.flush()
    audit.record(actor, "induction.programme_created", programme, {"name": programme.name},
                 label=programme.name)
    return programme


def update_programme(actor, programme_id: int, name: str, description: str) -> list[str]:
    """Rename or re-describe a programme; returns what changed."""
    require(actor, "manager")
    programme = get_programme(programme_id)
    programme.name = _clean_name(name, programme)
    programme.description = _clean_description(description)
    detail = audit.changed_fields(programme, ("name", "description"))
    changed = list(detail["after"])
    if changed:
        audit.record(actor, "induction.programme_updated", programme, detail,
                     label=programme.name)
        db.session.flush()
    return changed


def add_item(actor, programme_id: int, kind: str, *, title: str = "", due_days: object = 5,
             article: str = "", script: str = "") -> ProgrammeItem:
    """Add an item at the end: an article to sign off (by slug), a call script to walk
    through (by slug) or a task (its title); due ``due_days`` after the start date."""
    require(actor, "manager")
    programme = get_programme(programme_id)
    if kind not in ITEM_KINDS:
        raise Invalid("kind", "Choose a sign-off, a call script or a task.")
    if len(programme.items) >= MAX_ITEMS:
        raise Invalid("kind", f"A programme holds at most {MAX_ITEMS} items. Remove one, or "
                              "split the programme in two.")
    days = parse_due_days(due_days)
    title = " ".join((title or "").split())
    if len(title) > TITLE_MAX:
        raise Invalid("title", f"Keep the title to {TITLE_MAX} characters.")
    # Attached to the programme only once every check has passed.
    item = ProgrammeItem(kind=kind, due_days=days, position=len(programme.items) + 1)
    if kind == "article":
        found = next((a for a in signable_articles() if a.slug == (article or "").strip()),
                     None)
        if found is None:
            raise Invalid("article", "Choose one of the standards listed: a live article "
                                     "that asks for a sign-off.")
        if any(i.article_id == found.id for i in programme.items):
            raise Invalid("article", f"“{found.title}” is already in this programme.")
        item.article_id, item.title = found.id, title or found.title
    elif kind == "script":
        found = next((s for s in live_scripts() if s.slug == (script or "").strip()), None)
        if found is None:
            raise Invalid("script", "Choose one of the call scripts listed.")
        if any(i.script_id == found.id for i in programme.items):
            raise Invalid("script", f"“{found.title}” is already in this programme.")
        item.script_id, item.title = found.id, title or found.title
    else:
        if not title:
            raise Invalid("title", "Say what the task is, e.g. “Shadow three calls with a "
                                   "buddy”.")
        item.title = title
    programme.items.append(item)
    db.session.flush()
    audit.record(actor, "induction.item_added", programme,
                 {"item": item.id, "kind": kind, "title": item.title, "due_days": days},
                 label=programme.name)
    return item


def _item(programme: Programme, item_id: int) -> ProgrammeItem:
    item = next((i for i in programme.items if i.id == item_id), None)
    if item is None:
        raise ItemNotFound("This programme has no such item.")
    return item


def _renumber(programme: Programme) -> None:
    """Positions 1, 2, 3... in the current order."""
    for number, item in enumerate(programme.items, start=1):
        item.position = number


def remove_item(actor, programme_id: int, item_id: int) -> ProgrammeItem:
    """Take an item out of a programme; a task someone has been confirmed on stays (it is
    their evidence)."""
    require(actor, "manager")
    programme = get_programme(programme_id)
    item = _item(programme, item_id)
    confirmed = db.session.scalar(db.select(func.count(TaskConfirmation.id))
                                  .where(TaskConfirmation.item_id == item.id))
    if confirmed:
        raise Invalid("item", f"“{item.title}” has been confirmed for {confirmed} "
                              f"{'person' if confirmed == 1 else 'people'}: it stays as their "
                              "evidence. Archive the programme and make a new one instead.")
    programme.items.remove(item)  # delete-orphan
    _renumber(programme)
    db.session.flush()
    audit.record(actor, "induction.item_removed", programme,
                 {"item": item_id, "kind": item.kind, "title": item.title},
                 label=programme.name)
    return item


def move_item(actor, programme_id: int, item_id: int, direction: str) -> bool:
    """Move an item one place up or down; False when it is already at that end."""
    require(actor, "manager")
    if direction not in ("up", "down"):
        raise Invalid("direction", "Move an item up or down.")
    programme = get_programme(programme_id)
    item = _item(programme, item_id)
    order = list(programme.items)
    here = order.index(item)
    there = here - 1 if direction == "up" else here + 1
    if not 0 <= there < len(order):
        return False
    order[here], order[there] = order[there], order[here]
    for number, each in enumerate(order, start=1):
        each.position = number
    db.session.flush()
    db.session.expire(programme, ["items"])  # re-read in the new order
    audit.record(actor, "induction.item_moved", programme,
                 {"item": item_id, "direction": direction, "position": there + 1},
                 label=programme.name)
    return True


def set_archived(actor, programme_id: int, archived: bool) -> Programme:
    """Archive a programme (no new enrolments; existing ones carry on) or restore it."""
    require(actor, "manager")
    programme = get_programme(programme_id)
    if (programme.archived_at is not None) == archived:
        return programme
    programme.archived_at = utcnow() if archived else None
    db.session.flush()
    audit.record(actor, "induction.programme_archived" if archived
                 else "induction.programme_restored", programme, {}, label=programme.name)
    return programme


# --- The shipped default ---------------------------------------------------------------


def default_name(path: Path | None = None) -> str:
    """The shipped programme's name ("Contact centre induction")."""
    data = yaml.safe_load((path or DEFAULT_FILE).read_text(encoding="utf-8"))
    return " ".join(str(data["name"]).split())


def default_programme() -> Programme | None:
    """The shipped programme, once loaded (found by its name, case aside)."""
    return db.session.scalar(db.select(Programme).where(
        func.lower(Programme.name) == default_name().lower()))


def seed_default_programme(path: Path | None = None) -> Programme | None:
    """Load the shipped "Contact centre induction" (kb/data/induction.yml) unless a
    programme of that name exists; returns it when made. Every live article that asks for
    a sign-off at load time goes where the file says ``standards``. Run by
    ``flask import-content`` after the articles and scripts (the caller commits); once
    loaded, managers own it, so later imports never change it."""
    data = yaml.safe_load((path or DEFAULT_FILE).read_text(encoding="utf-8"))
    name = " ".join(str(data["name"]).split())
    # Loaded already: a programme of that name, or the shipped one since renamed (the
    # only programme nobody created: managers' have a creator).
    if db.session.scalar(db.select(Programme.id).where(
            (func.lower(Programme.name) == name.lower())
            | Programme.created_by_id.is_(None)).limit(1)) is not None:
        return None
    programme = Programme(name=name, description=str(data.get("description") or "").strip(),
                          created_at=utcnow())
    db.session.add(programme)
    scripts = {s.slug: s for s in live_scripts()}
    for entry in data["items"]:
        days = parse_due_days(entry.get("due_days", 5))
        if "standards" in entry:
            for article in signable_articles():
                _append(programme, "article", article.title, days, article_id=article.id)
        elif "script" in entry:
            found = scripts.get(entry["script"])
            if found is not None:  # a script not (yet) imported is left out
                _append(programme, "script", str(entry.get("title") or found.title), days,
                        script_id=found.id)
        else:
            _append(programme, "task", " ".join(str(entry["task"]).split()), days)
    db.session.flush()
    audit.record(None, "induction.programme_created", programme,
                 {"name": programme.name, "items": len(programme.items), "source": "default"},
                 label=programme.name)
    return programme


def _append(programme: Programme, kind: str, title: str, days: int, **target) -> None:
    if len(programme.items) < MAX_ITEMS:
        programme.items.append(ProgrammeItem(kind=kind, title=title[:TITLE_MAX], due_days=days,
                                             position=len(programme.items) + 1, **target))
