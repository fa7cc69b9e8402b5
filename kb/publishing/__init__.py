"""Publishing for managers: the editor, drafts, approval, conflicts, archive and restore."""

from flask import Blueprint

bp = Blueprint("publishing", __name__, url_prefix="/publishing")

from kb.publishing import approval_views, views  # noqa: E402,F401  (register the routes)
