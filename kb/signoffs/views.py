"""Sign-off pages: signing a standard, "My sign-offs", and the banner on every page."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from kb.content.render import render_markdown
from kb.core.errors import Invalid, NotFound
from kb.core.permissions import role_required
from kb.extensions import db, limiter
from kb.signoffs import bp, countersign, reminders, services, status
from kb.signoffs.forms import SignForm


@bp.app_context_processor
def _signoff_banner() -> dict:
    """The banner's summary, for signed-in users only, worked out only if a page asks."""
    if not current_user.is_authenticated:
        return {}

    def summary() -> reminders.Summary:
        """What the signed-in user owes, as the reminder email says it."""
        # A database that cannot answer shows no banner rather than breaking the page.
        try:
            return reminders.banner(current_user)
        except SQLAlchemyError:
            db.session.rollback()
            return reminders.Summary(0, 0, None)

    return {"signoff_banner": summary}


def _sign_limit() -> str:
    """Wrong passwords on the sign form are limited per address like sign-in."""
    return current_app.config["KB_LOGIN_RATE_LIMIT"]


@bp.route("/signoffs/")
@role_required("agent")
def mine():
    """My sign-offs: what is outstanding (with what changed since I signed) and done, and
    who countersigned each signature."""
    statuses = status.for_user(current_user)
    outstanding = [s for s in statuses if s.outstanding]
    signed = services.signed_by(current_user)
    return render_template(
        "signoffs/mine.html", outstanding=outstanding,
        diffs=services.changes_since(outstanding), signed=signed,
        countersigned=countersign.countersigned_by(record.id for record, _ in signed),
    )


@bp.route("/signoffs/articles/<slug>/sign", methods=["GET", "POST"])
@role_required("agent")
@limiter.limit(_sign_limit, methods=["POST"])
def sign(slug: str):
    """Read the current version and sign it (name, password, tick); POST records it."""
    try:
        article, doc = services.signable(slug)
    except NotFound:
        abort(404)
    version = article.current_version
    form = SignForm()
    code, problems = 200, {}
    if request.method == "POST":
        if not form.validate_on_submit():
            flash("The form could not be read (it may have expired); nothing was recorded. "
                  "Open the standard again.", "error")
            code = 400
        else:
            try:
                services.sign(slug, current_user, _submission(form),
                              address=request.remote_addr,
                              user_agent=request.headers.get("User-Agent"))
            except Invalid as problem:
                db.session.rollback()
                code = 429 if isinstance(problem, services.TooManyAttempts) else 400
                if isinstance(problem, services.AlreadySigned):
                    flash(problem.message, "success")
                    return redirect(url_for("signoffs.mine"))
                problems[problem.field] = problem.message
                field = getattr(form, problem.field, None)
                if field is not None and field.type != "HiddenField":
                    field.errors = [problem.message]
                flash(problem.message, "error")
            else:
                db.session.commit()
                flash(f"Signed: version {version.number} of {article.title}.", "success")
                return redirect(url_for("signoffs.mine"))
    # What the page shows is what the hidden fields vouch for.
    form.user_id.data = str(current_user.id)
    form.version_number.data = str(version.number)
    form.content_sha256.data = version.sha256
    form.password.data = ""
    signed = services.already_signed(current_user, article, version.number)
    return render_template(
        "signoffs/sign.html", article=article, version=version, doc=doc, form=form,
        rendered=render_markdown(version.markdown), signed=signed,
        applies=doc.applies_to(current_user), questions=article.signoff_questions or [],
        chosen={key: request.form.get(key) for key in request.form if key.startswith("q")},
        wrong="questions" in problems, problems=problems,
    ), code


def _submission(form: SignForm) -> services.Submission:
    """The posted values, as typed."""
    return services.Submission(
        user_id=form.user_id.data or "", version_number=form.version_number.data or "",
        content_sha256=form.content_sha256.data or "", typed_name=form.typed_name.data or "",
        password=form.password.data or "", understood=bool(form.understood.data),
        answers={key[1:]: value[:200] for key, value in request.form.items()
                 if key.startswith("q") and key[1:].isdigit() and len(key) <= 3},
    )
