"""Response standards and the sets they belong to (only the due-date tool writes them).

A set is one body of standards with its own bank holiday calendar: the centre's own
policy, or a regulator's pack loaded with ``flask --app kb load-standards``. Managers put
sets in or out of force; the calculator offers the standards of every set in force.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models import utcnow

POLICY_SET = "policy"  # the key of the set shipped in kb/data/response_standards.yml


class StandardSet(db.Model):
    """A body of response standards: our policy, or a regulatory pack."""

    __tablename__ = "standard_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    # ENG, SCT, NIR (or WLS); None follows the installation's KB_HOLIDAY_REGION.
    region: Mapped[str | None] = mapped_column(String(3))
    in_force: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    # Where the figures come from, and when someone last checked them against it.
    source: Mapped[str] = mapped_column(Text, default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    checked_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The sha256 of the pack file last loaded (None for sets made on the site).
    pack_digest: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    standards: Mapped[list[ResponseStandard]] = relationship(
        back_populates="standard_set",
        order_by="(ResponseStandard.position, ResponseStandard.id)")


class ResponseStandard(db.Model):
    """How soon a reply or repair is due, e.g. 'email: three working days'."""

    __tablename__ = "response_standards"

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("standard_sets.id"), index=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(60))
    # One of kb.tools.duedates.arithmetic.RULE_KINDS, with ``amount`` where it needs one.
    rule: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(default=0)
    # An EVENTS name ("received", "escalated"...) or the key of a standard in the same set.
    counts_from: Mapped[str] = mapped_column(String(60), default="received",
                                             server_default="received")
    # The EVENTS name recorded when this step is done ("acknowledged"), or "".
    event: Mapped[str] = mapped_column(String(40), default="", server_default="")
    extension_days: Mapped[int] = mapped_column(default=0, server_default="0")
    extension_note: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # What we will do, in words read to the caller: "reply to your complaint".
    promise: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Where the figure comes from: "Complaint Handling Code, 6.2".
    citation: Mapped[str] = mapped_column(String(300), default="", server_default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    standard_set: Mapped[StandardSet] = relationship(back_populates="standards")
