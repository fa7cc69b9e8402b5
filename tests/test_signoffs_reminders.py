"""Sign-off reminders: the schedule (pure), the daily digest mailed to a real SMTP server
(aiosmtpd, started here on a free loopback port), the record that makes a second run send
nothing, the managers' copy, failures, the banner, and users' email addresses."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from kb.core.clock import is_working_day
from kb.extensions import db
from kb.models import AuditLog, User
from kb.signoffs import reminders
from kb.signoffs.models import Reminder
from kb.signoffs.reminders import Milestone, Summary, milestone, reminder_key
from tests.conftest import ROOT, csrf_token, login
from tests.signoff_helpers import standard, user

# A fortnight ending on the Thursday before the 2027 spring bank holiday (Monday 31 May):
# opens Thursday 13 May, due Thursday 27 May; overdue Friday 28, then Tuesday 1 June.
OPENS = date(2027, 5, 13)
DUE = date(2027, 5, 27)
BASE_URL = "https://kb.example.org"


def _working(day: date) -> bool:
    return is_working_day(day, "ENG")


# --- The schedule, without an app --------------------------------------------------------

def test_working_days_skip_weekends_and_the_regions_bank_holidays():
    assert is_working_day(date(2027, 5, 28), "ENG")  # Friday
    assert not is_working_day(date(2027, 5, 29), "ENG")  # Saturday
    assert not is_working_day(date(2027, 5, 31), "ENG")  # spring bank holiday
    assert is_working_day(date(2027, 6, 1), "ENG")
    # St Andrew's Day is a bank holiday in Scotland only.
    assert not is_working_day(date(2026, 11, 30), "SCT")
    assert is_working_day(date(2026, 11, 30), "ENG")


def test_the_latest_milestone_reached_on_each_day():
    expected = {
        date(2027, 5, 12): None,
        date(2027, 5, 13): Milestone("opened", OPENS),
        date(2027, 5, 19): Milestone("opened", OPENS),
        date(2027, 5, 20): Milestone("due_in_7", date(2027, 5, 20)),
        date(2027, 5, 25): Milestone("due_in_7", date(2027, 5, 20)),
        date(2027, 5, 26): Milestone("due_in_1", date(2027, 5, 26)),
        date(2027, 5, 27): Milestone("due_today", DUE),
        date(2027, 5, 28): Milestone("overdue", date(2027, 5, 28)),
        # The weekend and the bank holiday are no milestones: Friday's is still the latest.
        date(2027, 5, 29): Milestone("overdue", date(2027, 5, 28)),
        date(2027, 5, 31): Milestone("overdue", date(2027, 5, 28)),
        date(2027, 6, 1): Milestone("overdue", date(2027, 6, 1)),
        date(2027, 9, 1): Milestone("overdue", date(2027, 9, 1)),
    }
    for today, reached in expected.items():
        assert milestone(OPENS, DUE, today, _working) == reached, today


def test_a_short_window_skips_the_milestones_before_it_opened():
    # Three days to sign: no "due in 7 days"; opening the day before it is due says "due
    # tomorrow" rather than "opened".
    assert milestone(date(2027, 5, 24), DUE, date(2027, 5, 24), _working).kind == "opened"
    assert milestone(date(2027, 5, 24), DUE, date(2027, 5, 25), _working).kind == "opened"
    assert milestone(date(2027, 5, 26), DUE, date(2027, 5, 26), _working).kind == "due_in_1"
    # Due on a Saturday: overdue from the Monday.
    saturday = date(2027, 5, 22)
    assert milestone(OPENS, saturday, date(2027, 5, 23), _working).kind == "due_today"
    assert milestone(OPENS, saturday, date(2027, 5, 24), _working) == Milestone(
        "overdue", date(2027, 5, 24))


def test_keys_name_recipient_subject_document_version_kind_and_the_day_when_daily():
    assert reminder_key("opened", 3, 3, 7, 2, date(2027, 5, 13)) == \
        "opened:to-3:for-3:article-7:v2"
    assert reminder_key("overdue", 3, 3, 7, 2, date(2027, 5, 28)).endswith(":2027-05-28")
    assert reminder_key("manager_overdue", 5, 3, 7, 2, date(2027, 5, 28)) == \
        "manager_overdue:to-5:for-3:article-7:v2:2027-05-28"


def test_the_summary_reads_as_the_banner_and_the_email_say_it():
    assert Summary(2, 1, date(2026, 12, 18)).text == \
        "2 sign-offs to do (1 overdue) · next due Friday 18 December"
    assert Summary(1, 0, date(2026, 12, 18)).text == \
        "1 sign-off to do · next due Friday 18 December"
    assert Summary(3, 3, None).text == "3 sign-offs to do (3 overdue)"


# --- A real SMTP server ------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """An aiosmtpd handler keeping every message it accepts (or refusing them all)."""

    def __init__(self) -> None:
        self.messages = []
        self.refuse: str | None = None
        self.delay = 0.0  # seconds to take over each message (a slow server)

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.refuse:
            return self.refuse
        await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        """The messages delivered to ``address``."""
        return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 and a free port; yields (collector, port)."""
    collector = Collector()
    port = _free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


