"""Users and teams: who may manage whom, and every change to an account (audited).

The rule, checked here on every change (views only hide buttons):

- an admin manages every user but themself, may give any role and any team;
- a manager manages only the agents of their own team (not other managers, not admins,
  not anyone while they have no team), may give only the agent role, and only their own
  team;
- nobody changes their own role, team, password or active state here (another admin
  does, or ``flask set-password``), so nobody locks themself out by a slip;
- there must always be one active admin: the change that would leave none is refused,
  re-checked on rows locked inside the transaction, so two admins demoting each other at
  the same moment cannot both succeed;
- there is no delete: sign-offs, versions and the audit log point at users, and a
  deactivated account keeps that history readable and its username reserved.

API tokens: a user manages their own; anyone who manages a user manages theirs too.
Services flush; the view commits.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence

from sqlalchemy import or_

from kb.auth.services import AccountError, issue_token, team_named
from kb.auth.services import create_user as create_account
from kb.core.audit import record
from kb.core.errors import Invalid, NotAllowed, NotFound
from kb.core.mail import ADDRESS_MAX, is_address
from kb.core.permissions import require
from kb.extensions import db
from kb.models import ROLE_RANK, ROLES, ApiToken, Team, User

PASSWORD_MIN = 8  # for passwords typed in the browser (the demo's "demo" is CLI-only)
PASSWORD_MAX = 256
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DISPLAY_NAME_MAX = 120
TEAM_NAME_MAX = 120
TOKEN_NAME_MAX = 120


def _rank(role: str) -> int:
    return ROLE_RANK.get(role, -1)


def can_manage(actor, target: User) -> bool:
    """True when ``actor`` may change ``target``'s role, team, password or active state."""
    if actor is None or not actor.is_authenticated or actor.id == target.id:
        return False
    if actor.has_role("admin"):
        return True
    return (
        actor.has_role("manager")
        and actor.team_id is not None
        and target.team_id == actor.team_id
        and _rank(target.role) < _rank(actor.role)
    )


def can_manage_tokens(actor, target: User) -> bool:
    """True when ``actor`` may list, create and revoke ``target``'s API tokens."""
    if actor is None or not actor.is_authenticated:
        return False
    return actor.id == target.id or can_manage(actor, target)


def grantable_roles(actor) -> tuple[str, ...]:
    """The roles ``actor`` may give: every role for an admin, lower ones for a manager."""
    if actor.has_role("admin"):
        return ROLES
    return tuple(role for role in ROLES if _rank(role) < _rank(actor.role))


def assignable_teams(actor) -> list[Team]:
    """The teams ``actor`` may put a user in: all for an admin, their own for a manager."""
    if actor.has_role("admin"):
        return list_teams()
    return [actor.team] if actor.team is not None else []


def list_teams() -> list[Team]:
    """Every team, by name."""
    return list(db.session.scalars(db.select(Team).order_by(Team.name)))


def team_sizes() -> dict[int, int]:
    """Active members per team id."""
    rows = db.session.execute(
        db.select(User.team_id, db.func.count(User.id))
        .where(User.active.is_(True), User.team_id.is_not(None))
        .group_by(User.team_id)
    )
    return {team_id: count for team_id, count in rows}


def list_users(actor) -> list[User]:
    """The users ``actor`` may see here: all for an admin, their team for a manager."""
    require(actor, "manager")
    query = db.select(User).order_by(User.active.desc(), db.func.lower(User.display_name))
    if not actor.has_role("admin"):
        if actor.team_id is None:
            return [actor]
        query = query.where(User.team_id == actor.team_id)
    return list(db.session.scalars(query))


