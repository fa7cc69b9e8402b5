"""The crisis protocol page, the helpline admin and incident records."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError
from wtforms.fields.choices import SelectChoice

from kb.bounds import page_arg
from kb.core.permissions import role_required
from kb.crisis import bp, services
from kb.crisis import incidents as records
from kb.crisis.charges import call_cost
from kb.crisis.forms import HelplineForm, IncidentForm, ReviewForm, add_error
from kb.crisis.services import HelplineNotFound, IncidentNotFound, InvalidEntry, NotAllowed
from kb.extensions import db

INCIDENT_NOT_SAVED = (
    "This record was NOT saved: the database did not accept it (it may be read-only or "
    "busy). What you wrote is still below. Copy it somewhere safe, tell your manager, "
    "and submit again in a minute."
)
# Incident records are sensitive: never kept by the browser or a proxy.
NO_STORE_ENDPOINTS = {"crisis.new_incident", "crisis.incidents", "crisis.incident",
                      "crisis.add_review"}


@bp.after_request
def _no_store(response):
    """Keep incident pages out of browser and proxy caches."""
    if request.endpoint in NO_STORE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    elif request.endpoint == "crisis.protocol":
        # Public, but a manager's copy carries manager links: no shared cache keeps it,
        # and a browser asks again so a helpline change shows at once.
        response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.context_processor
def _template_helpers() -> dict:
    return {
        "local_time": services.format_local,
        "helpline_href": services.helpline_href,
        "is_web_address": services.is_web_address,
        "call_cost": call_cost,
    }


def _actor():
    return current_user._get_current_object()


def _helpline_or_404(helpline_id: int):
    try:
        return services.get_helpline(helpline_id)
    except HelplineNotFound:
        abort(404)


# --- the protocol --------------------------------------------------------------------


@bp.route("/")
def protocol():
    """The six-point plan, the do/don't list and the helplines: no search, no JavaScript.

    Public (kb.auth.services.PUBLIC_ENDPOINTS), so an expired session mid-call costs no
    detour; signed out, it shows nothing about people or records, only how to sign in to
    write the record.
    """
    helplines, from_file = services.helplines_for_page()
    signed_in = current_user.is_authenticated
    manager = signed_in and current_user.has_role("manager")
    stale_count = 0
    if manager and not from_file:
        stale_count = len(
            services.stale_helpline_ids(
                helplines, services.local_today(), services.max_age_days()
            )
        )
    return render_template(
        "crisis/protocol.html", helplines=helplines, from_file=from_file,
        stale_count=stale_count, signed_in=signed_in, manager=manager,
        record_url=url_for(".new_incident") if signed_in
        else url_for("auth.login", next=url_for(".new_incident")),
    )


# --- helplines (managers) ------------------------------------------------------------


@bp.route("/helplines")
@role_required("manager")
def helplines():
    """Every helpline with its verification status and actions."""
    items = services.all_helplines()
    today, max_age = services.local_today(), services.max_age_days()
    return render_template(
        "crisis/helplines.html",
        helplines=items,
        stale=services.stale_helpline_ids(items, today, max_age),
        ages={h.id: services.verification_age(h, today) for h in items},
        max_age=max_age,
    )


@bp.route("/helplines/new", methods=["GET", "POST"])
@role_required("manager")
def new_helpline():
    """Add a helpline."""
    form = HelplineForm()
    if form.validate_on_submit():
        try:
            helpline = services.create_helpline(form.to_data(), _actor())
        except InvalidEntry as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            flash(f"Added {helpline.name}. Ring it to check, then mark it verified.", "success")
            return redirect(url_for(".helplines", _anchor=f"helpline-{helpline.id}"))
    return render_template("crisis/helpline_form.html", form=form, helpline=None, history=[])


@bp.route("/helplines/<int:helpline_id>/edit", methods=["GET", "POST"])
@role_required("manager")
def edit_helpline(helpline_id: int):
    """Change a helpline's details."""
    helpline = _helpline_or_404(helpline_id)
    form = HelplineForm(obj=helpline)
    if form.validate_on_submit():
        try:
            changed = services.update_helpline(helpline_id, form.to_data(), _actor())
        except InvalidEntry as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            if not changed:
                flash("Nothing was changed.", "info")
            elif "number" in changed:
                flash(f"Saved {helpline.name}. The number changed, so it needs verifying "
                      "again.", "success")
            else:
                flash(f"Saved {helpline.name}.", "success")
            return redirect(url_for(".helplines", _anchor=f"helpline-{helpline_id}"))
    return render_template(
        "crisis/helpline_form.html",
        form=form,
        helpline=helpline,
        history=services.helpline_history(helpline_id),
    )