@pytest.fixture
def mail_app(app, smtp):
    """The test app sending to the local SMTP server, with one standard the demo agents
    must sign, opening on OPENS (their accounts start then); agent and manager have an
    email address, the new starter is deactivated."""
    app.config.update(KB_SMTP_HOST="127.0.0.1", KB_SMTP_PORT=str(smtp[1]),
                      KB_SMTP_SECURITY="none", KB_SMTP_TIMEOUT=5, KB_BASE_URL=BASE_URL,
                      KB_MAIL_FROM="Frontline KB <kb@example.org>", KB_HOLIDAY_REGION="ENG")
    with app.app_context():
        standard("greeting")
        for name in ("agent", "newstarter"):
            user(name).created_at = datetime(2027, 5, 13, 9, 0)  # 10:00 in London
        user("agent").email = "alex@example.org"
        user("manager").email = "morgan@example.org"
        user("admin").email = "ash@example.org"
        user("newstarter").email = "nina@example.org"
        user("newstarter").active = False
        db.session.commit()
    return app


def _text(message) -> str:
    """A message's text with plain newlines (SMTP carries CRLF)."""
    return message.get_content().replace("\r\n", "\n")


def _run(app, *args: str):
    return app.test_cli_runner().invoke(args=["send-reminders", *args])


def _reminders(app) -> list[tuple[str, str, str]]:
    """(recipient, subject person, kind) of every reminder recorded, in order."""
    with app.app_context():
        rows = db.session.scalars(db.select(Reminder).order_by(Reminder.id)).all()
        names = {u.id: u.username for u in db.session.scalars(db.select(User))}
        return [(names[r.recipient_id], names[r.subject_user_id], r.kind) for r in rows]


def test_each_milestone_is_mailed_once_across_the_days(mail_app, smtp):
    collector, _port = smtp
    sent_on: dict[date, list[tuple[str, str, str]]] = {}
    day = date(2027, 5, 12)
    while day <= date(2027, 6, 2):
        before = len(_reminders(mail_app))
        result = _run(mail_app, "--today", day.isoformat())
        assert result.exit_code == 0, result.output
        new = _reminders(mail_app)[before:]
        if new:
            sent_on[day] = new
        day += timedelta(days=1)
    assert sent_on == {
        date(2027, 5, 13): [("agent", "agent", "opened")],
        date(2027, 5, 20): [("agent", "agent", "due_in_7")],
        date(2027, 5, 26): [("agent", "agent", "due_in_1")],
        date(2027, 5, 27): [("agent", "agent", "due_today")],
        date(2027, 5, 28): [("agent", "agent", "overdue"),
                            ("manager", "agent", "manager_overdue")],
        # Saturday, Sunday and the bank holiday Monday: nothing.
        date(2027, 6, 1): [("agent", "agent", "overdue"),
                           ("manager", "agent", "manager_overdue")],
        date(2027, 6, 2): [("agent", "agent", "overdue"),
                           ("manager", "agent", "manager_overdue")],
    }
    # One email per recipient per run; the deactivated new starter got nothing.
    assert len(collector.to("alex@example.org")) == 7
    assert len(collector.to("morgan@example.org")) == 3
    assert collector.to("nina@example.org") == [] and collector.to("ash@example.org") == []

    opened = collector.to("alex@example.org")[0]
    assert opened["To"] == "Alex Agent <alex@example.org>"
    assert opened["From"] == "Frontline KB <kb@example.org>"
    assert opened["Auto-Submitted"] == "auto-generated"
    assert opened["Subject"] == "Sign-offs: 1 sign-off to do · next due Thursday 27 May"
    text = _text(opened)
    assert "Hello Alex Agent," in text
    assert "- Greeting\n  Not signed yet · due in 14 days (Thursday 27 May)" in text
    assert f"Read and sign: {BASE_URL}/signoffs/articles/greeting/sign" in text
    assert f"All your sign-offs: {BASE_URL}/signoffs/" in text

    copy = collector.to("morgan@example.org")[0]
    assert "1 overdue in your team (1 person)" in copy["Subject"]
    text = _text(copy)
    assert "Overdue in your team" in text
    assert "- Alex Agent (agent): Greeting\n  Not signed yet · overdue: was due Thursday 27 May" \
        in text
    assert "Read and sign" not in text  # the manager has nothing of their own to sign

    with mail_app.app_context():
        runs = db.session.scalars(db.select(AuditLog).filter_by(action="reminders.sent")).all()
        assert len(runs) == 22  # one per run, sending or not
        busiest = next(r for r in runs if r.detail["day"] == "2027-05-28")
        assert (busiest.detail["emails"], busiest.detail["reminders"]) == (2, 2)
        agent_id = user("agent").id
        assert [r.kind for r in reminders.sent_to(agent_id)][-1] == "opened"
        assert {r.kind for r in reminders.sent_about(agent_id)} == {
            "opened", "due_in_7", "due_in_1", "due_today", "overdue", "manager_overdue"}
        assert reminders.sent_to(user("manager").id)[0].address == "morgan@example.org"


