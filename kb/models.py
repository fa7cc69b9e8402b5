"""Database models. The database is the source of truth; the search index is derived."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from kb.extensions import db

ROLES = ("agent", "manager", "admin")
# Higher roles can do everything lower roles can.
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


def utcnow() -> datetime:
    """Timezone-naive UTC now, the form stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def sha256_text(text: str) -> str:
    """Hex SHA-256 of text encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # One account per person at the identity provider (issuer + subject), however their
    # username or email there changes.
    __table_args__ = (db.Index("uq_users_oidc_issuer_subject", "oidc_issuer", "oidc_subject",
                               unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # Where sign-off reminders go (none: the app's banner only).
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    # Users and teams (issue 9): a team is a row, so sign-off assignment and "managers
    # manage their own team" point at one spelling of it.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Part of every session and remember-me cookie (see get_id): bumping it on sign-out,
    # a password change or deactivation makes every cookie issued before it worthless.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # History: when the user last opened "What's new" (the header counts material
    # updates after it). None = never looked; the count then covers the last 30 days.
    whats_new_seen_at: Mapped[datetime | None]
    # Single sign-on: the provider that vouches for this user and its id for them (the ID
    # token's iss and sub). Both None for local accounts.
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")
    team: Mapped[Team | None] = relationship(back_populates="members")

    def set_password(self, password: str) -> None:
        """Store a new password hash and end every session signed in with the old one."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Invalidate every session and remember-me cookie this user holds."""
        self.session_version = (self.session_version or 0) + 1

    def get_id(self) -> str:
        """Flask-Login's alternative id: the user id and the current session version."""
        return f"{self.id}:{self.session_version or 0}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has_role(self, role: str) -> bool:
        """True when this user's role is ``role`` or a higher one."""
        return ROLE_RANK.get(self.role, -1) >= ROLE_RANK[role]

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(120), default="")
    # Only a SHA-256 of the token is kept: tokens are long random strings, so a fast
    # hash is enough and lets a request be matched with one indexed lookup.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="tokens")


class VersionColumns:
    """The columns every immutable version table shares (articles', call scripts')."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    markdown: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    change_summary: Mapped[str] = mapped_column(String(500), default="")
    # Set when the version went through approval: the second manager who approved it.
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Article(db.Model):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(80), index=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    requires_signoff: Mapped[bool] = mapped_column(default=False)
    review_cycle_months: Mapped[int] = mapped_column(default=12)
    next_review_date: Mapped[date | None]
    # Review cycles (kb/reviews): a new version or "reviewed, no change" sets these.
    last_reviewed_at: Mapped[datetime | None]
    last_reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    source_path: Mapped[str | None] = mapped_column(String(500))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_versions.id", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Approval is optional per document (or per category, see CategorySetting).
    requires_approval: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # An archived document keeps its versions but leaves search and navigation.
    archived_at: Mapped[datetime | None]
    archived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Sign-offs (kb/signoffs): who must sign when requires_signoff is set (users of this
    # role, "all" or None: every role; in this team, None: every team), and the days they
    # have to sign a new material version.
    signoff_role: Mapped[str | None] = mapped_column(String(16), default="agent",
                                                     server_default="agent")
    signoff_team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    signoff_window_days: Mapped[int] = mapped_column(default=14, server_default="14")
    # Asked before signing (front matter ``questions:``): [{question, choices, answer}].
    signoff_questions: Mapped[list | None] = mapped_column(JSON)
    # Response standards the page shows (front matter ``standards:``): ["all"] for which
    # sets are in force, or channels for their dates for now; None for neither.
    response_standards: Mapped[list | None] = mapped_column(JSON)

    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article",
        foreign_keys="ArticleVersion.article_id",
        order_by="ArticleVersion.number",
    )
    current_version: Mapped[ArticleVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    last_reviewed_by: Mapped[User | None] = relationship(foreign_keys=[last_reviewed_by_id])

    def __repr__(self) -> str:
        return f"<Article {self.slug}>"


class ArticleVersion(VersionColumns, db.Model):
    """One immutable version of an article: what an agent reads and signs."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    material: Mapped[bool] = mapped_column(default=True)
    # The date the content says it last changed (front matter ``updated:``), if given;
    # "recently updated" shows it rather than the day the file was imported.
    content_date: Mapped[date | None]

    article: Mapped[Article] = relationship(
        back_populates="versions", foreign_keys=[article_id]
    )
    # foreign_keys: a version has a second link to users (approved_by_id).
    author: Mapped[User | None] = relationship(foreign_keys="ArticleVersion.author_id")


