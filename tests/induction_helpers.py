"""Shared set-up for the induction tests: a call script with end steps, programmes,
enrolments, and signing a standard through the real service."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kb.extensions import db
from kb.induction.models import Enrolment, Programme, ProgrammeItem
from kb.models import Article, CallScript, User, utcnow
from kb.signoffs.services import Submission, sign

SCRIPT = """\
---
title: Lost key fob
category: Call handling
tags: [fob, key]
summary: Cancel a lost fob and order a new one.
owner: Contact Centre Manager
start: ask
---

## Ask what happened {#ask}

> When did you last have the fob?

- [It was stolen](#stolen)
- [It is lost](#lost)

## Stolen {#stolen .end}

> I'll cancel it straight away.

## Lost {#lost .end}

> I'll order a new one.
"""


def import_script(folder: Path) -> CallScript:
    """Write and import the lost-fob script (committed)."""
    from kb.callscripts.services import import_scripts

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lost-fob.md").write_text(SCRIPT, encoding="utf-8")
    assert import_scripts(folder).ok
    db.session.commit()
    return db.session.scalar(db.select(CallScript).filter_by(slug="lost-fob"))


def user(username: str) -> User:
    """The user called ``username``."""
    return db.session.scalar(db.select(User).filter_by(username=username))


def programme_with(*items: tuple, name: str = "Test induction") -> Programme:
    """A programme of (kind, target-or-title, due_days) items (flushed)."""
    programme = Programme(name=name, created_at=utcnow(), created_by_id=user("manager").id)
    for position, (kind, target, days) in enumerate(items, start=1):
        item = ProgrammeItem(kind=kind, position=position, due_days=days, title="")
        if kind == "article":
            item.article_id, item.title = target.id, target.title
        elif kind == "script":
            item.script_id, item.title = target.id, target.title
        else:
            item.title = target
        programme.items.append(item)
    db.session.add(programme)
    db.session.flush()
    return programme


def enrol(programme: Programme, who: User, start: date) -> Enrolment:
    """Enrol ``who`` from ``start`` (flushed; bypasses the rules, for set-up)."""
    enrolment = Enrolment(programme_id=programme.id, user_id=who.id, start_date=start)
    db.session.add(enrolment)
    db.session.flush()
    return enrolment


def sign_current(slug: str, who: User):
    """Sign the current version of ``slug`` as ``who`` (password "demo")."""
    article = db.session.scalar(db.select(Article).filter_by(slug=slug))
    return sign(slug, who, Submission(
        user_id=str(who.id), version_number=str(article.current_version.number),
        content_sha256=article.current_version.sha256, typed_name=who.display_name,
        password="demo", understood=True), address="10.0.0.9", user_agent="pytest")
