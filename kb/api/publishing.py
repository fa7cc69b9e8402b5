"""Publishing API: create and update articles from a script or a git sync (DESIGN.md).

Token-authenticated calls skip the CSRF check (a browser cannot forge a bearer token
cross-site); a call authenticated only by the session cookie must carry the CSRF token.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from kb.api import bp
from kb.api.shapes import article_json
from kb.auth.services import user_for_token
from kb.core.errors import Invalid, NotAllowed, NotFound
from kb.core.permissions import require
from kb.extensions import csrf, db
from kb.publishing import services, validation
from kb.publishing.services import StaleVersion
from kb.search.services import IndexUnavailable, sync_index

# Fields a PUT that leaves them out keeps as they are. signoff_role, signoff_window_days,
# signoff_team_id (null: every team) and questions (the front matter's list, null: none)
# are kept too when left out: validation.clean_signoff_fields falls back to the article.
EDITABLE = ("title", "slug", "category", "tags", "summary", "owner", "review_cycle_months",
            "requires_signoff", "requires_approval")


def _caller():
    """The manager making the call: by bearer token, or by session plus CSRF token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        user = user_for_token(token.strip())
        if user is not None:
            return user
    csrf.protect()  # raises CSRFError (400) for a cookie-only call without the token
    return current_user


def _error(status: int, message: str, field: str | None = None):
    """A JSON error naming the field at fault."""
    return jsonify(error=message, field=field), status


def _body() -> dict:
    """The JSON object sent; raises Invalid when it is not one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise Invalid("body", "Send a JSON object (Content-Type: application/json).")
    return data


def _synced(payload: dict) -> dict:
    """Bring the index in line after the commit; say so when it will catch up later."""
    try:
        sync_index()
        payload["indexed"] = True
    except IndexUnavailable:
        payload["indexed"] = False  # the change is published; search catches up later
    return payload


def _pending(draft) -> dict:
    """The 202 answer for a change that waits for approval."""
    return {"state": draft.state, "draft_id": draft.id, "slug": draft.fields.get("slug"),
            "base_version": draft.base_version,
            "message": "This article needs a second manager's approval; the change is "
                       "waiting in the approval queue."}


def _save(user, article, data: dict, base_version: int):
    """Validate and publish (or submit) a change; returns (status, payload)."""
    markdown = validation.clean_markdown(data.get("markdown"))
    fields = validation.clean_article_fields(data, article)
    summary, material = validation.clean_change(data.get("change_summary"),
                                              data.get("material", True))
    if services.approval_required("article", article, fields, markdown):
        draft = services.submit_for_approval(user, "article", article, fields, markdown,
                                             base_version, summary, material)
        db.session.commit()
        return 202, _pending(draft)
    article, _version = services.publish_change(user, "article", article, fields, markdown,
                                                base_version, summary, material)
    db.session.commit()
    return None, _synced(article_json(article))


def _answer(work):
    """Run ``work()`` and map domain errors to the contract's JSON answers."""
    try:
        return work()
    except NotAllowed as error:
        db.session.rollback()
        return _error(403, str(error))
    except StaleVersion as stale:
        db.session.rollback()
        current = stale.document.current_version
        return jsonify(error="The article has changed since base_version; nothing was "
                             "saved. Merge with the current version and send it again.",
                       field="base_version", base_version=stale.base,
                       current={"version": current.number, "sha256": current.sha256,
                                "markdown": current.markdown}), 409
    except Invalid as error:
        db.session.rollback()
        return _error(400, error.message, error.field)


@bp.route("/articles", methods=["POST"])
@csrf.exempt
def create_article():
    """POST /api/articles (managers): 201 with the article, or 202 when it needs approval."""
    user = _caller()

    def work():
        require(user, "manager", "Only managers can publish articles.")
        status, payload = _save(user, None, _body(), 0)
        return jsonify(payload), status or 201

    return _answer(work)


@bp.route("/articles/<slug>", methods=["PUT"])
@csrf.exempt
def update_article(slug: str):
    """PUT /api/articles/<slug> with base_version: 200, 202 (approval) or 409 (stale)."""
    user = _caller()

    def work():
        require(user, "manager", "Only managers can publish articles.")
        try:
            article = services.get_document("article", slug)
        except NotFound:
            return _error(404, f"No article has the slug {slug!r}.", "slug")
        data = _body()
        base = data.get("base_version")
        if isinstance(base, bool) or not isinstance(base, int) or base < 0:
            raise Invalid("base_version", "base_version must be the whole version number "
                          "the change was made from (GET /api/articles/<slug> gives it).")
        current = {name: getattr(article, name) for name in EDITABLE}
        current["markdown"] = article.current_version.markdown
        status, payload = _save(user, article, {**current, **data}, base)
        return jsonify(payload), status or 200

    return _answer(work)
