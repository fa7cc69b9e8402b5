"""Sign-offs and induction: the records this feature owns.

Sign-offs, countersignatures, task confirmations and script walk-throughs are evidence:
append-only (the ORM refuses changes, and the migrations' triggers refuse UPDATE and
DELETE below it). A feature keeps the tables only it writes in its own ``models.py``;
``kb/models.py`` holds the tables several features share (users, teams, documents).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models import Article, CallScript, User, utcnow

MEANING = "read and understood"
GENESIS_HASH = "0" * 64  # the previous hash of the first record


class SignOff(db.Model):
    """One user's signature on one version of a document. Never updated or deleted: the
    migration's triggers refuse both, and ``record_hash`` chains it to the record before."""

    __tablename__ = "signoffs"
    # A double submit, even a simultaneous one, records one signature. (A call script
    # would get its own nullable column and unique constraint; ``kind`` says which.)
    __table_args__ = (
        UniqueConstraint("user_id", "article_id", "version_number",
                         name="uq_signoffs_user_article_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Position in the chain, 1, 2, 3...: a deleted record leaves a gap the verifier reports.
    seq: Mapped[int] = mapped_column(unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16), default="article")
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("article_versions.id"))
    version_number: Mapped[int]
    content_sha256: Mapped[str] = mapped_column(String(64))
    typed_name: Mapped[str] = mapped_column(String(120))
    meaning: Mapped[str] = mapped_column(String(80), default=MEANING)
    signed_at: Mapped[datetime]
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    answers: Mapped[list | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    article: Mapped[Article] = relationship(foreign_keys=[article_id])


@event.listens_for(SignOff, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    """Sign-offs are evidence: the application never changes one (the database's trigger
    refuses it too, for anyone below the application)."""
    raise RuntimeError(f"{type(target).__name__} {target.id} is evidence: it cannot be changed")


@event.listens_for(SignOff, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    """Sign-offs are evidence: the application never deletes one."""
    raise RuntimeError(f"{type(target).__name__} {target.id} is evidence: it cannot be deleted")


# --- Countersigning (the manager's half of the paper form) ---------------------------

COUNTERSIGN_MEANING = "countersigned"


class Countersignature(db.Model):
    """A team leader's or manager's countersignature on one sign-off: append-only like the
    sign-off itself (triggers refuse UPDATE and DELETE), one per sign-off, and chained by
    hash in a chain of its own (``seq``, ``prev_hash``, ``record_hash``)."""

    __tablename__ = "countersignatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    # One countersignature per sign-off: a double submit, even a simultaneous one, records one.
    signoff_id: Mapped[int] = mapped_column(ForeignKey("signoffs.id"), unique=True)
    countersigner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    typed_name: Mapped[str] = mapped_column(String(120))
    meaning: Mapped[str] = mapped_column(String(80), default=COUNTERSIGN_MEANING)
    countersigned_at: Mapped[datetime]
    client_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(400), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)

    signoff: Mapped[SignOff] = relationship(foreign_keys=[signoff_id])
    countersigner: Mapped[User] = relationship(foreign_keys=[countersigner_id])


# --- Reminders ------------------------------------------------------------------------

class Reminder(db.Model):
    """One reminder sent (or, for the manager's copy, one overdue item reported): recorded
    so that ``send-reminders`` run again the same day sends nothing twice. ``key`` is unique:
    recipient, the person who owes the sign-off, document, material version, kind and (for
    the daily overdue reminder) the day."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    subject_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # who owes it
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"))
    # opened | due_in_7 | due_in_1 | due_today | overdue | manager_overdue | induction_overdue
    kind: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date | None] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(index=True)
    address: Mapped[str] = mapped_column(String(254))  # the email address it went to


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


APPEND_ONLY = (SignOff, Countersignature, TaskConfirmation, ScriptWalkthrough)


for _model in APPEND_ONLY[1:]:
    event.listen(_model, "before_update", _refuse_update)
    event.listen(_model, "before_delete", _refuse_delete)
