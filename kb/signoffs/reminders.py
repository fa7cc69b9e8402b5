"""Sign-off reminders: when each person hears about what they owe, the daily digest, and
the record of every reminder sent.

The schedule is pure (``milestone``: dates in, the latest milestone reached out). For each
outstanding sign-off the milestones are: *opened* (the day it became outstanding), *due
in 7 days*, *due in 1 day*, *due today*, then *overdue* on each working day after the due
date. A run sends only the latest milestone reached that has not been sent, so a cron job
that missed some days sends no backlog. Overdue items also go to the person's managers
(the active managers of their team; with none, the active admins).

``plan`` works out one digest per recipient (a fixed number of queries); ``claim`` records
a digest's reminders before it is mailed; the CLI (``flask send-reminders``) mails and
commits. All dates are the centre's local date (``kb.core.clock``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy.exc import IntegrityError

from kb.core.clock import is_working_day, local_date
from kb.core.mail import is_address
from kb.extensions import db
from kb.models import User, utcnow
from kb.signoffs import status
from kb.signoffs.models import Reminder

# The agent's own milestones, earliest first (a later one wins on the same day).
KINDS = ("opened", "due_in_7", "due_in_1", "due_today", "overdue")
MANAGER_KIND = "manager_overdue"  # a manager's copy of an overdue item
DAILY = ("overdue", MANAGER_KIND)  # sent again each working day: the day is in the key
KIND_LABELS = {
    "opened": "new to sign",
    "due_in_7": "due in 7 days",
    "due_in_1": "due tomorrow",
    "due_today": "due today",
    "overdue": "overdue",
    MANAGER_KIND: "overdue",
}


# --- The schedule (pure) --------------------------------------------------------------

@dataclass(frozen=True)
class Milestone:
    """A point in an outstanding sign-off's schedule: its kind and the day it fell on."""

    kind: str
    day: date


def milestone(opened_on: date, due_on: date, today: date,
              is_working: Callable[[date], bool]) -> Milestone | None:
    """The latest milestone reached by ``today`` (None before the sign-off opened).

    After the due date each working day is a milestone of its own; on a weekend or bank
    holiday the latest is the last working day before it (or the due day itself)."""
    if today < opened_on:
        return None
    if today > due_on:
        day = today
        while day > due_on:  # at most a long weekend of steps back
            if is_working(day):
                return Milestone("overdue", day)
            day -= timedelta(days=1)
    points = [("opened", opened_on), ("due_in_7", due_on - timedelta(days=7)),
              ("due_in_1", due_on - timedelta(days=1)), ("due_today", due_on)]
    reached = [(day, KINDS.index(kind), kind) for kind, day in points
               if opened_on <= day <= today]
    day, _rank, kind = max(reached)
    return Milestone(kind, day)


def reminder_key(kind: str, recipient_id: int, subject_id: int, article_id: int,
                 version: int, day: date) -> str:
    """The unique key of one reminder: who gets it, who owes the sign-off, which document
    and material version, which kind, and for the daily kinds which day."""
    key = f"{kind}:to-{recipient_id}:for-{subject_id}:article-{article_id}:v{version}"
    return f"{key}:{day.isoformat()}" if kind in DAILY else key


# --- What the banner and the email both say -------------------------------------------

@dataclass(frozen=True)
class Summary:
    """What one person owes: outstanding, of which overdue, and the next due date."""

    owed: int
    overdue: int
    next_due: date | None

    @property
    def text(self) -> str:
        """'2 sign-offs to do (1 overdue) · next due Friday 18 December'."""
        text = f"{self.owed} sign-off{'' if self.owed == 1 else 's'} to do"
        if self.overdue:
            text += f" ({self.overdue} overdue)"
        if self.next_due is not None:
            text += f" · next due {format_day(self.next_due)}"
        return text


def format_day(day: date) -> str:
    """A date as people read it here: Friday 18 December."""
    return f"{day:%A} {day.day} {day:%B}"


def due_on(state: status.Status) -> date:
    """The centre-local day an outstanding sign-off is (or was) due."""
    return local_date(state.due)


def opened_on(state: status.Status) -> date:
    """The centre-local day a sign-off became outstanding (the start of its window)."""
    return local_date(state.due - timedelta(days=state.document.window_days))


def summarise(statuses: Iterable[status.Status]) -> Summary:
    """The summary of one person's statuses (pure)."""
    outstanding = [s for s in statuses if s.outstanding]
    upcoming = [due_on(s) for s in outstanding if s.state != "overdue" and s.due is not None]
    return Summary(len(outstanding), sum(s.state == "overdue" for s in outstanding),
                   min(upcoming, default=None))


def banner(user, now: datetime | None = None) -> Summary:
    """The banner's summary for ``user`` (two small queries)."""
    return summarise(status.for_user(user, now))


