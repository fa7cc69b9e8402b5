"""Sign-off pages: signing a standard, "My sign-offs", and the banner on every page."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from kb.auth import reauth
from kb.auth.oidc import SsoError
from kb.content.render import render_markdown
from kb.core.errors import Invalid, NotFound
from kb.core.permissions import role_required
from kb.extensions import db, limiter
from kb.signoffs import bp, countersign, pending, reminders, services, status
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
    """Read the current version and sign it (name, tick, and the password or, for a single
    sign-on user, a fresh sign-in at the provider); POST records it or starts that."""
    try:
        article, doc = services.signable(slug)
    except NotFound:
        abort(404)
    version = article.current_version
    form = SignForm()
    code, problems = 200, {}
    chosen = {key: request.form.get(key) for key in request.form if key.startswith("q")}
    if request.method == "POST":
        if not form.validate_on_submit():
            flash("The form could not be read (it may have expired); nothing was recorded. "
                  "Open the standard again.", "error")
            code = 400
        else:
            try:
                if reauth.uses_provider(current_user):
                    return _to_provider_for(slug, _submission(form))
                services.sign(slug, current_user, _submission(form),
                              address=request.remote_addr,
                              user_agent=request.headers.get("User-Agent"))
            except SsoError as problem:
                flash(problem.message, "error")
                code = problem.status
            except Invalid as problem:
                db.session.rollback()
                if isinstance(problem, services.AlreadySigned):
                    flash(problem.message, "success")
                    return redirect(url_for("signoffs.mine"))
                code = 429 if isinstance(problem, services.TooManyAttempts) else 400
                _show_problem(form, problem, problems)
            else:
                db.session.commit()
                flash(f"Signed: version {version.number} of {article.title}.", "success")
                return redirect(url_for("signoffs.mine"))
    else:
        # Back from the provider without a signature: what they ticked and typed is kept.
        waiting = pending.peek(current_user, "sign")
        if waiting and waiting["slug"] == slug and waiting["version_number"] == str(
                version.number):
            form.typed_name.data = waiting["typed_name"]
            form.understood.data = waiting["understood"]
            chosen = {f"q{key}": value for key, value in (waiting["answers"] or {}).items()}
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
        chosen=chosen, wrong="questions" in problems, problems=problems,
        reauth_at=reauth.provider_name() if reauth.uses_provider(current_user) else None,
    ), code


def _show_problem(form: SignForm, problem: Invalid, problems: dict) -> None:
    """Put a refusal's message on its field (and at the top of the page)."""
    problems[problem.field] = problem.message
    field = getattr(form, problem.field, None)
    if field is not None and field.type != "HiddenField":
        field.errors = [problem.message]
    flash(problem.message, "error")


def _to_provider_for(slug: str, submission: services.Submission):
    """Check the signature as far as it can be checked here, keep it, and send the signer
    to the provider to sign in again (Invalid or SsoError when that cannot start)."""
    services.check_submission(slug, current_user, submission)
    key = pending.keep(current_user, "sign", {
        "slug": slug, "user_id": submission.user_id,
        "version_number": submission.version_number,
        "content_sha256": submission.content_sha256, "typed_name": submission.typed_name,
        "understood": submission.understood, "answers": submission.answers,
    })
    return redirect(reauth.start(current_user, key=key,
                                 return_to=url_for("signoffs.confirm", key=key),
                                 cancel_to=url_for("signoffs.sign", slug=slug)))


@bp.route("/signoffs/confirm")
@role_required("agent")
def confirm():
    """Back from signing in again at the provider: record the signature or countersignature
    that was waiting for it.

    A GET that writes, as the end of the provider's redirect must be: it records only with
    a one-time proof that the callback put in this browser's session for this key, so a
    link from elsewhere records nothing."""
    key = request.args.get("key", "")
    kind = pending.kind_of(current_user, key)
    proof = reauth.take(current_user, key)
    if kind is None:
        flash("Nothing is waiting to be signed: it was recorded already, or waited too long. "
              "Open the standard again.", "info")
        return redirect(url_for("signoffs.mine"))
    if kind == "countersign":
        return _confirm_countersign(pending.peek(current_user, kind, key), proof)
    data = pending.peek(current_user, kind, key)
    back = url_for("signoffs.sign", slug=data["slug"])
    if proof is None:
        flash(f"The sign-in at {reauth.provider_name()} was not confirmed, so nothing was "
              "recorded. Press Sign to try again.", "error")
        return redirect(back)
    submission = services.Submission(
        user_id=data["user_id"], version_number=data["version_number"],
        content_sha256=data["content_sha256"], typed_name=data["typed_name"], password="",
        understood=data["understood"], answers=data["answers"])
    try:
        record = services.sign(data["slug"], current_user, submission, proof=proof,
                               address=request.remote_addr,
                               user_agent=request.headers.get("User-Agent"))
    except NotFound:
        pending.drop()
        flash("That standard no longer asks for sign-offs; nothing was recorded.", "error")
        return redirect(url_for("signoffs.mine"))
    except Invalid as problem:
        db.session.rollback()
        if isinstance(problem, services.AlreadySigned):
            pending.drop()
            flash(problem.message, "success")
            return redirect(url_for("signoffs.mine"))
        flash(problem.message, "error")
        return redirect(back)
    db.session.commit()
    pending.drop()
    flash(f"Signed: version {record.version_number} of {record.article.title}.", "success")
    return redirect(url_for("signoffs.mine"))


def _confirm_countersign(data: dict, proof):
    """The countersignature half of ``confirm``."""
    back = url_for("signoffs.countersign", team=data.get("team_id"))
    if proof is None:
        flash(f"The sign-in at {reauth.provider_name()} was not confirmed, so nothing was "
              "recorded. Countersign again.", "error")
        return redirect(back)
    try:
        records = countersign.countersign(
            current_user, countersign.Countersigning(data["ids"], data["typed_name"], ""),
            proof=proof, address=request.remote_addr,
            user_agent=request.headers.get("User-Agent"))
    except Invalid as problem:
        db.session.rollback()
        if isinstance(problem, countersign.AlreadyCountersigned):
            pending.drop()
        flash(problem.message, "success" if getattr(problem, "by_you", False) else "error")
        return redirect(back)
    db.session.commit()
    pending.drop()
    flash(f"Countersigned {len(records)} sign-off{'' if len(records) == 1 else 's'}.",
          "success")
    return redirect(back)


def _submission(form: SignForm) -> services.Submission:
    """The posted values, as typed."""
    return services.Submission(
        user_id=form.user_id.data or "", version_number=form.version_number.data or "",
        content_sha256=form.content_sha256.data or "", typed_name=form.typed_name.data or "",
        password=form.password.data or "", understood=bool(form.understood.data),
        answers={key[1:]: value[:200] for key, value in request.form.items()
                 if key.startswith("q") and key[1:].isdigit() and len(key) <= 3},
    )
