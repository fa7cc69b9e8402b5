"""Sending feedback from an article page, and the managers' feedback queue."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from kb.bounds import page_arg
from kb.core.errors import Invalid
from kb.core.permissions import role_required
from kb.extensions import db
from kb.feedback import bp
from kb.feedback.forms import FeedbackForm, ResolveForm
from kb.feedback.services import (
    KIND_LABELS,
    MAX_COMMENT,
    STATES,
    FeedbackNotFound,
    counts_by_article,
    feedback_queue,
    resolve,
    send_feedback,
)
from kb.models import FEEDBACK_KINDS

NOT_SAVED = "Nothing was sent: the database could not be written just now. Please try again."


def _wants_json() -> bool:
    """True for the in-place submit of feedback.js (the form works without it)."""
    return request.headers.get("X-Requested-With") == "fetch"


@bp.post("/articles/<slug>")
def send(slug: str):
    """Store an agent's feedback on the version of the article they were reading."""
    form = FeedbackForm()
    kind = request.form.get("kind")
    if not form.validate_on_submit():  # only the CSRF token can fail here
        return _refused(slug, form, kind, "comment",
                        "The form had expired; nothing was sent. Please send it again.")
    try:
        sent = send_feedback(slug, kind, form.version.data, form.comment.data, current_user)
        db.session.commit()
    except FeedbackNotFound:
        abort(404)
    except Invalid as error:
        db.session.rollback()
        return _refused(slug, form, kind, error.field, error.message)
    except SQLAlchemyError:
        db.session.rollback()
        return _refused(slug, form, kind, "comment", NOT_SAVED, status=503)
    if _wants_json():
        return jsonify(ok=True, created=sent.created, message=sent.message)
    flash(sent.message, "success" if sent.created else "info")
    return redirect(url_for("articles.article", slug=slug))


def _refused(slug: str, form: FeedbackForm, kind: str | None, field: str, message: str,
             status: int = 400):
    """Say why nothing was sent; without JavaScript, the form again with the comment kept."""
    if _wants_json():
        return jsonify(ok=False, field=field, message=message), status
    return render_template("feedback/send.html", slug=slug, form=form, kind=kind,
                           field=field, message=message, max_comment=MAX_COMMENT,
                           kinds=KIND_LABELS), status


def _filters() -> dict:
    """The queue's filters from the query string; unknown values are ignored."""
    kind = request.args.get("kind", "")
    state = request.args.get("state", "")
    return {
        "article": request.args.get("article", "").strip()[:120] or None,
        "kind": kind if kind in FEEDBACK_KINDS else None,
        "state": state if state in STATES else None,
    }


@bp.route("/")
@role_required("manager")
def queue():
    """Managers' feedback queue: open reports first; filter by article, kind and state."""
    filters = _filters()
    return _render_queue(filters, page_arg(), ResolveForm())


def _render_queue(filters: dict, page: int, form: ResolveForm, error_for: int | None = None,
                  status: int = 200):
    """The queue page, with a resolve error shown beside report ``error_for``."""
    pagination = feedback_queue(current_user, page=page, **filters)
    return render_template(
        "feedback/queue.html", pagination=pagination, filters=filters, form=form,
        counts=counts_by_article(current_user), kinds=KIND_LABELS, states=STATES,
        error_for=error_for,
    ), status


@bp.post("/<int:feedback_id>/resolve")
@role_required("manager")
def resolve_report(feedback_id: int):
    """Resolve an out-of-date report (audited), then back to the same view of the queue."""
    form = ResolveForm()
    back = {key: (getattr(form, key).data or None) for key in ("article", "kind", "state")}
    back["kind"] = back["kind"] if back["kind"] in FEEDBACK_KINDS else None
    back["state"] = back["state"] if back["state"] in STATES else None
    page = int(form.page.data) if (form.page.data or "").isdigit() and len(
        form.page.data) < 7 else 1
    if not form.validate_on_submit():
        form.note.errors.append("The form had expired; nothing changed. Please try again.")
        return _render_queue(back, page, form, feedback_id, 400)
    try:
        resolve(feedback_id, form.note.data, current_user)
        db.session.commit()
    except FeedbackNotFound:
        abort(404)
    except Invalid as error:
        db.session.rollback()
        form.note.errors.append(error.message)
        return _render_queue(back, page, form, feedback_id, 400)
    except SQLAlchemyError:
        db.session.rollback()
        form.note.errors.append("Nothing changed: the database could not be written just "
                                "now. Please try again.")
        return _render_queue(back, page, form, feedback_id, 503)
    flash("Report resolved.", "success")
    return redirect(url_for("feedback.queue", page=page if page > 1 else None,
                            **{k: v for k, v in back.items() if v}))
