"""Sign-off commands: ``verify-signoffs`` (are the sign-off and countersignature chains
whole?) and ``send-reminders`` (the daily email digest, from cron)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from kb.extensions import db
from kb.models import utcnow


def _records(count: int) -> str:
    """"1 record", "3 records"."""
    return f"{count} record{'' if count == 1 else 's'}"


@click.command("verify-signoffs")
@with_appcontext
def verify_signoffs() -> None:
    """Recompute the sign-off and countersignature hash chains; report each break and exit
    1 if there is any."""
    from kb.signoffs.chain import verify_all

    broken = False
    for which, count, breaks in verify_all():
        if not breaks:
            click.echo(f"{which.name} chain intact: {_records(count)} checked.")
            continue
        broken = True
        for problem in breaks:
            click.echo(f"BREAK in the {which.name.lower()} chain: {problem}", err=True)
        click.echo(f"{which.name} chain broken: {len(breaks)} "
                   f"problem{'' if len(breaks) == 1 else 's'} in {_records(count)}.", err=True)
    if broken:
        sys.exit(1)


def _plural(count: int, word: str, many: str | None = None) -> str:
    """'1 email', '2 emails', '3 people'."""
    return f"{count} {word if count == 1 else many or word + 's'}"


@click.command("send-reminders")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Plan as if it were this day (YYYY-MM-DD; default: today, centre time).")
@click.option("--dry-run", is_flag=True,
              help="Say who would get what; send nothing and record nothing.")
@with_appcontext
def send_reminders(today: datetime | None, dry_run: bool) -> None:
    """Email each person a digest of the sign-offs they owe (and managers their team's
    overdue ones). Safe to run more than once a day: each reminder is sent once."""
    from kb.core.audit import record
    from kb.core.clock import local_today
    from kb.core.mail import Mailer, MailError, MailNotConfigured, MailSettings, message
    from kb.signoffs import reminders

    real_today = local_today()
    day = today.date() if today else real_today
    # --today plans as if run at this time of that day (the status rules need a moment).
    now = utcnow() + timedelta(days=(day - real_today).days)
    settings = None
    if not dry_run:
        try:
            settings = MailSettings.from_config(current_app.config)
        except MailNotConfigured as error:
            click.echo(f"{error} No reminders were sent.", err=True)
            sys.exit(1)
        except MailError as error:
            click.echo(f"Mail settings: {error} No reminders were sent.", err=True)
            sys.exit(1)

    plan = reminders.plan(day, now)
    db.session.rollback()  # end the read; each digest below is its own transaction
    skipped = ", ".join(p.username for p in plan.without_email)
    skipped_text = (f"; {_plural(len(plan.without_email), 'person', 'people')} skipped "
                    f"without an email address ({skipped})" if plan.without_email else "")
    if dry_run:
        for digest in plan.digests:
            kinds = ", ".join(f"{reminders.KIND_LABELS[i.kind]}: {i.subject.username} / "
                              f"{i.state.document.slug}" for i in digest.items)
            click.echo(f"Would email {digest.recipient.username} <{digest.recipient.email}>: "
                       f"{kinds}")
        click.echo(f"Dry run for {day:%Y-%m-%d}: {_plural(len(plan.digests), 'email')} with "
                   f"{_plural(plan.reminders, 'reminder')} would be sent{skipped_text}. "
                   "Nothing was sent or recorded.")
        return

    link = reminders.link_builder(current_app.config["KB_BASE_URL"])
    emails = sent = raced = 0
    failure: str | None = None
    try:
        with Mailer(settings) as mailer:
            for digest in plan.digests:
                # Record first, send, then commit. The unique key makes a second run
                # (even one at the same moment) wait for our rows and then skip them, so
                # nobody gets a reminder twice; a failed send rolls the rows back, so the
                # next run retries it. The one window for a duplicate is a commit failing
                # after the server took the message, which is rarer than a lost reminder
                # would be if we committed before sending.
                planned = len(digest.items)
                items = reminders.claim(digest)
                raced += planned - len(items)
                if not items:
                    db.session.rollback()
                    continue
                mail = message(settings, to_name=digest.recipient.display_name,
                               to_address=digest.recipient.email,
                               subject=reminders.subject_line(digest),
                               text=reminders.body(digest, day, link))
                try:
                    mailer.send(mail)
                except MailError:
                    db.session.rollback()
                    raise
                db.session.commit()
                emails += 1
                sent += len(items)
    except MailError as error:
        failure = str(error)
    except SQLAlchemyError as error:
        # The database refused (busy past its timeout, or gone): what was committed was
        # mailed; the rest is retried by the next run.
        db.session.rollback()
        failure = f"The database refused a write ({type(error).__name__})."
    detail = {"day": day.isoformat(), "emails": emails, "reminders": sent,
              "without_email": [p.username for p in plan.without_email]}
    if raced:
        detail["sent_by_another_run"] = raced
    if failure is not None:
        detail["error"] = failure
    record(None, "reminders.sent", ("reminders", day.isoformat()), detail,
           label=f"reminders {day.isoformat()}")
    db.session.commit()
    click.echo(f"Reminders for {day:%Y-%m-%d}: {_plural(emails, 'email')} sent with "
               f"{_plural(sent, 'reminder')}{skipped_text}"
               + (f"; {raced} sent by another run at the same time." if raced else "."))
    if failure is not None:
        unsent = plan.reminders - sent - raced
        click.echo(f"Stopped: {failure} {_plural(unsent, 'reminder')} not sent; the next run "
                   "tries again.", err=True)
        sys.exit(1)