# --- Planning a run -------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """The facts about a user a run needs, read once (rows expire at each commit)."""

    id: int
    username: str
    display_name: str
    email: str | None
    team_id: int | None
    role: str

    @classmethod
    def of(cls, user: User) -> Person:
        """A snapshot of ``user``; an address that could not be mailed counts as none."""
        email = (user.email or "").strip()
        return cls(user.id, user.username, user.display_name,
                   email if is_address(email) else None, user.team_id, user.role)


@dataclass(frozen=True)
class Item:
    """One reminder in a digest: a sign-off someone owes, at the milestone it reached."""

    key: str
    kind: str
    subject: Person  # who owes the sign-off
    state: status.Status
    milestone: Milestone

    @property
    def due_on(self) -> date:
        """The day it is (or was) due."""
        return due_on(self.state)


@dataclass
class Digest:
    """Everything one recipient hears about in one run: one email."""

    recipient: Person
    own: list[Item] = field(default_factory=list)  # their own sign-offs, reminded today
    team: list[Item] = field(default_factory=list)  # overdue sign-offs of people they manage
    also: list[status.Status] = field(default_factory=list)  # theirs, not reminded today
    summary: Summary | None = None  # what they owe in all (as the banner says)

    @property
    def items(self) -> list[Item]:
        """Every reminder this digest carries."""
        return self.own + self.team


@dataclass
class Plan:
    """One run's digests, and the people who would have had one but have no email."""

    today: date
    digests: list[Digest]
    without_email: list[Person]

    @property
    def reminders(self) -> int:
        """How many reminders the digests carry."""
        return sum(len(d.items) for d in self.digests)


def plan(today: date, now: datetime | None = None) -> Plan:
    """Work out who hears about what on ``today`` (no writes). Queries: the documents, the
    people they apply to, their signatures, the managers and admins, and the reminders
    already sent, whatever the number of people."""
    now = now or utcnow()
    region = current_app.config.get("KB_HOLIDAY_REGION") or "ENG"

    def working(day: date) -> bool:
        """A weekday that is not a bank holiday here."""
        return is_working_day(day, region)

    docs = status.documents()
    users = list(db.session.scalars(status.audience(docs))) if docs else []
    people = {u.id: Person.of(u) for u in users}
    statuses = status.matrix(users, docs, now) if users else {}
    bosses = [Person.of(u) for u in db.session.scalars(
        db.select(User).where(User.active.is_(True), User.role.in_(("manager", "admin")))
        .order_by(User.id))]

    candidates: list[tuple[Person, Item]] = []  # (recipient, item)
    for user_id, rows in statuses.items():
        subject = people[user_id]
        for state in rows:
            if not state.outstanding or state.due is None:
                continue
            reached = milestone(opened_on(state), due_on(state), today, working)
            if reached is None:
                continue
            doc = state.document
            candidates.append((subject, Item(
                reminder_key(reached.kind, subject.id, subject.id, doc.id, doc.material_number,
                             reached.day), reached.kind, subject, state, reached)))
            if reached.kind == "overdue":
                for boss in managers_of(subject, bosses):
                    candidates.append((boss, Item(
                        reminder_key(MANAGER_KIND, boss.id, subject.id, doc.id,
                                     doc.material_number, reached.day),
                        MANAGER_KIND, subject, state, reached)))

    sent = already_sent([item.key for _person, item in candidates])
    digests: dict[int, Digest] = {}
    without_email: dict[int, Person] = {}
    for recipient, item in candidates:
        if item.key in sent:
            continue
        if recipient.email is None:
            without_email[recipient.id] = recipient
            continue
        digest = digests.setdefault(recipient.id, Digest(recipient))
        (digest.own if item.kind in KINDS else digest.team).append(item)
    for digest in digests.values():
        mine = statuses.get(digest.recipient.id, [])
        reminded = {item.state.document.id for item in digest.own}
        digest.also = [s for s in mine if s.outstanding and s.document.id not in reminded]
        digest.summary = summarise(mine)
        digest.own.sort(key=lambda i: (i.due_on, i.state.document.title))
        digest.team.sort(key=lambda i: (i.subject.display_name.lower(), i.due_on,
                                        i.state.document.title))
    ordered = sorted(digests.values(), key=lambda d: d.recipient.id)
    return Plan(today, ordered, sorted(without_email.values(), key=lambda p: p.id))


def managers_of(subject: Person, bosses: list[Person]) -> list[Person]:
    """Who hears about ``subject``'s overdue sign-offs: the active managers of their team
    or, when the team has none (or they have no team), the active admins; never
    themself."""
    team = [b for b in bosses if b.role == "manager" and b.team_id is not None
            and b.team_id == subject.team_id and b.id != subject.id]
    return team or [b for b in bosses if b.role == "admin" and b.id != subject.id]


def already_sent(keys: list[str], chunk: int = 500) -> set[str]:
    """Which of ``keys`` have a reminder recorded (one query per ``chunk`` keys)."""
    found: set[str] = set()
    for start in range(0, len(keys), chunk):
        found.update(db.session.scalars(
            db.select(Reminder.key).where(Reminder.key.in_(keys[start:start + chunk]))))
    return found


# --- Recording --------------------------------------------------------------------------