def test_a_run_after_missed_days_sends_only_the_latest_milestone(mail_app, smtp):
    assert _run(mail_app, "--today", "2027-05-26").exit_code == 0
    assert _reminders(mail_app) == [("agent", "agent", "due_in_1")]
    assert _run(mail_app, "--today", "2027-05-31").exit_code == 0  # bank holiday
    assert _reminders(mail_app)[1:] == [("agent", "agent", "overdue"),
                                        ("manager", "agent", "manager_overdue")]
    with mail_app.app_context():
        days = {r.key.rsplit(":", 1)[1] for r in db.session.scalars(
            db.select(Reminder).where(Reminder.kind == "overdue"))}
        assert days == {"2027-05-28"}  # Friday's: the latest milestone reached


def test_a_second_run_the_same_day_sends_nothing(mail_app, smtp):
    collector, _port = smtp
    first = _run(mail_app, "--today", "2027-05-28")
    assert first.exit_code == 0, first.output
    assert "2 emails sent with 2 reminders" in first.output
    second = _run(mail_app, "--today", "2027-05-28")
    assert second.exit_code == 0
    assert "0 emails sent with 0 reminders" in second.output
    assert len(collector.messages) == 2 and len(_reminders(mail_app)) == 2


def test_overdue_copies_go_to_the_admins_when_the_team_has_no_active_manager(mail_app, smtp):
    collector, _port = smtp
    with mail_app.app_context():
        user("manager").active = False
        db.session.commit()
    assert _run(mail_app, "--today", "2027-05-28").exit_code == 0
    assert _reminders(mail_app) == [("agent", "agent", "overdue"),
                                    ("admin", "agent", "manager_overdue")]
    assert collector.to("morgan@example.org") == []
    assert "Alex Agent (agent): Greeting" in _text(collector.to("ash@example.org")[0])


def test_people_without_an_email_are_skipped_counted_and_reached_once_they_have_one(
        mail_app, smtp):
    collector, _port = smtp
    with mail_app.app_context():
        user("agent").email = None
        db.session.commit()
    result = _run(mail_app, "--today", "2027-05-28")
    assert result.exit_code == 0
    assert ("1 email sent with 1 reminder; 1 person skipped without an email address (agent)"
            in result.output)
    assert _reminders(mail_app) == [("manager", "agent", "manager_overdue")]
    with mail_app.app_context():
        run = db.session.scalar(db.select(AuditLog).filter_by(action="reminders.sent"))
        assert run.detail["without_email"] == ["agent"]
        user("agent").email = "alex@example.org"
        db.session.commit()
    result = _run(mail_app, "--today", "2027-05-28")
    assert "1 email sent with 1 reminder." in result.output
    assert _reminders(mail_app)[-1] == ("agent", "agent", "overdue")
    assert len(collector.to("alex@example.org")) == 1


