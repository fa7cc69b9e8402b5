"""Role checks: one ``require`` for services, and the view decorator built on it."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from kb.core.errors import NotAllowed
from kb.models import ROLES


def require(user, role: str, message: str | None = None) -> None:
    """Raise NotAllowed unless ``user`` is signed in and holds ``role`` or a higher one."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if user is None or not user.is_authenticated or not user.has_role(role):
        raise NotAllowed(message or f"Only a {role} (or above) can do this.")


def role_required(role: str):
    """View decorator: the signed-in user must hold ``role`` or a higher one."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            from kb.extensions import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            try:
                require(current_user, role)
            except NotAllowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
