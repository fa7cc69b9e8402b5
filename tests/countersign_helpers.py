"""Shared set-up for the countersigning tests: people in two teams, their signatures, and
countersigning through the service."""

from __future__ import annotations

from kb.extensions import db
from kb.models import Article
from kb.signoffs.countersign import Countersigning, countersign
from kb.signoffs.models import Countersignature, SignOff
from kb.signoffs.services import Submission, sign
from tests.signoff_helpers import standard, user

TEXT = "## Greeting\n\nAnswer within 20 seconds and give your name.\n"
# Demo accounts sign with "demo"; people made by make_user with "pw-<username>".
PASSWORDS = {"agent": "demo", "newstarter": "demo", "manager": "demo", "admin": "demo"}


def password_of(username: str) -> str:
    """The password of a demo account or of a user made by ``make_user``."""
    return PASSWORDS.get(username, "pw-" + username)


def sign_as(username: str, slug: str = "greeting") -> SignOff:
    """Sign the current version of ``slug`` as ``username`` and commit."""
    who = user(username)
    article = db.session.scalar(db.select(Article).filter_by(slug=slug))
    record = sign(slug, who, Submission(
        user_id=str(who.id), version_number=str(article.current_version.number),
        content_sha256=article.current_version.sha256, typed_name=who.display_name,
        password=password_of(username), understood=True), address="10.0.0.7",
        user_agent="pytest")
    db.session.commit()
    return record


def countersign_as(username: str, ids, *, typed_name: str | None = None,
                   password: str | None = None, commit: bool = True):
    """Countersign sign-offs ``ids`` as ``username`` through the service."""
    who = user(username)
    records = countersign(who, Countersigning(
        [str(n) for n in ids], who.display_name if typed_name is None else typed_name,
        password_of(username) if password is None else password),
        address="10.0.0.9", user_agent="pytest manager")
    if commit:
        db.session.commit()
    return records


def countersignatures() -> list[Countersignature]:
    """Every countersignature, in chain order."""
    return list(db.session.scalars(db.select(Countersignature).order_by(Countersignature.seq)))


def sign_everyone(app, make_user) -> dict[str, int]:
    """The demo agent and new starter (the manager's team, "Contact centre") and Otto (team
    "Outreach") sign "greeting"; the manager and the admin sign "for-everyone". Returns
    {name: sign-off id}, oldest first."""
    make_user("otto", display_name="Otto Outreach", team="Outreach")
    with app.app_context():
        standard("greeting", TEXT)
        standard("for-everyone", TEXT, signoff_role="all")
        db.session.commit()
        ids = {name: sign_as(name).id for name in ("agent", "newstarter", "otto")}
        ids["manager"] = sign_as("manager", "for-everyone").id
        ids["admin"] = sign_as("admin", "for-everyone").id
    return ids
