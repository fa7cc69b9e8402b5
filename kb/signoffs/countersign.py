"""Countersigning: a team leader's or manager's signature under an agent's sign-off (the
manager's half of the paper form), its queue, and reading countersignatures back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import false, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from kb.auth import reauth
from kb.core import audit
from kb.core.errors import Invalid
from kb.core.permissions import require
from kb.core.signals import signoff_countersigned
from kb.extensions import db
from kb.models import Article, Team, User, utcnow
from kb.signoffs import chain
from kb.signoffs.models import COUNTERSIGN_MEANING, Countersignature, SignOff
from kb.signoffs.services import MAX_ADDRESS, MAX_USER_AGENT, check_name, confirm_identity

# The queue page shows the oldest this many; a post names at most as many as a page shows.
QUEUE_LIMIT = 200
MAX_ID_DIGITS = 9  # below PostgreSQL's integer limit, so a long number is a message, not a 500
NOT_A_COUNTERSIGNER = "Only a team leader, manager or admin can countersign; nothing was recorded."


class AlreadyCountersigned(Invalid):
    """A sign-off in the batch has its countersignature already; ``by_you``: every one was
    countersigned by this countersigner (a double submit), so there is nothing left to do."""

    def __init__(self, field: str, message: str, *, by_you: bool = False) -> None:
        super().__init__(field, message)
        self.by_you = by_you


@dataclass(frozen=True)
class Pending:
    """A sign-off waiting for a countersignature, with who signed what."""

    signoff: SignOff
    person: User
    article: Article


@dataclass(frozen=True)
class Countersigning:
    """What the countersign form posted, as typed."""

    signoff_ids: list[str]
    typed_name: str
    password: str


def is_countersigner(user) -> bool:
    """Whether ``user`` may countersign at all (team leaders, managers, admins)."""
    return user is not None and user.is_authenticated and user.has_role("manager")


def may_countersign(countersigner, signer) -> bool:
    """The rule: an admin countersigns anyone's sign-off, a manager those of the active
    people in their own team; nobody their own."""
    if not is_countersigner(countersigner) or signer.id == countersigner.id or not signer.active:
        return False
    if countersigner.has_role("admin"):
        return True
    return countersigner.team_id is not None and signer.team_id == countersigner.team_id


def _scope(countersigner) -> list:
    """``may_countersign`` as SQL conditions on the signer (User)."""
    conditions = [User.active.is_(True), User.id != countersigner.id]
    if not countersigner.has_role("admin"):
        conditions.append(User.team_id == countersigner.team_id
                          if countersigner.team_id is not None else false())
    return conditions


def _pending(columns, countersigner, team_id: int | None):
    """A select of ``columns`` over the sign-offs ``countersigner`` may countersign that have
    no countersignature; ``team_id`` narrows it to one team."""
    query = (
        db.select(*columns).select_from(SignOff)
        .join(User, User.id == SignOff.user_id)
        .join(Article, Article.id == SignOff.article_id)
        .outerjoin(Countersignature, Countersignature.signoff_id == SignOff.id)
        .where(Countersignature.id.is_(None), *_scope(countersigner))
    )
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    return query


def queue(countersigner, team_id: int | None = None,
          limit: int = QUEUE_LIMIT) -> list[Pending]:
    """The oldest ``limit`` sign-offs waiting for ``countersigner`` (one query)."""
    require(countersigner, "manager", NOT_A_COUNTERSIGNER)
    rows = db.session.execute(
        _pending((SignOff, User, Article), countersigner, team_id)
        .order_by(SignOff.signed_at, SignOff.id).limit(limit)
    )
    return [Pending(signoff, person, article) for signoff, person, article in rows]


def queue_count(countersigner, team_id: int | None = None) -> int:
    """How many sign-offs wait for ``countersigner`` (one query; 0 for agents)."""
    if not is_countersigner(countersigner):
        return 0
    return db.session.scalar(
        _pending((func.count(SignOff.id),), countersigner, team_id)) or 0


def teams() -> list[Team]:
    """Every team, by name (the admins' queue filter)."""
    return list(db.session.scalars(db.select(Team).order_by(Team.name)))


def parse_ids(values: Iterable[str]) -> list[int]:
    """The posted sign-off numbers, in order and once each; raises Invalid("signoff_ids")
    for none, a value that is not a number, or more than a page holds."""
    ids: list[int] = []
    for value in values:
        value = (value or "").strip()
        if not value:
            continue
        if not (value.isascii() and value.isdigit()) or len(value) > MAX_ID_DIGITS:
            raise Invalid("signoff_ids", f"“{value[:20]}” is not a sign-off number; nothing "
                                         "was recorded.")
        if int(value) not in ids:
            ids.append(int(value))
    if not ids:
        raise Invalid("signoff_ids", "Select at least one sign-off to countersign; nothing "
                                     "was recorded.")
    if len(ids) > QUEUE_LIMIT:
        raise Invalid("signoff_ids", f"Countersign at most {QUEUE_LIMIT} sign-offs at a time; "
                                     "nothing was recorded.")
    return ids


def _when(moment) -> str:
    """A time in a refusal message (UTC, to the minute)."""
    return moment.strftime("%d %b %Y %H:%M UTC")


def _check_batch(countersigner, ids: list[int]) -> list[Pending]:
    """The sign-offs named, in order, if ``countersigner`` may countersign every one of them
    now; otherwise Invalid naming the first that fails (one query)."""
    rows = db.session.execute(
        db.select(SignOff, User, Article, Countersignature)
        .join(User, User.id == SignOff.user_id)
        .join(Article, Article.id == SignOff.article_id)
        .outerjoin(Countersignature, Countersignature.signoff_id == SignOff.id)
        .options(joinedload(Countersignature.countersigner))
        .where(SignOff.id.in_(ids))
    ).all()
    found = {row[0].id: row for row in rows}
    pending, done = [], []
    for number in ids:
        if number not in found:
            raise Invalid("signoff_ids", f"There is no sign-off {number}; nothing was "
                                         "recorded.")
        signoff, signer, article, existing = found[number]
        if signer.id == countersigner.id:
            raise Invalid("signoff_ids", f"Sign-off {number} ({article.title}) is your own: "
                                         "someone else must countersign it; nothing was "
                                         "recorded.")
        if not may_countersign(countersigner, signer):
            raise Invalid("signoff_ids", f"Sign-off {number} is not in your queue (you "
                                         "countersign the sign-offs of your own team); "
                                         "nothing was recorded.")
        if existing is not None:
            done.append((number, signer, article, existing))
        else:
            pending.append(Pending(signoff, signer, article))
    if done:
        if not pending and all(c.countersigner_id == countersigner.id for *_, c in done):
            raise AlreadyCountersigned(
                "signoff_ids", f"You have already countersigned "
                f"{'this sign-off' if len(done) == 1 else 'these sign-offs'}; nothing more "
                "to record.", by_you=True)
        number, signer, article, existing = done[0]
        raise AlreadyCountersigned(
            "signoff_ids", f"Sign-off {number} ({signer.display_name}, {article.title}) was "
            f"already countersigned by {existing.countersigner.display_name} on "
            f"{_when(existing.countersigned_at)}; nothing was recorded.")
    return pending


def check_countersigning(countersigner, form: Countersigning) -> list[Pending]:
    """Every rule of a countersignature but the re-authentication: the sign-offs it
    covers, or NotAllowed / Invalid(field, message). Run before a single sign-on user is
    sent to the provider, and again by ``countersign``."""
    require(countersigner, "manager", NOT_A_COUNTERSIGNER)
    ids = parse_ids(form.signoff_ids)
    check_name(countersigner, form.typed_name)
    return _check_batch(countersigner, ids)


def countersign(countersigner, form: Countersigning, *, address: str | None,
                user_agent: str | None,
                proof: reauth.Proof | None = None) -> list[Countersignature]:
    """Countersign every sign-off in ``form`` or none (flushed; the caller commits),
    re-authenticated by the password in ``form`` or, for a single sign-on user, by
    ``proof``. Every refusal raises NotAllowed or Invalid(field, message) and adds
    nothing."""
    pending = check_countersigning(countersigner, form)
    evidence = confirm_identity(countersigner, form.password, proof, scope="countersign")
    now = utcnow().replace(microsecond=0)
    records = []
    for item in pending:
        # Worked out now: a failed flush expires every loaded object.
        label = f"Sign-off {item.signoff.id} ({item.person.display_name}, {item.article.title})"
        record = Countersignature(
            signoff_id=item.signoff.id, countersigner_id=countersigner.id,
            typed_name=" ".join(form.typed_name.split())[:120], meaning=COUNTERSIGN_MEANING,
            countersigned_at=now, client_address=(address or "")[:MAX_ADDRESS],
            user_agent=(user_agent or "")[:MAX_USER_AGENT], reauth=evidence,
        )
        try:
            chain.append(record)
        except IntegrityError as error:
            if "signoff_id" not in str(error.orig):
                raise  # two records took one chain position: the lock failed, a real fault
            # A simultaneous submit countersigned it first (the unique constraint); the
            # caller rolls back, so nothing of this batch stays.
            raise AlreadyCountersigned(
                "signoff_ids", f"{label} was countersigned by another submit at the same "
                "moment; nothing of yours was recorded.") from error
        audit.record(countersigner, "signoff.countersigned", item.signoff,
                     {"signoff": item.signoff.id, "seq": record.seq,
                      "record_hash": record.record_hash})
        records.append(record)
    # Told only once the whole batch stands, so no receiver hears of a rolled-back one.
    for item in pending:
        signoff_countersigned.send(item.article, signer=item.person,
                                   countersigner=countersigner, signoff=item.signoff)
    return records


def countersigned_by(signoff_ids: Iterable[int]) -> dict[int, Countersignature]:
    """The countersignature of each of ``signoff_ids`` that has one, by sign-off id, with
    its countersigner loaded (one query)."""
    ids = {int(n) for n in signoff_ids}
    if not ids:
        return {}
    return {
        record.signoff_id: record for record in db.session.scalars(
            db.select(Countersignature).options(joinedload(Countersignature.countersigner))
            .where(Countersignature.signoff_id.in_(ids)))
    }
