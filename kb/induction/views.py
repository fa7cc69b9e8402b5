"""Induction pages: my checklist, programmes (managers), assigning, a person's enrolment
with the tasks a manager ticks, the managers' overview and the printable record.

Every rule is in services.py / programmes.py; these parse, call, commit and render.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from kb.core.clock import to_local
from kb.core.errors import Invalid, NotAllowed
from kb.core.permissions import role_required
from kb.extensions import db
from kb.induction import bp, programmes, progress, services
from kb.induction.forms import (
    AssignForm,
    ConfirmForm,
    ItemForm,
    MoveForm,
    ProgrammeForm,
    TaskForm,
    add_error,
)


def _actor():
    return current_user._get_current_object()


@bp.app_context_processor
def _induction_helpers() -> dict:
    """Lazy callables for other pages: the signed-in user's unfinished checklist (the home
    page) and the overdue list of the people a manager looks after (the dashboards)."""
    if not current_user.is_authenticated:
        return {}

    def checklist() -> list[progress.Progress]:
        """The signed-in user's unfinished programmes (empty: show nothing)."""
        # A database that cannot answer leaves the checklist out rather than the page.
        try:
            return services.unfinished(current_user)
        except SQLAlchemyError:
            db.session.rollback()
            return []

    def overdue() -> list[services.OverdueItem]:
        """Overdue induction items of the manager's team (everyone for an admin)."""
        if not current_user.has_role("manager"):
            return []
        try:
            return services.overdue(_actor())
        except SQLAlchemyError:
            db.session.rollback()
            return []

    return {"induction_checklist": checklist, "induction_overdue": overdue}


@bp.app_template_filter("short_local")
def _short_local(value) -> str:
    """A stored UTC time as short local figures for the printed record: 03/12/2026 08:09."""
    return f"{to_local(value):%d/%m/%Y %H:%M}" if value else ""


# --- The new starter -------------------------------------------------------------------


@bp.route("/")
@role_required("agent")
def mine():
    """My induction: each programme's checklist with progress, due dates and overdue items."""
    return render_template("induction/mine.html", rows=services.my_progress(current_user))


# --- Programmes (managers) -------------------------------------------------------------


@bp.route("/programmes")
@role_required("manager")
def programme_list():
    """Every programme, with its items and people; archived ones below."""
    return render_template("induction/programmes.html", live=programmes.list_programmes(),
                           archived=programmes.list_programmes(archived=True),
                           confirm=ConfirmForm())


