"""Induction: programmes, who is enrolled, and the evidence of items done.

Task confirmations and script walk-throughs are evidence: append-only, like sign-offs
(the ORM refuses changes; the migration's triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models import Article, CallScript, User, utcnow
from kb.signoffs.models import refuse_delete, refuse_update

# --- Induction programmes -------------------------------------------------------------

ITEM_KINDS = ("article", "script", "task")


class Programme(db.Model):
    """An induction programme: an ordered list of items for a new starter."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[datetime | None]

    items: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="programme", order_by="ProgrammeItem.position",
        cascade="all, delete-orphan")


class ProgrammeItem(db.Model):
    """One item of a programme: an article to sign off, a call script to walk through to
    an end, or a task a manager confirms; due ``due_days`` after the start date."""

    __tablename__ = "programme_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # article | script | task
    title: Mapped[str] = mapped_column(String(200))  # a task's words; a document's title
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    script_id: Mapped[int | None] = mapped_column(ForeignKey("call_scripts.id"))
    due_days: Mapped[int] = mapped_column(default=5)

    programme: Mapped[Programme] = relationship(back_populates="items")
    article: Mapped[Article | None] = relationship(foreign_keys=[article_id])
    script: Mapped[CallScript | None] = relationship(foreign_keys=[script_id])


class Enrolment(db.Model):
    """A programme assigned to a new starter from a start date (one per person and
    programme)."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("programme_id", "user_id",
                                       name="uq_enrolments_programme_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)

    programme: Mapped[Programme] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])


class TaskConfirmation(db.Model):
    """A manager's confirmation that a new starter did a task item ("shadow three calls
    with a buddy"): evidence, append-only (triggers refuse UPDATE and DELETE), one per
    enrolment and item."""

    __tablename__ = "task_confirmations"
    __table_args__ = (UniqueConstraint("enrolment_id", "item_id",
                                       name="uq_task_confirmations_enrolment_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("programme_items.id"))
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(500), default="")

    confirmed_by: Mapped[User] = relationship(foreign_keys=[confirmed_by_id])


class ScriptWalkthrough(db.Model):
    """A user walked a call script from its start to one of its ends (recorded when they
    say so at the end step, through the ``script_walked`` signal). Append-only evidence."""

    __tablename__ = "script_walkthroughs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    script_id: Mapped[int] = mapped_column(ForeignKey("call_scripts.id"))
    version_number: Mapped[int]
    end_step: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(2000), default="")  # the step ids, comma-separated
    walked_at: Mapped[datetime]


APPEND_ONLY = (TaskConfirmation, ScriptWalkthrough)

for _model in APPEND_ONLY:
    event.listen(_model, "before_update", refuse_update)
    event.listen(_model, "before_delete", refuse_delete)
