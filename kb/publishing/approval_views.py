"""The approval queue: a second manager approves a pending change or sends it back."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from kb.core.diffs import word_diff
from kb.core.errors import Invalid, NotAllowed, NotFound
from kb.core.permissions import role_required
from kb.extensions import db
from kb.publishing import bp, services, validation
from kb.publishing.forms import ActionForm, SendBackForm
from kb.publishing.pages import document_url, flash_synced
from kb.publishing.services import StaleVersion

# ----- approvals -----------------------------------------------------------------------


@bp.route("/approvals")
@role_required("manager")
def approvals():
    """Changes waiting for a second manager."""
    return render_template("publishing/approvals.html", items=services.pending_drafts(),
                           document_of=services.document_of)


def _pending(draft_id: int):
    """A draft and its document, or 404."""
    try:
        item = services.get_draft(draft_id)
    except NotFound:
        abort(404)
    return item, services.document_of(item)


def _approval_page(item, document, *, form=None, status: int = 200, stale=None):
    """The pending change as a diff against the current version."""
    current = document.current_version if document is not None else None
    before = current.markdown if current else ""
    return render_template(
        "publishing/approval.html", item=item, document=document, current=current,
        diff=word_diff(before, item.markdown), noun=validation.NOUNS[item.kind],
        form=form or SendBackForm(), action_form=ActionForm(), stale=stale,
        own=item.author_id == current_user.id,
    ), status


@bp.route("/approvals/<int:draft_id>")
@role_required("manager")
def approval(draft_id: int):
    """One pending change, with Approve and Send back."""
    item, document = _pending(draft_id)
    return _approval_page(item, document)


@bp.route("/approvals/<int:draft_id>/approve", methods=["POST"])
@role_required("manager")
def approve(draft_id: int):
    """Approve: the change is published, with this manager recorded as approver."""
    if not ActionForm().validate():
        abort(400)
    item, document = _pending(draft_id)
    try:
        document, version = services.approve(current_user, item)
    except StaleVersion as stale:
        db.session.rollback()
        return _approval_page(item, document, status=409, stale=stale)
    except NotAllowed as error:
        db.session.rollback()
        flash(str(error), "error")
        return _approval_page(item, document, status=403)
    except Invalid as error:
        db.session.rollback()
        flash(error.message, "error")
        return _approval_page(item, document, status=400)
    db.session.commit()
    flash_synced(f"Approved and published as version {version.number}.")
    return redirect(document_url(item.kind, document.slug))


@bp.route("/approvals/<int:draft_id>/send-back", methods=["POST"])
@role_required("manager")
def send_back(draft_id: int):
    """Send the change back to its author with a comment."""
    form = SendBackForm()
    if not form.validate():
        abort(400)
    item, document = _pending(draft_id)
    try:
        services.send_back(current_user, item, form.comment.data or "")
    except NotAllowed as error:
        db.session.rollback()
        flash(str(error), "error")
        return _approval_page(item, document, form=form, status=403)
    except Invalid as error:
        db.session.rollback()
        form.comment.errors = [error.message]
        return _approval_page(item, document, form=form, status=400)
    db.session.commit()
    flash("Sent back to the author with your comment.", "success")
    return redirect(url_for("publishing.approvals"))
