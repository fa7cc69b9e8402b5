"""The review dashboard and "reviewed, no change" (managers)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from kb.auth.services import is_safe_next
from kb.core.errors import Invalid
from kb.core.permissions import role_required
from kb.extensions import db
from kb.reviews import bp
from kb.reviews.forms import ReviewedForm
from kb.reviews.services import (
    DUE_SOON_DAYS,
    ReviewNotFound,
    mark_reviewed,
    owners,
    review_board,
    status,
)


@bp.app_template_global("review_status")
def review_status(article):
    """The article page's review line (templates/reviews/_article_review.html)."""
    return status(article)


@bp.route("/")
@role_required("manager")
def dashboard():
    """Overdue and due-soon documents by owner, with a filter by owner."""
    known = owners()
    owner = request.args.get("owner", "").strip() or None
    message = None
    if owner is not None and owner not in known:
        message = f"No document has the owner “{owner[:120]}”, so every owner is shown."
        owner = None
    groups = review_board(owner)
    return render_template(
        "reviews/dashboard.html", groups=groups, owners=known, owner=owner, message=message,
        within=DUE_SOON_DAYS,
        overdue=sum(len(g.overdue) for g in groups),
        due_soon=sum(len(g.due_soon) for g in groups),
    ), (400 if message else 200)


@bp.route("/articles/<slug>", methods=["POST"])
@role_required("manager")
def reviewed(slug: str):
    """Record "reviewed, no change" for an article (CSRF-checked, audited)."""
    form = ReviewedForm()
    if not form.validate_on_submit():
        abort(400)
    back = form.next.data if is_safe_next(form.next.data) else None
    try:
        article = mark_reviewed(slug, current_user, form.note.data or "")
    except ReviewNotFound:
        abort(404)
    except Invalid as error:
        flash(f"Nothing was recorded. {error.message}", "error")
        return redirect(back or url_for("articles.article", slug=slug))
    db.session.commit()
    when = article.next_review_date
    flash(f"“{article.title}” recorded as reviewed with no change. Next review "
          f"{when.day} {when:%B %Y}." if when else
          f"“{article.title}” recorded as reviewed with no change.", "success")
    return redirect(back or url_for("articles.article", slug=slug))
