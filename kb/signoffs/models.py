"""The sign-off record: append-only, one per user and version, chained by hash.

Kept here rather than in kb/models.py (nearly 500 lines); imported by this package, so it
is in the metadata whenever the app is built.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, event
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
    prev_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    article: Mapped[Article] = relationship(foreign_keys=[article_id])


@event.listens_for(SignOff, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    """Sign-offs are evidence: the application never changes one (the database's trigger
    refuses it too, for anyone below the application)."""
    raise RuntimeError(f"sign-off {target.id} cannot be changed")


@event.listens_for(SignOff, "before_delete")
def _refuse_delete(_mapper, _connection, target) -> None:
    """Sign-offs are evidence: the application never deletes one."""
    raise RuntimeError(f"sign-off {target.id} cannot be deleted")
