"""Signing: the rules a signature must pass before it is recorded, and reading records."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from kb.auth import reauth
from kb.auth.services import login_backoff, record_login_failure
from kb.core import audit
from kb.core.diffs import Diff, word_diff
from kb.core.errors import Invalid, NotFound
from kb.core.signals import signoff_recorded
from kb.extensions import db
from kb.models import Article, ArticleVersion, utcnow
from kb.signoffs import chain, status
from kb.signoffs.models import MEANING, SignOff

MAX_USER_AGENT = 400
MAX_ADDRESS = 64


class AlreadySigned(Invalid):
    """The user has signed this version already (a double submit): nothing new recorded."""


class TooManyAttempts(Invalid):
    """Too many wrong passwords for this account lately: wait before trying again."""


@dataclass(frozen=True)
class Submission:
    """What the sign form posted, as typed."""

    user_id: str
    version_number: str
    content_sha256: str
    typed_name: str
    password: str
    understood: bool
    answers: dict[str, str] | None = None  # comprehension answers: question index -> choice


def normalise_name(name: str) -> str:
    """A name compared case and spacing aside: "  alex   AGENT " -> "alex agent"."""
    return " ".join((name or "").split()).casefold()


def signable(slug: str) -> tuple[Article, status.Document]:
    """The live article ``slug`` that requires a sign-off, or NotFound."""
    article = db.session.scalar(db.select(Article).filter_by(slug=slug))
    doc = next((d for d in status.documents() if article and d.id == article.id), None)
    if article is None or doc is None or article.current_version is None:
        raise NotFound("No standard to sign at this address.")
    return article, doc


def check_submission(slug: str, user, form: Submission):
    """Every rule of a signature but the re-authentication: the article, its current
    version and the answers to keep, or Invalid(field, message). Run before a single
    sign-on user is sent to the provider (``sign`` checks the same again)."""
    article, version, answers = _check_rules(slug, user, form)
    if already_signed(user, article, version.number):
        raise AlreadySigned("version_number", _already(version.number))
    return article, version, answers


def _check_rules(slug: str, user, form: Submission):
    """The rules of ``check_submission`` but "not signed already"."""
    article, doc = signable(slug)
    version = article.current_version
    if not doc.applies_to(user):
        raise Invalid("user_id", "This standard does not ask you for a sign-off; nothing "
                                 "was recorded.")
    if str(form.user_id).strip() != str(user.id):
        raise Invalid("user_id", "This form was for another person. Sign in as yourself "
                                 "and open the standard again; nothing was recorded.")
    if str(form.version_number).strip() != str(version.number):
        raise Invalid("version_number",
                      f"This standard has changed since you opened it: version "
                      f"{version.number} is current now. Read it again and sign that "
                      "version; nothing was recorded.")
    if (form.content_sha256 or "").strip().lower() != version.sha256:
        raise Invalid("content_sha256", "The text you were shown does not match the current "
                                        "version. Open the standard again; nothing was "
                                        "recorded.")
    answers = check_answers(article.signoff_questions or [], form.answers or {})
    if not form.understood:
        raise Invalid("understood", "Tick the box to confirm you have read and understood "
                                    "this standard.")
    check_name(user, form.typed_name)
    return article, version, answers


def _already(number: int) -> str:
    return f"You have already signed version {number} of this standard."


def sign(slug: str, user, form: Submission, *, address: str | None,
         user_agent: str | None, proof: reauth.Proof | None = None) -> SignOff:
    """Record ``user``'s signature on the current version of ``slug`` (flushed; the caller
    commits), re-authenticated by the password in ``form`` or, for a single sign-on user,
    by ``proof`` of a fresh sign-in at the provider. Every refusal raises
    Invalid(field, message) and adds nothing."""
    article, version, answers = _check_rules(slug, user, form)
    evidence = confirm_identity(user, form.password, proof, scope="signoff")
    already = _already(version.number)
    if already_signed(user, article, version.number):
        raise AlreadySigned("version_number", already)
    record = SignOff(
        user_id=user.id, kind="article", article_id=article.id, version_id=version.id,
        version_number=version.number, content_sha256=version.sha256,
        typed_name=" ".join(form.typed_name.split())[:120], meaning=MEANING,
        signed_at=utcnow().replace(microsecond=0),
        client_address=(address or "")[:MAX_ADDRESS],
        user_agent=(user_agent or "")[:MAX_USER_AGENT], answers=answers, reauth=evidence,
    )
    try:
        chain.append(record)
    except IntegrityError as error:
        if "seq" in str(error.orig) or "record_hash" in str(error.orig):
            raise  # two records took one chain position: the lock failed, a real fault
        # The same signature committed by a simultaneous submit got there first (the
        # unique constraint); the caller rolls back, so nothing of this one stays.
        raise AlreadySigned("version_number", already) from error
    audit.record(user, "signoff.recorded", article,
                 {"version": version.number, "sha256": version.sha256, "seq": record.seq,
                  "record_hash": record.record_hash})
    signoff_recorded.send(article, user=user, version=version)
    return record


def check_name(user, typed_name: str | None) -> None:
    """A signature's typed name must be the account's display name, case and spacing
    aside; raises Invalid("typed_name", ...)."""
    if normalise_name(typed_name) != normalise_name(user.display_name):
        raise Invalid("typed_name", f"Type your full name as it appears on your account "
                                    f"({user.display_name}); nothing was recorded.")


def confirm_identity(user, password: str | None, proof: reauth.Proof | None, *,
                     scope: str) -> str:
    """The signer proves it is them again: a single sign-on user by ``proof`` of a fresh
    sign-in at the provider, anyone else by their password. Returns how, to keep with the
    record; raises Invalid or TooManyAttempts."""
    if reauth.uses_provider(user):
        if proof is None:
            raise Invalid("password", f"Sign in again at {reauth.provider_name()} to confirm "
                                      "it is you; nothing was recorded.")
        return reauth.check(user, proof)
    check_password(user, password, scope=scope)
    return reauth.PASSWORD


def check_password(user, password: str | None, *, scope: str) -> None:
    """A signature's second factor beyond the open session: the password again. Wrong
    ones count per account like sign-in failures, under their own key (``scope``), and
    too many make the account wait; raises Invalid or TooManyAttempts."""
    key = f"{scope}:{user.username}"
    if login_backoff(key):
        raise TooManyAttempts("password", "Too many wrong passwords. Wait a few minutes and "
                                          "try again; nothing was recorded.")
    if not user.check_password(password or ""):
        record_login_failure(key)
        raise Invalid("password", "That password is not right. Re-enter the password you "
                                  "sign in with; nothing was recorded.")


def check_answers(questions: list[dict], given: dict[str, str]) -> list[dict] | None:
    """The comprehension answers to keep with the signature (None: no questions); raises
    Invalid("questions", ...) for the first question unanswered or answered wrongly."""
    if not questions:
        return None
    kept = []
    for number, item in enumerate(questions, start=1):
        answer = given.get(str(number - 1))
        if not answer:
            raise Invalid("questions", f"Answer question {number} before signing; nothing "
                                       "was recorded.")
        if answer != item["answer"]:
            raise Invalid("questions", f"Question {number} is not right. Read the standard "
                                       "again and choose another answer; nothing was "
                                       "recorded.")
        kept.append({"question": item["question"], "answer": answer})
    return kept


def already_signed(user, article, number: int) -> bool:
    """Whether ``user`` has a signature on this version of ``article``."""
    return db.session.scalar(
        db.select(SignOff.id).filter_by(user_id=user.id, article_id=article.id,
                                        version_number=number)
    ) is not None


def signed_by(user) -> list[tuple[SignOff, Article]]:
    """Every signature of ``user``, newest first (their own only)."""
    return [tuple(row) for row in db.session.execute(
        db.select(SignOff, Article).join(Article, Article.id == SignOff.article_id)
        .where(SignOff.user_id == user.id).order_by(SignOff.signed_at.desc(), SignOff.id.desc())
    )]


def changes_since(statuses: list[status.Status]) -> dict[int, Diff]:
    """For each outdated sign-off, the word diff from the version signed to the current one
    (one query for all the texts)."""
    wanted = {(s.document.id, n) for s in statuses if s.was_signed and s.outstanding
              for n in (s.signed_number, s.document.current_number)}
    if not wanted:
        return {}
    rows = db.session.execute(
        db.select(ArticleVersion.article_id, ArticleVersion.number, ArticleVersion.markdown)
        .where(ArticleVersion.article_id.in_({a for a, _ in wanted}))
        .where(ArticleVersion.number.in_({n for _, n in wanted}))
    ).all()
    texts = {(a, n): text for a, n, text in rows}
    return {
        s.document.id: word_diff(texts.get((s.document.id, s.signed_number), ""),
                                 texts.get((s.document.id, s.document.current_number), ""))
        for s in statuses if s.was_signed and s.outstanding
    }