def test_a_refused_message_records_nothing_exits_1_and_the_next_run_retries(mail_app, smtp):
    collector, _port = smtp
    collector.refuse = "554 Transaction failed: relaying denied"
    result = _run(mail_app, "--today", "2027-05-28")
    assert result.exit_code == 1
    assert "The mail server did not accept the message to Alex Agent <alex@example.org>" \
        in result.output
    assert "554 Transaction failed: relaying denied" in result.output
    assert "2 reminders not sent; the next run tries again." in result.output
    assert _reminders(mail_app) == []
    collector.refuse = None
    assert _run(mail_app, "--today", "2027-05-28").exit_code == 0
    assert len(_reminders(mail_app)) == 2


def test_an_unreachable_server_records_nothing_and_exits_1(mail_app):
    mail_app.config["KB_SMTP_PORT"] = str(_free_port())  # nobody listens there
    result = _run(mail_app, "--today", "2027-05-28")
    assert result.exit_code == 1
    assert "Could not connect to the mail server 127.0.0.1:" in result.output
    assert _reminders(mail_app) == []


def test_without_a_mail_server_the_command_says_so_and_sends_nothing(mail_app, smtp):
    mail_app.config["KB_SMTP_HOST"] = None
    result = _run(mail_app, "--today", "2027-05-28")
    assert result.exit_code == 1
    assert "No mail server is configured (set KB_SMTP_HOST). No reminders were sent." \
        in result.output
    assert _reminders(mail_app) == [] and smtp[0].messages == []
    mail_app.config.update(KB_SMTP_HOST="127.0.0.1", KB_SMTP_SECURITY="tls-please")
    result = _run(mail_app, "--today", "2027-05-28")
    assert result.exit_code == 1 and "KB_SMTP_SECURITY must be one of" in result.output