@bp.post("/helplines/<int:helpline_id>/verify")
@role_required("manager")
def verify_helpline(helpline_id: int):
    """Record that the signed-in manager checked this helpline today."""
    _helpline_or_404(helpline_id)
    helpline = services.verify_helpline(helpline_id, _actor())
    db.session.commit()
    flash(f"{helpline.name} marked as verified today by {helpline.verified_by}.", "success")
    return redirect(url_for(".helplines", _anchor=f"helpline-{helpline_id}"))


@bp.post("/helplines/<int:helpline_id>/deactivate")
@role_required("manager")
def deactivate_helpline(helpline_id: int):
    """Take a helpline off the crisis page."""
    helpline = _helpline_or_404(helpline_id)
    if services.deactivate_helpline(helpline_id, _actor()):
        db.session.commit()
        flash(f"{helpline.name} is no longer shown on the crisis page.", "success")
    return redirect(url_for(".helplines", _anchor=f"helpline-{helpline_id}"))


@bp.post("/helplines/<int:helpline_id>/reactivate")
@role_required("manager")
def reactivate_helpline(helpline_id: int):
    """Show a deactivated helpline on the crisis page again."""
    helpline = _helpline_or_404(helpline_id)
    if services.reactivate_helpline(helpline_id, _actor()):
        db.session.commit()
        flash(f"{helpline.name} is shown on the crisis page again.", "success")
    return redirect(url_for(".helplines", _anchor=f"helpline-{helpline_id}"))


# --- incident records ----------------------------------------------------------------


@bp.route("/incidents/new", methods=["GET", "POST"])
def new_incident():
    """Step 6: record a crisis call. Once submitted, the record never changes."""
    form = IncidentForm()
    form.helplines_given.choices = [
        SelectChoice(str(h.id), f"{h.name}: {h.number}") for h in services.active_helplines()
    ]
    if request.method == "GET":
        form.occurred_at.data = services.local_now()
    if form.validate_on_submit():
        try:
            incident = records.record_incident(form.to_data(), _actor())
            db.session.commit()
        except InvalidEntry as error:
            db.session.rollback()
            add_error(form, error)
        except SQLAlchemyError as error:
            db.session.rollback()
            current_app.logger.error("Crisis incident not saved: %s", error)
            form.form_errors.append(INCIDENT_NOT_SAVED)
            return render_template("crisis/incident_form.html", form=form), 503
        else:
            flash("Incident recorded. Talk the call through with your line manager.", "success")
            return redirect(url_for(".incident", incident_id=incident.id))
    return render_template("crisis/incident_form.html", form=form)


@bp.route("/incidents")
@role_required("manager")
def incidents():
    """Every incident record, newest first, for review."""
    page = page_arg()
    return render_template(
        "crisis/incidents.html", pagination=records.list_incidents(_actor(), page=page)
    )


@bp.route("/incidents/<int:incident_id>")
def incident(incident_id: int):
    """One record: managers see it with its review notes; its author sees a confirmation."""
    return _render_incident(incident_id, ReviewForm())


@bp.post("/incidents/<int:incident_id>/reviews")
@role_required("manager")
def add_review(incident_id: int):
    """Append a manager's review note to a record."""
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            records.add_review(incident_id, form.note.data, _actor())
        except IncidentNotFound:
            abort(404)
        except InvalidEntry as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            flash("Review note added.", "success")
            return redirect(url_for(".incident", incident_id=incident_id, _anchor="reviews"))
    return _render_incident(incident_id, form)


def _render_incident(incident_id: int, form: ReviewForm):
    try:
        item = records.get_incident(incident_id, _actor())
    except IncidentNotFound:
        abort(404)
    except NotAllowed:
        abort(403)
    manager = current_user.has_role("manager")
    return render_template(
        "crisis/incident.html",
        incident=item,
        manager=manager,
        reviews=records.incident_reviews(item) if manager else [],
        form=form if manager else None,
    )