def claim(digest: Digest, sent_at: datetime | None = None) -> list[Item]:
    """Record ``digest``'s reminders as sent (flushed, not committed) and return the items
    this run now owns. A reminder another run recorded since ``plan`` read is left out:
    the unique key refuses the second row, so each reminder is sent once. The caller
    mails the digest of the returned items and commits, or rolls back on failure."""
    sent_at = sent_at or utcnow()
    items = list(digest.items)
    while items:
        rows = [Reminder(key=item.key, recipient_id=digest.recipient.id,
                         subject_user_id=item.subject.id, article_id=item.state.document.id,
                         kind=item.kind, due_on=item.due_on, sent_at=sent_at,
                         address=digest.recipient.email or "") for item in items]
        db.session.add_all(rows)
        try:
            db.session.flush()
        except IntegrityError:
            # Another run recorded some of these a moment ago: ours lose, the rest go.
            db.session.rollback()
            taken = already_sent([item.key for item in items])
            items = [item for item in items if item.key not in taken]
            continue
        break
    keys = {item.key for item in items}
    digest.own = [i for i in digest.own if i.key in keys]
    digest.team = [i for i in digest.team if i.key in keys]
    return items


def sent_to(user_id: int, limit: int = 100) -> list[Reminder]:
    """The reminders sent to a user, newest first."""
    return list(db.session.scalars(
        db.select(Reminder).where(Reminder.recipient_id == user_id)
        .order_by(Reminder.sent_at.desc(), Reminder.id.desc()).limit(limit)))


def sent_about(user_id: int, limit: int = 100) -> list[Reminder]:
    """The reminders sent about a user's sign-offs (to them and to their managers),
    newest first."""
    return list(db.session.scalars(
        db.select(Reminder).where(Reminder.subject_user_id == user_id)
        .order_by(Reminder.sent_at.desc(), Reminder.id.desc()).limit(limit)))


# --- The email ------------------------------------------------------------------------

def link_builder(base_url: str) -> Callable[..., str]:
    """Absolute links from KB_BASE_URL (never a request's Host), usable outside a request."""
    parts = urlsplit(base_url.rstrip("/"))
    adapter = current_app.url_map.bind(parts.netloc or "localhost", script_name=parts.path or "/",
                                       url_scheme=parts.scheme or "http")
    return lambda endpoint, **values: adapter.build(endpoint, values, force_external=True)


def describe(state: status.Status, today: date) -> str:
    """Where one sign-off stands, in words: 'Changed since you signed · due tomorrow
    (Friday 18 December)'."""
    day = due_on(state)
    words = "Changed since signed" if state.was_signed else "Not signed yet"
    if day < today or state.state == "overdue":
        when = f"overdue: was due {format_day(day)}"
    elif day == today:
        when = f"due today ({format_day(day)})"
    elif day == today + timedelta(days=1):
        when = f"due tomorrow ({format_day(day)})"
    else:
        when = f"due in {(day - today).days} days ({format_day(day)})"
    return f"{words} · {when}"


def subject_line(digest: Digest) -> str:
    """The email's subject: what the recipient owes, then what their team owes."""
    parts = []
    if digest.own or digest.also:
        parts.append(f"Sign-offs: {digest.summary.text}" if digest.summary else "Sign-offs")
    if digest.team:
        people = len({i.subject.id for i in digest.team})
        parts.append(f"{len(digest.team)} overdue in your team "
                     f"({people} {'person' if people == 1 else 'people'})")
    return " · ".join(parts) or "Sign-offs"


def body(digest: Digest, today: date, link: Callable[..., str]) -> str:
    """The digest's plain text: the recipient's own sign-offs, then their team's."""
    organisation = current_app.config.get("KB_ORGANISATION") or "Frontline KB"
    lines = [f"Hello {digest.recipient.display_name},", ""]
    if digest.own or digest.also:
        lines += [digest.summary.text if digest.summary else "", ""]
    if digest.own:
        lines += ["To sign:"]
        for item in digest.own:
            lines += [f"- {item.state.document.title}",
                      f"  {describe(item.state, today)}",
                      f"  Read and sign: {link('signoffs.sign', slug=item.state.document.slug)}"]
        lines.append("")
    if digest.also:
        lines += ["Also still to sign:"]
        lines += [f"- {s.document.title} ({describe(s, today)})" for s in digest.also]
        lines.append("")
    if digest.own or digest.also:
        lines += [f"All your sign-offs: {link('signoffs.mine')}", ""]
    if digest.team:
        lines += ["Overdue in your team (you get this as their manager):"]
        for item in digest.team:
            lines += [f"- {item.subject.display_name} ({item.subject.username}): "
                      f"{item.state.document.title}",
                      f"  {describe(item.state, today)}"]
        lines.append("")
    lines += ["-- ", f"Sign-off reminders from {organisation}: sent when a sign-off opens, 7 days "
              "and 1 day before it is due, on the day, and each working day it is overdue."]
    return "\n".join(lines) + "\n"
