"""Managers' settings pages."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.exc import SQLAlchemyError
from wtforms import TextAreaField

from kb.admin import bp
from kb.admin.services import Attention, attention, dashboard, save_vocabulary
from kb.core.permissions import role_required
from kb.extensions import db
from kb.search.vocabularies import (
    LABELS,
    NAMES,
    VocabularyInvalid,
    get_vocabulary,
    refresh,
    vocabulary_text,
)


@bp.app_context_processor
def _admin_helpers() -> dict:
    """A lazy callable for the home page: what needs the signed-in manager now (None for
    anyone else, so the page shows nothing; [] when nothing waits)."""
    if not current_user.is_authenticated or not current_user.has_role("manager"):
        return {}

    def needs_me() -> list[Attention] | None:
        # A database that cannot answer leaves the list out rather than the page.
        try:
            return attention(dashboard())
        except SQLAlchemyError:
            db.session.rollback()
            return None

    return {"manager_attention": needs_me}


class VocabularyForm(FlaskForm):
    text = TextAreaField("Vocabulary text")


@bp.route("/")
@role_required("manager")
def index():
    """Managers' start page: what needs attention and where to change things."""
    return render_template("admin/index.html", board=dashboard())


@bp.route("/vocabularies/")
@role_required("manager")
def vocabularies():
    """The search vocabularies a manager can edit."""
    rows = {name: get_vocabulary(name) for name in NAMES}
    return render_template("admin/vocabularies.html", names=NAMES, labels=LABELS, rows=rows)


@bp.route("/synonyms")
@role_required("manager")
def synonyms():
    """The synonyms editor's old address."""
    return redirect(url_for("admin.vocabulary", name="synonyms"))


@bp.route("/vocabularies/<name>", methods=["GET", "POST"])
@role_required("manager")
def vocabulary(name: str):
    """View and edit one search vocabulary; every worker uses a saved change within a
    second."""
    if name not in NAMES:
        abort(404)
    form = VocabularyForm()
    form.text.label.text = f"{LABELS[name]}: the text"
    if form.validate_on_submit():
        try:
            changed = save_vocabulary(name, form.text.data or "", current_user)
            db.session.commit()  # the change and its audit row, together
        except VocabularyInvalid as error:
            form.text.errors.append(f"Nothing was saved. {error}")
        except SQLAlchemyError:
            db.session.rollback()
            form.text.errors.append("Nothing was saved: the database could not be written "
                                    "just now. Please try again in a minute.")
            return render_template("admin/vocabulary.html", form=form, name=name,
                                   label=LABELS[name]), 503
        else:
            refresh(force=True)  # this worker at once; the others within a second
            flash(f"Saved: {changed} line(s) changed. Searches use them within a second."
                  if changed else "No changes to save.", "success")
            return redirect(url_for("admin.vocabulary", name=name))
    elif not form.is_submitted():
        form.text.data = vocabulary_text(name)
    return render_template("admin/vocabulary.html", form=form, name=name, label=LABELS[name])
