"""The script list, the step-by-step player and script review for managers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from kb.callscripts import bp
from kb.callscripts.forms import MarkReviewedForm, WalkedForm
from kb.callscripts.services import (
    PathInvalid,
    ScriptNotFound,
    StepNotFound,
    article_versions,
    changed_citations,
    clean_values,
    definition,
    get_script,
    list_scripts,
    mark_reviewed,
    open_step,
    parse_path,
    scripts_needing_review,
    walked_through,
)
from kb.core.errors import Invalid
from kb.core.permissions import role_required
from kb.core.redirects import current_slug
from kb.core.signals import document_viewed
from kb.extensions import db
from kb.models import CallScript


@bp.route("/")
def index():
    """Every call script; managers also see which ones need review."""
    scripts = list_scripts()
    flagged: set[str] = set()
    if current_user.has_role("manager"):
        flagged = {script.slug for script, _changed in scripts_needing_review()}
    return render_template("callscripts/index.html", scripts=scripts, flagged=flagged)


@bp.route("/review")
@role_required("manager")
def review():
    """Scripts whose cited articles changed since a manager last reviewed them."""
    return render_template("callscripts/review.html", items=scripts_needing_review())


@bp.route("/review/<slug>", methods=["POST"])
@role_required("manager")
def mark_script_reviewed(slug: str):
    """Clear a script's review flag (managers; CSRF-checked; audited)."""
    form = MarkReviewedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        script = mark_reviewed(slug, current_user)
    except ScriptNotFound:
        abort(404)
    db.session.commit()
    flash(f"“{script.title}” marked as reviewed against the current articles.", "success")
    return redirect(url_for("callscripts.start", slug=slug))


@bp.route("/<slug>/")
def start(slug: str):
    """The script's page: its first step, plus the review flag for managers."""
    return _player(slug, None)


@bp.route("/<slug>/<step_id>")
def step(slug: str, step_id: str):
    """One step of a script; the path so far and captured values ride in the query."""
    return _player(slug, step_id)


def _player(slug: str, step_id: str | None):
    path = parse_path(request.args.get("path", ""))
    try:
        state = open_step(slug, step_id, path, request.args,
                          agent_name=getattr(current_user, "display_name", "") or "")
    except ScriptNotFound:
        moved = current_slug("script", CallScript, slug)
        if moved is None:
            abort(404)
        if step_id is None:
            return redirect(url_for("callscripts.start", slug=moved), 301)
        return redirect(url_for("callscripts.step", slug=moved, step_id=step_id,
                                **request.args), 301)
    except StepNotFound:
        abort(404)
    except PathInvalid as error:
        return _redirect_to_valid_path(slug, step_id, error.path)
    if state.script.archived_at is not None and not current_user.has_role("manager"):
        abort(404)  # archived: out of reach for agents; managers see it to restore it
    changed, form = [], None
    if current_user.has_role("manager") and state.at_start:
        changed = changed_citations(state.script, article_versions())
        form = MarkReviewedForm()
    walked = WalkedForm(formdata=None, path=",".join(state.path)) if state.step.end else None
    response = render_template("callscripts/player.html", s=state, changed=changed, form=form,
                               walked=walked)
    if state.at_start and step_id is None:  # opening the script, not walking it
        document_viewed.send(state.script, user=current_user, args=request.args)
    # Captured details are personal data: keep them out of shared caches and disk caches.
    return response, 200, {"Cache-Control": "no-store"}


@bp.post("/<slug>/<step_id>/walked")
@role_required("agent")
def walked(slug: str, step_id: str):
    """At an end step, the user says they walked the script through to it (induction
    evidence: kb.core.signals.script_walked); the path is checked on the server."""
    form = WalkedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        script = walked_through(slug, step_id, form.path.data or "", current_user)
    except (ScriptNotFound, StepNotFound):
        abort(404)
    except Invalid as problem:
        db.session.rollback()
        flash(problem.message, "error")
        return redirect(url_for("callscripts.start", slug=slug))
    db.session.commit()
    flash(f"Recorded: you walked “{script.title}” through to the end.", "success")
    return redirect(url_for("callscripts.step", slug=slug, step_id=step_id,
                            path=form.path.data or None))


def _redirect_to_valid_path(slug: str, step_id: str | None, path: list[str]):
    script = get_script(slug)
    values = clean_values(definition(script.current_version), request.args)
    flash("That link's path did not match the script, so it now shows the shortest route "
          "to this step.", "info")
    if step_id is None:  # the start step never has a path before it
        return redirect(url_for("callscripts.start", slug=slug, **values))
    return redirect(url_for("callscripts.step", slug=slug, step_id=step_id,
                            path=",".join(path) or None, **values))
