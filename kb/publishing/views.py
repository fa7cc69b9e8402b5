"""The editor, drafts, approvals, conflicts, archive and settings pages (managers only)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from kb.content.render import render_markdown
from kb.core.diffs import word_diff
from kb.core.errors import Invalid, NotAllowed, NotFound
from kb.core.permissions import role_required
from kb.extensions import db
from kb.publishing import archive as archiving
from kb.publishing import bp, questions, services, validation
from kb.publishing.forms import (
    ARTICLE_META,
    SCRIPT_META,
    ActionForm,
    ArticleForm,
    CategoryApprovalForm,
    ScriptForm,
)
from kb.publishing.pages import document_url, flash_synced
from kb.publishing.services import StaleVersion
from kb.publishing.validation import ScriptProblems

KIND_PATHS = {"articles": "article", "scripts": "script"}


def _kind(path: str) -> str:
    """The document kind named in the URL, or 404."""
    if path not in KIND_PATHS:
        abort(404)
    return KIND_PATHS[path]


def _document(kind: str, slug: str):
    """The document, or 404."""
    try:
        return services.get_document(kind, slug)
    except NotFound:
        abort(404)


# ----- the editor ----------------------------------------------------------------------


@bp.route("/<kinds>/new", methods=["GET", "POST"])
@role_required("manager")
def new(kinds: str):
    """Write a new article or call script."""
    return _editor(_kind(kinds), None)


@bp.route("/<kinds>/<slug>/edit", methods=["GET", "POST"])
@role_required("manager")
def edit(kinds: str, slug: str):
    """Edit an article or call script (its open draft, if any)."""
    kind = _kind(kinds)
    return _editor(kind, _document(kind, slug))


def _form(kind: str):
    """The editor form for a kind of document (an article's with the teams to choose)."""
    if kind != "article":
        return ScriptForm()
    form = ArticleForm()
    form.signoff_team_id.choices = services.team_choices()
    return form


def _meta(kind: str) -> tuple[str, ...]:
    """The front-matter field names of a kind's form."""
    return ARTICLE_META if kind == "article" else SCRIPT_META


def _raw_fields(kind: str, form) -> dict:
    """The front-matter fields as typed (kept in a draft before they are valid)."""
    raw = {name: getattr(form, name).data for name in _meta(kind)}
    # A post without the team or the questions (an older page) leaves them as they are.
    for name in ("signoff_team_id", "signoff_questions"):
        if name in raw and name not in request.form:
            del raw[name]
    return raw


def _fill(kind: str, form, document, draft) -> None:
    """Put the draft, or else the current version, into an empty form."""
    if draft is not None:
        if kind == "article" and document is not None:
            _fill_signoff(form, document)  # an older draft may not carry them
        for name in _meta(kind):
            if name in draft.fields:
                getattr(form, name).data = draft.fields[name]
        if kind == "article":
            _text_signoff(form)
        form.markdown.data = draft.markdown
        form.base_version.data = str(draft.base_version)
        form.change_summary.data = draft.change_summary
        return
    form.base_version.data = str(services.current_number(document))
    if document is None:
        return
    form.markdown.data = document.current_version.markdown
    form.slug.data = document.slug
    form.requires_approval.data = document.requires_approval
    if kind == "article":
        for name in ("title", "category", "summary", "owner", "review_cycle_months",
                     "requires_signoff", "signoff_role", "signoff_window_days"):
            getattr(form, name).data = getattr(document, name)
        _fill_signoff(form, document)
        form.tags.data = ", ".join(document.tags or [])


def _fill_signoff(form, document) -> None:
    """Put the article's sign-off settings (role, team, days, questions) into the form."""
    form.signoff_role.data = document.signoff_role or "all"
    form.signoff_team_id.data = str(document.signoff_team_id or "")
    form.signoff_window_days.data = str(document.signoff_window_days)
    form.signoff_questions.data = questions.to_text(document.signoff_questions)


def _text_signoff(form) -> None:
    """A submitted draft keeps the team and questions checked (an id, a list): show them
    as the form's text."""
    if isinstance(form.signoff_questions.data, list):
        form.signoff_questions.data = questions.to_text(form.signoff_questions.data)
    team = form.signoff_team_id.data
    form.signoff_team_id.data = "" if team is None else str(team)


def _fill_from_version(kind: str, form, document, draft, raw: str) -> None:
    """Put an old version's text in the editor, to publish it again (a revert that goes
    through the same checks as any edit; the base stays the current version)."""
    if draft is not None:
        flash("This document has an open draft: publish or discard it before restoring an "
              "old version.", "error")
        return
    number = int(raw) if raw.isdigit() and len(raw) <= 9 else None
    old = next((v for v in document.versions if v.number == number), None)
    if old is None or old.id == document.current_version_id:
        flash("There is no earlier version with that number; the editor shows the current "
              "one.", "error")
        return
    form.markdown.data = old.markdown
    if kind == "article":
        form.title.data, form.summary.data = old.title, old.summary
    form.change_summary.data = f"Reverted to version {old.number}"
    flash(f"The editor holds version {old.number}. Publish it to restore it as version "
          f"{document.current_version.number + 1}; nothing in the history is removed.", "info")


def _base(form) -> int:
    """The version number the edit started from."""
    value = (form.base_version.data or "0").strip()
    if not value.isdigit() or len(value) > 9:
        raise Invalid("base_version", "The form was damaged; reload the editor.")
    return int(value)


def _clean_fields(kind: str, form, document) -> dict:
    """The checked front matter: raises Invalid naming the field."""
    raw = _raw_fields(kind, form)
    if kind == "article":
        return validation.clean_article_fields(raw, document)
    return {"slug": validation.clean_slug(kind, raw["slug"] or "", document),
            "requires_approval": bool(raw["requires_approval"])}


def _editor(kind: str, document):
    """GET shows the editor; POST previews, saves a draft, publishes or submits."""
    form = _form(kind)
    draft = services.draft_for(kind, document) if document else _posted_draft(kind)
    if request.method == "GET":
        _fill(kind, form, document, draft)
        if document is not None and request.args.get("from_version"):
            _fill_from_version(kind, form, document, draft, request.args["from_version"])
        return _render_editor(kind, form, document, draft)
    if not form.validate():
        abort(400)
    action = request.form.get("action", "save")
    preview = problems = None
    status = 200
    try:
        if action == "preview":
            preview = render_markdown(validation.preview_body(kind, form.markdown.data or ""))
        elif action == "rebase":
            draft = services.rebase(current_user, kind, document, _raw_fields(kind, form),
                                    form.markdown.data or "")
            db.session.commit()
            flash(f"Your text is kept as a draft on top of version "
                  f"{draft.base_version}. Check it against the current version, then "
                  "publish.", "info")
            return redirect(request.path)
        elif action == "save":
            return _save_draft(kind, form, document, draft)
        elif action == "publish":
            return _publish(kind, form, document, draft)
        else:
            abort(400)
    except StaleVersion as stale:
        db.session.rollback()
        return _conflict(kind, form, stale)
    except ScriptProblems as error:
        db.session.rollback()
        problems, status = error.problems, 400
        form.markdown.errors = [error.message]
    except Invalid as error:
        db.session.rollback()
        status = 400
        field = getattr(form, error.field, None)
        if field is None or error.field == "base_version":
            flash(error.message, "error")
        else:
            field.errors = [error.message]
    except NotAllowed as error:
        db.session.rollback()
        flash(str(error), "error")
        status = 403
    return _render_editor(kind, form, document, draft, preview=preview, problems=problems,
                          status=status)


def _posted_draft(kind: str):
    """The draft of a new document named by the form's draft_id, if any."""
    value = request.form.get("draft_id", "")
    if not value.isdigit() or len(value) > 9:
        return None
    try:
        draft = services.get_draft(int(value))
    except NotFound:
        return None
    return draft if draft.kind == kind and draft.document_id is None else None


def _save_draft(kind: str, form, document, draft):
    """Save draft: kept even with problems; a script's problems are listed at once."""
    markdown = (form.markdown.data or "").replace("\r\n", "\n")
    raw = _raw_fields(kind, form)
    if document is None:
        raw["slug"] = validation.clean_slug(kind, raw.get("slug") or "")
    draft = services.save_draft(current_user, kind, document, raw, markdown, _base(form),
                                draft=draft)
    db.session.commit()
    problems = None
    if kind == "script":
        try:
            validation.check_script(markdown, raw.get("slug") or "script")
        except ScriptProblems as error:
            problems = error.problems
    if problems:
        flash(f"Draft saved. It has {len(problems)} problem(s) to fix before it can be "
              "published; each is listed beside its step.", "info")
        form.markdown.errors = ["Fix these before publishing."]
        return _render_editor(kind, form, document, draft, problems=problems)
    flash("Draft saved. Only managers can see it.", "success")
    if document is None:
        return redirect(url_for("publishing.draft", draft_id=draft.id))
    return redirect(request.path)


def _publish(kind: str, form, document, draft):
    """Publish (or submit for approval) after checking every field."""
    fields = _clean_fields(kind, form, document)
    markdown = validation.clean_markdown(form.markdown.data)
    summary, material = validation.clean_change(form.change_summary.data, form.material.data)
    base = _base(form)
    if services.approval_required(kind, document, fields, markdown):
        services.submit_for_approval(current_user, kind, document, fields, markdown, base,
                                     summary, material, draft=draft)
        db.session.commit()
        flash("Submitted for approval: another manager will approve it or send it back "
              "with a comment.", "success")
        return redirect(url_for("publishing.drafts"))
    document, version = services.publish_change(current_user, kind, document, fields,
                                                markdown, base, summary, material,
                                                draft=draft)
    db.session.commit()  # the database first; the index follows
    flash_synced(f"Published version {version.number}.")
    return redirect(document_url(kind, document.slug))


def _render_editor(kind: str, form, document, draft, *, preview=None, problems=None,
                   status: int = 200):
    """The editor page."""
    fields = {"slug": form.slug.data, "category": getattr(form, "category", None)
              and form.category.data, "requires_approval": form.requires_approval.data}
    needs_approval = services.approval_required(kind, document, fields,
                                                form.markdown.data or "")
    if preview is None:  # the page opens with the preview beside the text
        preview = render_markdown(validation.preview_body(kind, form.markdown.data or ""))
    warnings = [] if kind != "script" or problems else validation.script_warnings(
        form.markdown.data or "", form.slug.data or "script")
    return render_template(
        "publishing/editor.html", kind=kind, noun=validation.NOUNS[kind], form=form,
        document=document, draft=draft, preview=preview, problems=problems or [],
        warnings=warnings,
        needs_approval=needs_approval, choices=services.article_choices(),
        action_form=ActionForm(), refused=status == 400 and not problems,
    ), status


def _conflict(kind: str, form, stale: StaleVersion):
    """Someone published while this manager edited: show the difference, let them choose."""
    document = stale.document
    current = document.current_version
    form.base_version.data = str(stale.current)
    diff = word_diff(current.markdown, (form.markdown.data or "").replace("\r\n", "\n"))
    return render_template(
        "publishing/conflict.html", kind=kind, noun=validation.NOUNS[kind], form=form,
        document=document, current=current, stale=stale, diff=diff, meta=_meta(kind),
        action_form=ActionForm(),
    ), 409


@bp.route("/preview", methods=["POST"])
@role_required("manager")
def preview():
    """The editor's live preview: the same sanitising renderer as the article page."""
    text = request.form.get("markdown", "")
    if len(text) > validation.MAX_MARKDOWN:
        abort(400)
    kind = request.form.get("kind", "article")
    rendered = render_markdown(validation.preview_body(kind, text))
    warnings = validation.script_warnings(text, "script") if kind == "script" else []
    return render_template("publishing/_preview.html", preview=rendered, warnings=warnings)


# ----- drafts --------------------------------------------------------------------------


@bp.route("/")
@role_required("manager")
def drafts():
    """Open drafts (with any comment from an approver) and the approval queue's size."""
    return render_template("publishing/drafts.html", drafts=services.open_drafts(),
                           pending=len(services.pending_drafts()),
                           document_of=services.document_of)


@bp.route("/drafts/<int:draft_id>")
@role_required("manager")
def draft(draft_id: int):
    """Open a draft in its editor."""
    try:
        item = services.get_draft(draft_id)
    except NotFound:
        abort(404)
    document = services.document_of(item)
    paths = {v: k for k, v in KIND_PATHS.items()}
    if document is not None:
        return redirect(url_for("publishing.edit", kinds=paths[item.kind], slug=document.slug))
    form = _form(item.kind)
    _fill(item.kind, form, None, item)
    return _render_editor(item.kind, form, None, item)


@bp.route("/drafts/<int:draft_id>/discard", methods=["POST"])
@role_required("manager")
def discard(draft_id: int):
    """Throw a draft away (audited)."""
    if not ActionForm().validate():
        abort(400)
    try:
        item = services.get_draft(draft_id)
    except NotFound:
        flash("That draft had already gone.", "info")
        return redirect(url_for("publishing.drafts"))
    document = services.document_of(item)
    services.discard_draft(current_user, item)
    db.session.commit()
    flash("Draft discarded.", "success")
    if document is not None:
        return redirect(document_url(item.kind, document.slug))
    return redirect(url_for("publishing.drafts"))


@bp.route("/<kinds>/<slug>/discard-edit", methods=["POST"])
@role_required("manager")
def discard_edit(kinds: str, slug: str):
    """After a conflict: drop this manager's text and go back to the current version."""
    kind = _kind(kinds)
    if not ActionForm().validate():
        abort(400)
    document = _document(kind, slug)
    item = services.draft_for(kind, document)
    if item is not None and item.state != "pending":
        services.discard_draft(current_user, item)
        db.session.commit()
    flash("Your changes were discarded; this is the current version.", "success")
    return redirect(document_url(kind, document.slug))


# ----- archive and settings ------------------------------------------------------------


@bp.route("/<kinds>/<slug>/archive", methods=["POST"])
@role_required("manager")
def archive(kinds: str, slug: str):
    """Archive: out of search and navigation; versions stay."""
    return _archive_or_restore(_kind(kinds), slug, archiving.archive,
                               "Archived: agents no longer find it. Restore it from the "
                               "Archived list.")


@bp.route("/<kinds>/<slug>/restore", methods=["POST"])
@role_required("manager")
def restore(kinds: str, slug: str):
    """Restore an archived document."""
    return _archive_or_restore(_kind(kinds), slug, archiving.restore,
                               "Restored: it is back in search and navigation.")


def _archive_or_restore(kind: str, slug: str, change, message: str):
    """Run archive or restore, commit, then bring the index in line."""
    if not ActionForm().validate():
        abort(400)
    document = _document(kind, slug)
    try:
        change(current_user, document)
    except Invalid as error:
        db.session.rollback()
        flash(error.message, "info")
        return redirect(document_url(kind, slug))
    db.session.commit()
    flash_synced(message)
    return redirect(document_url(kind, slug))


@bp.route("/archived")
@role_required("manager")
def archived():
    """Everything archived, with Restore."""
    return render_template("publishing/archived.html", items=archiving.archived_documents(),
                           action_form=ActionForm(), document_url=document_url)


@bp.route("/categories", methods=["GET", "POST"])
@role_required("manager")
def categories():
    """Which categories need a second manager's approval."""
    form = CategoryApprovalForm()
    status = 200
    if request.method == "POST":
        if not form.validate():
            abort(400)
        try:
            changed = archiving.set_category_approval(
                current_user, form.category.data or "", form.requires_approval.data == "1")
        except Invalid as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 400
        else:
            db.session.commit()
            flash(f"“{form.category.data}”: changes "
                  f"{'now need' if form.requires_approval.data == '1' else 'no longer need'} "
                  "approval." if changed else "No change.", "success")
            return redirect(url_for("publishing.categories"))
    return render_template("publishing/categories.html",
                           settings=archiving.approval_settings(), form=form), status
