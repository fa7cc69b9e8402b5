"""Managers' settings pages."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from kb.admin import bp
from kb.admin.services import SynonymsError, dashboard, read_synonyms, save_synonyms
from kb.auth.services import role_required


class SynonymsForm(FlaskForm):
    text = TextAreaField("Synonym groups, one per line")


@bp.route("/")
@role_required("manager")
def index():
    """Managers' start page: what needs attention and where to change things."""
    return render_template("admin/index.html", board=dashboard())


@bp.route("/synonyms", methods=["GET", "POST"])
@role_required("manager")
def synonyms():
    """View and edit the search synonyms; searches use the new list at once."""
    form = SynonymsForm()
    if form.validate_on_submit():
        try:
            changed = save_synonyms(form.text.data or "", current_user)
        except SynonymsError as error:
            form.text.errors.append(str(error))
        else:
            flash(f"Saved: {changed} line(s) changed. Searches use them now."
                  if changed else "No changes to save.", "success")
            return redirect(url_for("admin.synonyms"))
    elif not form.is_submitted():
        form.text.data = read_synonyms()
    return render_template("admin/synonyms.html", form=form)