@bp.route("/programmes/new", methods=["GET", "POST"])
@role_required("manager")
def programme_new():
    """Create a programme (name and description); items are added on its page."""
    form = ProgrammeForm()
    if form.validate_on_submit():
        try:
            programme = programmes.create_programme(_actor(), form.name.data,
                                                    form.description.data)
        except Invalid as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            flash(f"Created “{programme.name}”. Now add its items.", "success")
            return redirect(url_for(".programme_edit", programme_id=programme.id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("induction/programme_new.html", form=form), status


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@role_required("manager")
def programme_edit(programme_id: int):
    """A programme's name, description and items (add, remove, move); POST saves the name
    and description."""
    programme = programmes.get_programme(programme_id)
    form = ProgrammeForm(obj=programme) if request.method == "GET" else ProgrammeForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                changed = programmes.update_programme(_actor(), programme_id, form.name.data,
                                                      form.description.data)
            except Invalid as error:
                db.session.rollback()
                add_error(form, error)
            else:
                db.session.commit()
                flash("Saved: " + " and ".join(changed) + " changed." if changed
                      else "Nothing was changed.", "success" if changed else "info")
                return redirect(url_for(".programme_edit", programme_id=programme_id))
        status = 400
    return _edit_page(programme, form, ItemForm(formdata=None), None, status)


def _edit_page(programme, form, item_form, sent_kind, status):
    db.session.refresh(programme)  # after a rollback, show what is stored
    articles, scripts = programmes.signable_articles(), programmes.live_scripts()
    item_form.article.choices = [("", "Choose a standard")] + [(a.slug, a.title)
                                                                for a in articles]
    item_form.script.choices = [("", "Choose a call script")] + [(s.slug, s.title)
                                                                  for s in scripts]
    return render_template(
        "induction/programme_edit.html", programme=programme, form=form, item_form=item_form,
        sent_kind=sent_kind, move=MoveForm(), confirm=ConfirmForm(),
        max_items=programmes.MAX_ITEMS,
    ), status


@bp.post("/programmes/<int:programme_id>/items")
@role_required("manager")
def item_add(programme_id: int):
    """Add an item at the end of a programme."""
    programme = programmes.get_programme(programme_id)
    form = ItemForm()
    kind = form.kind.data or ""
    if form.validate_on_submit():
        try:
            item = programmes.add_item(_actor(), programme_id, kind, title=form.title.data,
                                       due_days=form.due_days.data, article=form.article.data,
                                       script=form.script.data)
        except Invalid as error:
            db.session.rollback()
            add_error(form, error)
        else:
            db.session.commit()
            flash(f"Added “{item.title}”, due {item.due_days} day"
                  f"{'' if item.due_days == 1 else 's'} after the start date.", "success")
            return redirect(url_for(".programme_edit", programme_id=programme_id)
                            + f"#item-{item.id}")
    elif "csrf_token" in form.errors:
        form.form_errors.append("The form had expired; nothing was added. Try again.")
    return _edit_page(programme, ProgrammeForm(obj=programme, formdata=None), form, kind, 400)


@bp.post("/programmes/<int:programme_id>/items/<int:item_id>/remove")
@role_required("manager")
def item_remove(programme_id: int, item_id: int):
    """Take an item out of a programme."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        item = programmes.remove_item(_actor(), programme_id, item_id)
    except Invalid as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(f"Removed “{item.title}”.", "success")
    return redirect(url_for(".programme_edit", programme_id=programme_id) + "#items-heading")


@bp.post("/programmes/<int:programme_id>/items/<int:item_id>/move")
@role_required("manager")
def item_move(programme_id: int, item_id: int):
    """Move an item one place up or down."""
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        moved = programmes.move_item(_actor(), programme_id, item_id, form.direction.data)
    except Invalid as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        if not moved:
            flash("That item is already at that end of the list.", "info")
    return redirect(url_for(".programme_edit", programme_id=programme_id) + f"#item-{item_id}")


@bp.post("/programmes/<int:programme_id>/archive")
@role_required("manager")
def programme_archive(programme_id: int):
    """Archive a programme: no new enrolments; people on it carry on."""
    return _set_archived(programme_id, True)


@bp.post("/programmes/<int:programme_id>/restore")
@role_required("manager")
def programme_restore(programme_id: int):
    """Bring an archived programme back."""
    return _set_archived(programme_id, False)


def _set_archived(programme_id: int, archived: bool):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    programme = programmes.set_archived(_actor(), programme_id, archived)
    db.session.commit()
    flash(f"“{programme.name}” {'archived: it takes no new enrolments' if archived else 'restored'}"
          ".", "success")
    return redirect(url_for(".programme_list"))


# --- Assigning and following people (managers) -----------------------------------------


@bp.route("/assign", methods=["GET", "POST"])
@role_required("manager")
def assign():
    """Enrol a person on a programme from a start date."""
    actor = _actor()
    form = AssignForm()
    offered = services.assignable_programmes()
    people = services.assignable_people(actor)
    form.programme.choices = [(0, "Choose a programme")] + [(p.id, p.name) for p in offered]
    form.user.choices = [(0, "Choose a person")] + [
        (u.id, f"{u.display_name} ({u.username}{', ' + u.team.name if u.team else ''})")
        for u in people]
    if request.method == "GET":
        form.programme.data = request.args.get("programme", 0, type=int)
        form.user.data = request.args.get("user", 0, type=int)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                start = services.parse_start_date(form.start_date.data)
                enrolment = services.assign(actor, form.programme.data, form.user.data, start)
            except Invalid as error:
                db.session.rollback()
                add_error(form, error)
            else:
                db.session.commit()
                flash(f"Enrolled {enrolment.user.display_name} on “{enrolment.programme.name}” "
                      f"from {enrolment.start_date:%d/%m/%Y}.", "success")
                return redirect(url_for(".enrolment", enrolment_id=enrolment.id))
        elif "csrf_token" in form.errors:
            form.form_errors.append("The form had expired; nobody was enrolled. Try again.")
    return render_template("induction/assign.html", form=form, people=people,
                           offered=offered), status


@bp.route("/people")
@role_required("manager")
def people():
    """Everyone on a programme (the team's, or everyone's for an admin) with progress, and
    the overdue items."""
    rows = services.team_progress(_actor())
    return render_template("induction/people.html", rows=rows,
                           late=services.overdue(_actor(), rows))


@bp.route("/enrolments/<int:enrolment_id>")
@role_required("agent")
def enrolment(enrolment_id: int):
    """One person's checklist; their manager ticks tasks here."""
    found = services.enrolment_for(_actor(), enrolment_id)
    return _enrolment_page(found, TaskForm(formdata=None), None, 200)


def _enrolment_page(found, task_form, sent_item, status):
    return render_template(
        "induction/enrolment.html", p=progress.for_enrolment(found),
        can_confirm=services.manages(_actor(), found.user), task_form=task_form,
        sent_item=sent_item,
    ), status


@bp.post("/enrolments/<int:enrolment_id>/items/<int:item_id>/confirm")
@role_required("manager")
def confirm_task(enrolment_id: int, item_id: int):
    """A manager ticks a task item for the person, with an optional note."""
    found = services.get_enrolment(enrolment_id)
    form = TaskForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _enrolment_page(found, form, item_id, 400)
    try:
        services.confirm_task(_actor(), enrolment_id, item_id, form.note.data)
    except services.AlreadyConfirmed as error:
        db.session.rollback()
        flash(error.message, "info")
    except Invalid as error:
        db.session.rollback()
        add_error(form, error)
        if form.form_errors:
            flash(error.message, "error")
        return _enrolment_page(found, form, item_id, 400)
    except NotAllowed:
        db.session.rollback()
        abort(403)
    else:
        db.session.commit()
        flash("Confirmed.", "success")
    return redirect(url_for(".enrolment", enrolment_id=enrolment_id) + f"#item-{item_id}")


@bp.route("/enrolments/<int:enrolment_id>/record")
@role_required("agent")
def record(enrolment_id: int):
    """The printable record: each item, when it was done and who vouched for it."""
    found = services.enrolment_for(_actor(), enrolment_id)
    return render_template("induction/record.html", p=progress.for_enrolment(found))
