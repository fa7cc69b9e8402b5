"""Countersigning pages: the queue of sign-offs awaiting a manager's countersignature, and
the header's count of it."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from kb.auth import reauth
from kb.auth.oidc import SsoError
from kb.bounds import MAX_ID
from kb.core.errors import Invalid
from kb.core.permissions import role_required
from kb.extensions import db, limiter
from kb.signoffs import bp, pending
from kb.signoffs import countersign as countersigning
from kb.signoffs.forms import CountersignForm
from kb.signoffs.services import TooManyAttempts


@bp.app_context_processor
def _countersign_nav() -> dict:
    """The header's count of sign-offs to countersign, for managers and admins only,
    worked out only if a page asks."""
    if not current_user.is_authenticated or not current_user.has_role("manager"):
        return {}

    def count() -> int:
        """Sign-offs waiting for the signed-in manager's countersignature."""
        # A database that cannot answer shows no count rather than breaking the page.
        try:
            return countersigning.queue_count(current_user)
        except SQLAlchemyError:
            db.session.rollback()
            return 0

    return {"countersign_count": count}


def _countersign_limit() -> str:
    """Countersign posts (password checks) are limited per address like sign-in."""
    return current_app.config["KB_LOGIN_RATE_LIMIT"]


def _team_filter(teams: list) -> int | None:
    """The admins' ``?team=`` choice (None: every team); 404 for a team that is not one."""
    raw = request.args.get("team", "")
    if not raw or not teams:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        abort(404)
    if int(raw) not in {team.id for team in teams}:
        abort(404)
    return int(raw)


@bp.route("/signoffs/countersign", methods=["GET", "POST"])
@role_required("manager")
@limiter.limit(_countersign_limit, methods=["POST"])
def countersign():
    """The queue of sign-offs to countersign, oldest first; POST countersigns the ticked
    ones (or all shown) with the manager's typed name and password."""
    teams = countersigning.teams() if current_user.has_role("admin") else []
    team_id = _team_filter(teams)
    form = CountersignForm()
    code, ticked, ids_problem = 200, request.form.getlist("ids"), None
    if request.method == "POST":
        if not form.validate_on_submit():
            flash("The form could not be read (it may have expired); nothing was recorded. "
                  "Try again.", "error")
            code = 400
        else:
            chosen = request.form.getlist("shown") if form.submit_all.data else ticked
            try:
                if reauth.uses_provider(current_user):
                    return _to_provider_for(chosen, form.typed_name.data or "", team_id)
                records = countersigning.countersign(
                    current_user, countersigning.Countersigning(
                        chosen, form.typed_name.data or "", form.password.data or ""),
                    address=request.remote_addr, user_agent=request.headers.get("User-Agent"))
            except SsoError as problem:
                flash(problem.message, "error")
                code = problem.status
            except Invalid as problem:
                db.session.rollback()
                if isinstance(problem, countersigning.AlreadyCountersigned) and problem.by_you:
                    flash(problem.message, "success")  # a double submit: it is done
                    return redirect(url_for("signoffs.countersign", team=team_id))
                code = 429 if isinstance(problem, TooManyAttempts) else 400
                field = getattr(form, problem.field, None)
                if field is not None:
                    field.errors = [problem.message]
                else:  # "signoff_ids": shown under the table of checkboxes
                    ids_problem = problem.message
                flash(problem.message, "error")
            else:
                db.session.commit()
                flash(f"Countersigned {len(records)} sign-off{'' if len(records) == 1 else 's'}.",
                      "success")
                return redirect(url_for("signoffs.countersign", team=team_id))
    else:
        # Back from the provider without a countersignature: the ticks and name are kept.
        waiting = pending.peek(current_user, "countersign")
        if waiting and waiting.get("team_id") == team_id:
            ticked, form.typed_name.data = waiting["ids"], waiting["typed_name"]
    form.password.data = ""
    queue = countersigning.queue(current_user, team_id)
    total = (countersigning.queue_count(current_user, team_id)
             if len(queue) >= countersigning.QUEUE_LIMIT else len(queue))
    return render_template(
        "signoffs/countersign.html", form=form, pending=queue, total=total, teams=teams,
        team_names={team.id: team.name for team in teams}, team_id=team_id,
        ticked=set(ticked), ids_problem=ids_problem,
        reauth_at=reauth.provider_name() if reauth.uses_provider(current_user) else None,
    ), code


def _to_provider_for(chosen: list[str], typed_name: str, team_id: int | None):
    """Check the countersignature as far as it can be checked here, keep it, and send the
    countersigner to the provider to sign in again (Invalid or SsoError when that cannot
    start)."""
    countersigning.check_countersigning(
        current_user, countersigning.Countersigning(chosen, typed_name, ""))
    key = pending.keep(current_user, "countersign",
                       {"ids": [str(n) for n in chosen][:countersigning.QUEUE_LIMIT],
                        "typed_name": typed_name, "team_id": team_id})
    return redirect(reauth.start(current_user, key=key,
                                 return_to=url_for("signoffs.confirm", key=key),
                                 cancel_to=url_for("signoffs.countersign", team=team_id)))