def get_user(user_id: int) -> User:
    """The user with this id; NotFound otherwise."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user {user_id}.")
    return user


def require_manage(actor, target: User) -> None:
    """NotAllowed unless ``actor`` may manage ``target`` (see the rule at the top)."""
    if not can_manage(actor, target):
        if actor is not None and getattr(actor, "id", None) == target.id:
            raise NotAllowed("You cannot change your own account here. Ask another admin.")
        raise NotAllowed(f"You cannot manage {target.username}.")


def _lock(actor, target: User) -> None:
    """Re-read the actor, the target and every active admin, locked for this transaction
    (FOR UPDATE on PostgreSQL; SQLite has one writer at a time), so the checks that follow
    see what a concurrent request committed a moment ago."""
    ids = [target.id] + ([actor.id] if getattr(actor, "id", None) else [])
    db.session.execute(
        db.select(User)
        .where(or_(User.id.in_(ids), (User.role == "admin") & User.active.is_(True)))
        .order_by(User.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()


def _guard_last_admin(target: User) -> None:
    """Refuse a change that takes away the last active admin (call after ``_lock``)."""
    if target.role != "admin" or not target.active:
        return
    others = db.session.scalar(
        db.select(db.func.count(User.id)).where(
            User.role == "admin", User.active.is_(True), User.id != target.id
        )
    )
    if not others:
        raise Invalid(
            "role", f"{target.username} is the last active admin. Make someone else an "
            "admin first, so the site always has one."
        )


def _team_for(actor, team_id: int | None) -> Team | None:
    """The team ``actor`` chose (None: no team); Invalid when it is not theirs to give."""
    if not team_id:
        if not actor.has_role("admin"):
            raise Invalid("team", "Choose your team: you manage only its members.")
        return None
    team = db.session.get(Team, team_id)
    allowed = {t.id for t in assignable_teams(actor)}
    if team is None or team.id not in allowed:
        raise Invalid("team", "Choose one of the teams listed.")
    return team


def _check_role(actor, role: str) -> None:
    if role not in ROLES:
        raise Invalid("role", f"Role must be one of: {', '.join(ROLES)}.")
    if role not in grantable_roles(actor):
        raise Invalid("role", f"You cannot give the {role} role; an admin can.")


def check_password(password: str, field: str = "password") -> None:
    """Invalid unless the password is long enough (and not absurdly long)."""
    if len(password) < PASSWORD_MIN:
        raise Invalid(field, f"Passwords must be at least {PASSWORD_MIN} characters. Leave "
                      "it empty to have one made for you.")
    if len(password) > PASSWORD_MAX:
        raise Invalid(field, f"Passwords are at most {PASSWORD_MAX} characters.")


def clean_email(email: str | None) -> str | None:
    """The address as stored (None when empty); Invalid unless it looks deliverable."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > ADDRESS_MAX:
        raise Invalid("email", f"Email addresses are at most {ADDRESS_MAX} characters.")
    if not is_address(email):
        raise Invalid("email", "Enter an email address like sam.jones@example.org, or leave "
                      "it empty.")
    return email


def generate_password() -> str:
    """A random password to read out or paste once (about 96 bits)."""
    return secrets.token_urlsafe(12)


def _team_name(team: Team | None) -> str | None:
    return team.name if team is not None else None


def create_user(
    actor,
    *,
    username: str,
    display_name: str,
    role: str,
    team_id: int | None,
    password: str | None = None,
    email: str | None = None,
) -> tuple[User, str | None]:
    """Create an account; returns it and the generated password (None when one was
    typed), which is shown once and never stored."""
    require(actor, "manager")
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise Invalid("username", "Usernames are 1 to 64 lower-case letters, digits, '.', "
                      "'-' or '_', starting with a letter or digit.")
    if db.session.scalar(db.select(User.id).filter_by(username=username)) is not None:
        raise Invalid("username", f"There is already a user called {username}.")
    display_name = " ".join((display_name or "").split())
    if not display_name:
        raise Invalid("display_name", "Enter the name people know them by.")
    if len(display_name) > DISPLAY_NAME_MAX:
        raise Invalid("display_name", f"Names are at most {DISPLAY_NAME_MAX} characters.")
    _check_role(actor, role)
    team = _team_for(actor, team_id)
    email = clean_email(email)
    generated = None
    if password:
        check_password(password)
    else:
        password = generated = generate_password()
    try:
        user = create_account(username, password, role=role, display_name=display_name,
                              team=team)
    except AccountError as error:  # the account rules' own last word
        raise Invalid("username", str(error)) from None
    user.email = email
    detail = {"role": role, "team": _team_name(team), "password_generated": generated is not None}
    if email:
        detail["email"] = email
    record(actor, "user.created", user, detail, label=user.username)
    return user, generated


def update_user(actor, user_id: int, *, role: str, team_id: int | None) -> list[str]:
    """Change a user's role and team; returns what changed ("role", "team")."""
    require(actor, "manager")
    target = get_user(user_id)
    _lock(actor, target)
    require_manage(actor, target)
    _check_role(actor, role)
    team = _team_for(actor, team_id)
    changed = []
    if role != target.role:
        if _rank(role) < _rank("admin"):
            _guard_last_admin(target)
        record(actor, "user.role_changed", target, {"before": target.role, "after": role},
               label=target.username)
        target.role = role
        changed.append("role")
    if (team.id if team else None) != target.team_id:
        record(actor, "user.team_changed", target,
               {"before": _team_name(target.team), "after": _team_name(team)},
               label=target.username)
        target.team = team
        changed.append("team")
    db.session.flush()
    return changed