class SearchLog(db.Model):
    """Every search, for the search-analytics report."""

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(500))
    result_count: Mapped[int]
    category: Mapped[str | None] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    took_ms: Mapped[float] = mapped_column(default=0.0)
    source: Mapped[str] = mapped_column(String(16), default="page")
    # What the recogniser saw: a caller at risk, or a hazard in the home.
    crisis: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    emergency: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SearchVocabulary(db.Model):
    """A named search vocabulary (crisis, emergency, synonyms): text managers edit."""

    __tablename__ = "search_vocabularies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    text: Mapped[str] = mapped_column(Text, default="")
    # Bumped on every change: workers compare it (once a second) to know when to reload.
    version: Mapped[int] = mapped_column(default=1)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(db.Model):
    """Who changed what, append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200), default="")  # a readable label
    target_type: Mapped[str] = mapped_column(String(40), default="")  # e.g. "helpline"
    target_id: Mapped[str] = mapped_column(String(120), default="")  # its id, as text
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (db.Index("ix_audit_log_target", "target_type", "target_id"),)


class CallScript(db.Model):
    """A guided call script; its steps live in immutable versions like articles."""

    __tablename__ = "call_scripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(80), default="Call scripts")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    source_path: Mapped[str | None] = mapped_column(String(500))
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_script_versions.id", use_alter=True)
    )
    # slug -> article version number the script was last checked against. A script is
    # flagged for review while any cited article has moved past this.
    reviewed_citations: Mapped[dict] = mapped_column(JSON, default=dict)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Approval is optional per document (or per category, see CategorySetting).
    requires_approval: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # An archived document keeps its versions but leaves search and navigation.
    archived_at: Mapped[datetime | None]
    archived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    versions: Mapped[list[CallScriptVersion]] = relationship(
        back_populates="script",
        foreign_keys="CallScriptVersion.script_id",
        order_by="CallScriptVersion.number",
    )
    current_version: Mapped[CallScriptVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])


class CallScriptVersion(VersionColumns, db.Model):
    """One immutable version of a call script's source."""

    __tablename__ = "call_script_versions"
    __table_args__ = (UniqueConstraint("script_id", "number"),)

    script_id: Mapped[int] = mapped_column(ForeignKey("call_scripts.id"), index=True)
    cited_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)

    script: Mapped[CallScript] = relationship(
        back_populates="versions", foreign_keys=[script_id]
    )


