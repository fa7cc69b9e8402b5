"""History pages: the list of versions, one version, a comparison, revert, What's new."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from kb.content.render import render_markdown
from kb.core.clock import format_local
from kb.core.errors import Invalid
from kb.core.permissions import role_required
from kb.extensions import db
from kb.history import bp, comparing
from kb.history.forms import RestoreForm
from kb.history.services import (
    compare_pair,
    get_document,
    get_version,
    history_rows,
    kind_of,
    record_look,
    revert,
    unseen_count,
    unseen_since,
    whats_new,
)
from kb.search.services import sync_index

KIND = "<any(articles, scripts):kind>"


@bp.app_template_filter("local_time")
def _local_time(value) -> str:
    """A stored UTC time in the centre's local time: Monday 23 November 2026, 16:05."""
    return format_local(value)


@bp.app_template_filter("iso_utc")
def _iso_utc(value) -> str:
    """A stored UTC time as a machine-readable <time datetime> value."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


@bp.app_context_processor
def _whats_new_count() -> dict:
    """The header's count of unseen material updates, for signed-in users only."""
    if not current_user.is_authenticated:
        return {}

    def count() -> int:
        # Evaluated only where the header asks for it; a database that cannot answer
        # shows no count rather than breaking the page (error pages use this header too).
        try:
            return unseen_count(current_user)
        except SQLAlchemyError:
            db.session.rollback()
            return 0

    return {"whats_new_count": count}


@bp.route(f"/history/{KIND}/<slug>/")
def document_history(kind: str, slug: str):
    """Every version of a document, newest first, and the compare form."""
    k = kind_of(kind)
    document = get_document(k, slug, current_user)
    rows = history_rows(k, document)
    return render_template("history/history.html", k=k, document=document, rows=rows)


@bp.route(f"/history/{KIND}/<slug>/v<int:number>")
def version(kind: str, slug: str, number: int):
    """One version as it read then, marked when it is not the current one."""
    k = kind_of(kind)
    document = get_document(k, slug, current_user)
    item = get_version(k, document, number)
    form = RestoreForm() if k.revertible and current_user.has_role("manager") else None
    return render_template(
        "history/version.html", k=k, document=document, version=item,
        latest=document.current_version, rendered=render_markdown(item.markdown), form=form,
    )


@bp.route(f"/history/{KIND}/<slug>/compare")
def compare(kind: str, slug: str):
    """Two versions compared word by word, as Markdown and as rendered text."""
    k = kind_of(kind)
    document = get_document(k, slug, current_user)
    older, newer = compare_pair(k, document, request.args.get("from"), request.args.get("to"))
    return render_template(
        "history/compare.html", k=k, document=document, older=older, newer=newer,
        numbers=list(range(document.current_version.number, 0, -1)),
        source=comparing.source_diff(older, newer),
        rendered=comparing.rendered_diff(older, newer),
        headers=comparing.header_diff(older, newer),
    )


@bp.route("/history/articles/<slug>/v<int:number>/restore", methods=["POST"])
@role_required("manager")
def restore(slug: str, number: int):
    """Publish an old version again as a new version (managers; CSRF; audited)."""
    form = RestoreForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors)
              or "The form could not be read; nothing was changed.", "error")
        return redirect(url_for("history.version", kind="articles", slug=slug, number=number))
    try:
        new = revert(slug, number, current_user, reason=form.reason.data or "",
                     material=form.material.data)
    except Invalid as problem:
        db.session.rollback()
        flash(problem.message, "error")
        return redirect(url_for("history.version", kind="articles", slug=slug, number=number))
    db.session.commit()
    sync_index()
    flash(f"Version {number} restored as version {new.number}.", "success")
    return redirect(url_for("history.document_history", kind="articles", slug=slug))


@bp.route("/whats-new")
def whats_new_page():
    """Material changes of the last 30 days, newest first, each linked to its diff."""
    # Opening this page is "looking" (the header counts updates since the user last
    # looked), so it is noted here: a per-user usage mark, like the search log, written
    # best-effort after the items are read, so a refused write never breaks the page.
    since = unseen_since(current_user)
    items = whats_new()
    record_look(current_user)
    return render_template("history/whats_new.html", items=items, since=since)