def set_email(actor, user_id: int, email: str | None) -> bool:
    """Set (or, empty, clear) where a user's sign-off reminders go; False when unchanged."""
    require(actor, "manager")
    target = get_user(user_id)
    require_manage(actor, target)
    email = clean_email(email)
    if email == target.email:
        return False
    record(actor, "user.email_changed", target, {"before": target.email, "after": email},
           label=target.username)
    target.email = email
    db.session.flush()
    return True


def reset_password(actor, user_id: int, password: str | None = None) -> str | None:
    """Give a user a new password and end every session they hold; returns the generated
    password (None when one was typed). The password itself is never logged."""
    require(actor, "manager")
    target = get_user(user_id)
    _lock(actor, target)
    require_manage(actor, target)
    generated = None
    if password:
        check_password(password)
    else:
        password = generated = generate_password()
    target.set_password(password)  # bumps session_version: every old session ends
    record(actor, "user.password_reset", target, {"password_generated": generated is not None},
           label=target.username)
    db.session.flush()
    return generated


def set_active(actor, user_id: int, active: bool) -> bool:
    """Deactivate (every session ends) or reactivate a user; False when already so."""
    require(actor, "manager")
    target = get_user(user_id)
    _lock(actor, target)
    require_manage(actor, target)
    if target.active == active:
        return False
    if not active:
        _guard_last_admin(target)
    target.active = active
    target.end_sessions()  # reactivating must not revive a session from before either
    record(actor, "user.reactivated" if active else "user.deactivated", target, {},
           label=target.username)
    db.session.flush()
    return True


def set_active_from_cli(username: str, active: bool) -> User:
    """``flask deactivate-user``: the same last-admin rule, audited with no actor."""
    target = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if target is None:
        raise NotFound(f"No user called {username!r}.")
    _lock(None, target)
    if target.active != active:
        if not active:
            _guard_last_admin(target)
        target.active = active
        target.end_sessions()
        record(None, "user.reactivated" if active else "user.deactivated", target,
               {"via": "command line"}, label=target.username)
        db.session.flush()
    return target


def create_team(actor, name: str) -> Team:
    """Add a team (admins only); names are unique ignoring case."""
    require(actor, "admin", "Only an admin can add teams.")
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("name", "Enter the team's name.")
    if len(name) > TEAM_NAME_MAX:
        raise Invalid("name", f"Team names are at most {TEAM_NAME_MAX} characters.")
    if team_named(name) is not None:
        raise Invalid("name", f"There is already a team called {name}.")
    team = team_named(name, create=True)
    record(actor, "team.created", team, {"name": team.name}, label=team.name)
    return team


# --- API tokens ----------------------------------------------------------------------


def _token_owner(actor, user_id: int) -> User:
    target = get_user(user_id)
    if not can_manage_tokens(actor, target):
        raise NotAllowed(f"You cannot manage {target.username}'s API tokens.")
    return target


def list_tokens(actor, user_id: int) -> tuple[User, Sequence[ApiToken]]:
    """A user's API tokens, newest first (revoked ones too: they are history)."""
    target = _token_owner(actor, user_id)
    tokens = db.session.scalars(
        db.select(ApiToken).where(ApiToken.user_id == target.id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all()
    return target, tokens


def create_token(actor, user_id: int, name: str) -> tuple[str, ApiToken]:
    """Make a token for a user; returns the token (to show once; only its hash is kept)."""
    target = _token_owner(actor, user_id)
    name = " ".join((name or "").split())
    if not name:
        raise Invalid("name", "Say what the token is for, e.g. 'CRM widget'.")
    if len(name) > TOKEN_NAME_MAX:
        raise Invalid("name", f"Token names are at most {TOKEN_NAME_MAX} characters.")
    try:
        token, row = issue_token(target, name)
    except AccountError as error:
        raise Invalid("name", str(error)) from None
    record(actor, "token.created", row, {"user": target.username, "name": name},
           label=f"{target.username}: {name}")
    return token, row


def revoke_token(actor, user_id: int, token_id: int) -> ApiToken:
    """Revoke one of a user's tokens: the next request with it gets 401."""
    target = _token_owner(actor, user_id)
    row = db.session.get(ApiToken, token_id)
    if row is None or row.user_id != target.id:
        raise NotFound(f"No token {token_id} for {target.username}.")
    if not row.revoked:
        row.revoked = True
        record(actor, "token.revoked", row, {"user": target.username, "name": row.name},
               label=f"{target.username}: {row.name}")
        db.session.flush()
    return row
