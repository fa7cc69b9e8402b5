"""Sign-offs: the records this feature owns.

Sign-offs and countersignatures are evidence: append-only (the ORM refuses changes, and
the migrations' triggers refuse UPDATE and DELETE below it). A feature keeps the tables
only it writes in its own ``models.py``; ``kb/models.py`` holds the tables several
features share (users, teams, documents, versions).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models import Article, User

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
    # How the signer proved it was them at the moment of signing: "password", or
    # "sso <issuer> auth_time <ISO time>" (see kb.auth.reauth). None on records made before
    # it was kept; hashed when set.
    reauth: Mapped[str | None] = mapped_column(String(300))
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    article: Mapped[Article] = relationship(foreign_keys=[article_id])


@event.listens_for(SignOff, "before_update")
def refuse_update(_mapper, _connection, target) -> None:
    """Evidence is never changed by the application (the database's trigger refuses it
    too, for anyone below the application); listened for on every append-only model."""
    raise RuntimeError(f"{type(target).__name__} {target.id} is evidence: it cannot be changed")


@event.listens_for(SignOff, "before_delete")
def refuse_delete(_mapper, _connection, target) -> None:
    """Evidence is never deleted by the application."""
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
    reauth: Mapped[str | None] = mapped_column(String(300))  # as SignOff.reauth
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


APPEND_ONLY = (SignOff, Countersignature)


event.listen(Countersignature, "before_update", refuse_update)
event.listen(Countersignature, "before_delete", refuse_delete)
