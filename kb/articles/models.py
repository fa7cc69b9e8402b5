"""Tables only the knowledge base writes: each person's pinned articles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.extensions import db
from kb.models import Article, utcnow


class PinnedArticle(db.Model):
    """An article a person keeps at the top of their home page."""

    __tablename__ = "pinned_articles"
    __table_args__ = (
        UniqueConstraint("user_id", "article_id", name="uq_pinned_articles_user_article"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship()