class Helpline(db.Model):
    """A crisis helpline: data, not prose, so it can be verified and audited."""

    __tablename__ = "helplines"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    number: Mapped[str] = mapped_column(String(60))
    hours: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[str] = mapped_column(String(300), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    last_verified: Mapped[date | None]
    # "national": for a caller anywhere in the country, listed first; "local": after.
    coverage: Mapped[str] = mapped_column(String(20), default="national",
                                          server_default="national")
    verified_by: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CrisisIncident(db.Model):
    """Step 6 of the crisis plan: what happened on the call. Never edited once submitted."""

    __tablename__ = "crisis_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    occurred_at: Mapped[datetime]
    what_was_said: Mapped[str] = mapped_column(Text)
    caller_location: Mapped[str] = mapped_column(String(500), default="")
    support_partner: Mapped[str] = mapped_column(String(120), default="")
    emergency_services_called: Mapped[bool] = mapped_column(default=False)
    helplines_given: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")

    recorded_by: Mapped[User] = relationship()
    reviews: Mapped[list[CrisisIncidentReview]] = relationship(
        back_populates="incident", order_by="CrisisIncidentReview.created_at"
    )


class CrisisIncidentReview(db.Model):
    """A manager's review note on an incident record (append-only)."""

    __tablename__ = "crisis_incident_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("crisis_incidents.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    incident: Mapped[CrisisIncident] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()


# ----- history (versions, diffs, what's new) -----------------------------------------
# The header's "What's new" count runs on every page: it filters article versions by
# created_at, so that column is indexed (the table only grows).
db.Index("ix_article_versions_created_at", ArticleVersion.created_at)


# --- Users and teams (issue 9) -------------------------------------------------------


class Team(db.Model):
    """A team of users: what a manager manages, and (later) what sign-offs are set for."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="team")

    def __str__(self) -> str:  # templates print a user's team as its name
        return self.name

    def __repr__(self) -> str:
        return f"<Team {self.name}>"


# --- Feedback and search analytics (kb/feedback, kb/analytics) ---------------------------

FEEDBACK_KINDS = ("answered", "outdated")


class ArticleFeedback(db.Model):
    """An agent's "this answered my question" or "this is out of date or wrong"."""

    __tablename__ = "article_feedback"
    __table_args__ = (
        db.Index("ix_article_feedback_open", "resolved_at", "created_at"),
        # "answered" once per user and version; out-of-date reports may be several.
        db.Index(
            "uq_article_feedback_answered", "article_id", "version_number", "user_id",
            unique=True, sqlite_where=db.text("kind = 'answered'"),
            postgresql_where=db.text("kind = 'answered'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    version_number: Mapped[int]  # the version the agent was reading
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # one of FEEDBACK_KINDS
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str] = mapped_column(Text, default="")

    article: Mapped[Article] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    @property
    def is_open(self) -> bool:
        """An out-of-date report nobody has resolved yet ("answered" is never open)."""
        return self.kind == "outdated" and self.resolved_at is None


class KnowledgeGap(db.Model):
    """A search that found nothing useful, reported by an agent with "Tell the knowledge
    team": written by the search page, read and resolved in search analytics."""

    __tablename__ = "knowledge_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(500))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    search_log_id: Mapped[int | None] = mapped_column(ForeignKey("search_log.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class ArticleView(db.Model):
    """One opening of an article or call script (a usage log, like SearchLog), with the
    search and result rank it came from when it came from one."""

    __tablename__ = "article_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id"), index=True)
    call_script_id: Mapped[int | None] = mapped_column(ForeignKey("call_scripts.id"),
                                                       index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    search_log_id: Mapped[int | None] = mapped_column(ForeignKey("search_log.id"), index=True)
    rank: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# The analytics' scans of search_log: crisis searches per day read only the few crisis
# rows; the query reports read (created_at, query, result_count, source) from the index
# alone, without visiting the table.
db.Index("ix_search_log_crisis_created_at", SearchLog.crisis, SearchLog.created_at)
db.Index("ix_search_log_created_at_query", SearchLog.created_at, SearchLog.query,
         SearchLog.result_count, SearchLog.source)
# A person's recently viewed articles (the home page) read their own views, newest first.
db.Index("ix_article_views_user_created", ArticleView.user_id, ArticleView.created_at)
# ----- publishing (issue 9): drafts, approval, slug redirects, archive -----------------

DRAFT_STATES = ("draft", "pending", "returned")  # returned: sent back with a comment
DOCUMENT_KINDS = ("article", "script")


class Draft(db.Model):
    """A manager's unpublished change to one document (or a document not created yet)."""

    __tablename__ = "drafts"
    # One open draft per document; drafts of new documents (document_id NULL) may be many.
    __table_args__ = (UniqueConstraint("kind", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "article" or "script"
    document_id: Mapped[int | None]
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # front matter, slug included
    markdown: Mapped[str] = mapped_column(Text, default="")
    base_version: Mapped[int] = mapped_column(default=0)  # 0: a new document
    state: Mapped[str] = mapped_column(String(16), default="draft")
    change_summary: Mapped[str] = mapped_column(String(500), default="")
    material: Mapped[bool] = mapped_column(default=True)
    comment: Mapped[str] = mapped_column(Text, default="")  # why it was sent back
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])


class SlugRedirect(db.Model):
    """An old slug of a renamed document: its page redirects to the document's slug now."""

    __tablename__ = "slug_redirects"
    __table_args__ = (UniqueConstraint("kind", "old_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    old_slug: Mapped[str] = mapped_column(String(120))
    # Points at the document, not at the next slug, so a chain of renames is one hop.
    document_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CategorySetting(db.Model):
    """Per-category publishing settings: whether changes need a second manager's approval."""

    __tablename__ = "category_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(80), unique=True)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