def test_a_dry_run_says_who_would_hear_and_sends_and_records_nothing(mail_app, smtp):
    mail_app.config["KB_SMTP_HOST"] = None  # not needed to look
    result = _run(mail_app, "--today", "2027-05-28", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would email agent <alex@example.org>: overdue: agent / greeting" in result.output
    assert "Would email manager <morgan@example.org>: overdue: agent / greeting" in result.output
    assert "2 emails with 2 reminders would be sent" in result.output
    assert _reminders(mail_app) == [] and smtp[0].messages == []
    with mail_app.app_context():
        assert db.session.scalar(db.select(AuditLog).filter_by(action="reminders.sent")) is None


def test_a_bad_day_is_refused(mail_app):
    result = _run(mail_app, "--today", "2027-02-30")
    assert result.exit_code == 2 and "--today" in result.output


def test_two_runs_at_the_same_moment_send_each_reminder_once(mail_app, smtp, tmp_path):
    collector, port = smtp
    # A slow server keeps the first run busy while the second plans the same reminders.
    collector.delay = 0.25
    with mail_app.app_context():
        from kb.auth.services import create_user

        for number in range(12):
            person = create_user(f"agent{number}", "pw-agent", role="agent",
                                 display_name=f"Agent {number}", team="Contact centre")
            person.created_at = datetime(2027, 5, 13, 9, 0)
            person.email = f"agent{number}@example.org"
        db.session.commit()
    env = dict(os.environ, KB_ENV="testing", KB_INSTANCE_DIR=str(tmp_path),
               KB_DATABASE_URL=mail_app.config["SQLALCHEMY_DATABASE_URI"],
               KB_INDEX_DIR=str(tmp_path / "index"), KB_SMTP_HOST="127.0.0.1",
               KB_SMTP_PORT=str(port), KB_MAIL_FROM="kb@example.org", KB_BASE_URL=BASE_URL)
    command = [sys.executable, "-m", "flask", "--app", "kb", "send-reminders",
               "--today", "2027-05-28"]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    counts = [int(re.search(r"(\d+) emails? sent", output).group(1)) for output in outputs]
    assert sum(counts) == 14, outputs
    sent = [int(re.search(r"with (\d+) reminders?", output).group(1)) for output in outputs]
    assert sum(sent) == 26, outputs
    # 13 agents overdue: each hears once, and the manager once (in one run's digest).
    recipients = sorted(r for rcpts, _m in collector.messages for r in rcpts)
    assert len(recipients) == len(set(recipients)) == 14, outputs
    with mail_app.app_context():
        kinds = [r.kind for r in db.session.scalars(db.select(Reminder))]
    assert kinds.count("overdue") == 13 and kinds.count("manager_overdue") == 13
    copies = _text(collector.to("morgan@example.org")[0])
    assert copies.count(": Greeting\n") == 13


# --- The banner says the same ------------------------------------------------------------

def test_the_banner_and_the_email_say_the_same(app, smtp):
    collector, port = smtp
    app.config.update(KB_SMTP_HOST="127.0.0.1", KB_SMTP_PORT=str(port), KB_BASE_URL=BASE_URL)
    with app.app_context():
        standard("greeting")
        standard("complaints")
        user("agent").email = "alex@example.org"
        db.session.commit()
        expected = reminders.banner(user("agent")).text
    assert expected.startswith("2 sign-offs to do · next due ")
    client = app.test_client()
    login(client, "agent")
    page = client.get("/").get_data(as_text=True)
    assert expected in page
    assert _run(app).exit_code == 0  # today, for real
    mail = collector.to("alex@example.org")[0]
    assert mail["Subject"] == f"Sign-offs: {expected}"
    assert expected in _text(mail)


# --- Users' email addresses ----------------------------------------------------------------

def _edit_page(client, user_id: int):
    return client.get(f"/users/{user_id}")


def test_a_manager_sets_and_clears_an_agents_email_audited(app):
    with app.app_context():
        agent_id = user("agent").id
    client = app.test_client()
    login(client, "manager")
    token = csrf_token(_edit_page(client, agent_id))
    response = client.post(f"/users/{agent_id}/email",
                           data={"email": " alex@example.org ", "csrf_token": token})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "Reminders for agent now go to alex@example.org." in page
    assert 'value="alex@example.org"' in page
    response = client.post(f"/users/{agent_id}/email", data={"email": "", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert user("agent").email is None
        rows = db.session.scalars(db.select(AuditLog).filter_by(action="user.email_changed")
                                  .order_by(AuditLog.id)).all()
        assert [r.detail for r in rows] == [{"before": None, "after": "alex@example.org"},
                                           {"before": "alex@example.org", "after": None}]


@pytest.mark.parametrize("bad", ["alex", "alex@example", "alex @example.org",
                                 "alex@example.org\r\nBcc: eve@example.org",
                                 "Alex <alex@example.org>", "a" * 250 + "@example.org"])
def test_a_bad_address_is_refused_with_a_message_and_changes_nothing(app, bad):
    with app.app_context():
        agent_id = user("agent").id
    client = app.test_client()
    login(client, "manager")
    token = csrf_token(_edit_page(client, agent_id))
    response = client.post(f"/users/{agent_id}/email", data={"email": bad, "csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page
    assert "Enter an email address like" in page or "at most 254 characters" in page
    with app.app_context():
        assert user("agent").email is None
        assert db.session.scalar(db.select(AuditLog).filter_by(
            action="user.email_changed")) is None


def test_a_manager_cannot_set_the_email_of_someone_outside_their_team(app):
    with app.app_context():
        admin_id = user("admin").id
        agent_id = user("agent").id
    client = app.test_client()
    login(client, "manager")
    token = csrf_token(_edit_page(client, agent_id))
    response = client.post(f"/users/{admin_id}/email",
                           data={"email": "eve@example.org", "csrf_token": token})
    assert response.status_code == 403
    assert client.post("/users/9999/email", data={"email": "a@b.org",
                                                   "csrf_token": token}).status_code == 404
    with app.app_context():
        assert user("admin").email is None


def test_a_new_user_can_be_given_an_email(app):
    client = app.test_client()
    login(client, "admin")
    page = client.get("/users/new")
    assert "Email for sign-off reminders (optional)" in page.get_data(as_text=True)
    with app.app_context():
        team_id = user("agent").team_id
    response = client.post("/users/new", data={
        "username": "sam.jones", "display_name": "Sam Jones", "role": "agent",
        "team": str(team_id), "email": "sam@example.org", "password": "long enough pw",
        "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    with app.app_context():
        assert user("sam.jones").email == "sam@example.org"
        row = db.session.scalar(db.select(AuditLog).filter_by(action="user.created"))
        assert row.detail["email"] == "sam@example.org"
    response = client.post("/users/new", data={
        "username": "kim", "display_name": "Kim", "role": "agent", "team": str(team_id),
        "email": "not an address", "csrf_token": csrf_token(page)})
    assert response.status_code == 400
    with app.app_context():
        assert user("kim") is None
