"""Sign-offs under real load: 25 agents each submit the sign form twice at the same moment
(50 simultaneous POSTs from 50 signed-in sessions) to gunicorn with several worker
processes, and exactly one signature per agent is recorded, in one unbroken chain."""

from __future__ import annotations

import http.cookiejar
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

from kb.auth.services import create_user
from kb.extensions import db
from kb.models import AuditLog
from kb.signoffs import chain
from kb.signoffs.models import SignOff
from tests.conftest import ROOT, build_app
from tests.signoff_helpers import standard
from tests.test_gunicorn import gunicorn, instance_env

AGENTS = 25
SLUG = "greeting"
SIGN = f"/signoffs/articles/{SLUG}/sign"


class _Inputs(HTMLParser):
    """The name and value of every <input> on a page (what a browser would post)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs) -> None:
        """Keep each named input's value."""
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""


class _Keep(urllib.request.HTTPRedirectHandler):
    """Hand back a redirect as it is, so the test sees the status and where it points."""

    def redirect_request(self, *args, **kwargs):
        """Follow nothing."""
        return None


class Session:
    """One browser: its own cookie jar (session cookie), talking to ``base``."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _Keep())

    def request(self, path: str, form: dict | None = None) -> tuple[int, str, str]:
        """GET (or with ``form``, POST) ``path``; returns (status, Location, body)."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=120) as response:
                return response.status, "", response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", ""), error.read().decode()

    def inputs(self, path: str) -> dict[str, str]:
        """The inputs of the form on ``path`` (the CSRF token and hidden fields included)."""
        status, _, body = self.request(path)
        assert status == 200, (path, status)
        parser = _Inputs()
        parser.feed(body)
        return parser.values

    def sign_in(self, username: str, password: str) -> None:
        """Sign in through the real form."""
        token = self.inputs("/login")["csrf_token"]
        status, location, _ = self.request("/login", {"username": username,
                                                      "password": password,
                                                      "csrf_token": token})
        assert status == 302 and not location.startswith("/login"), (username, status)


def _open_form(base: str, username: str, display_name: str) -> tuple[str, Session, dict]:
    """A new session signed in as ``username`` with the sign form filled in as they would."""
    session = Session(base)
    session.sign_in(username, "pw-" + username)
    form = session.inputs(SIGN)
    assert form["user_id"] and form["content_sha256"], form
    form.update(understood="y", typed_name=display_name, password="pw-" + username)
    return username, session, form


def test_fifty_simultaneous_submits_by_25_agents_record_exactly_25(tmp_path):
    app = build_app(tmp_path, seeded=True)
    names = {f"signer{n:02d}": f"Signer Number{n:02d}" for n in range(AGENTS)}
    with app.app_context():
        for username, display_name in names.items():
            create_user(username, "pw-" + username, role="agent", display_name=display_name)
        standard(SLUG, "Answer within 20 seconds and give your name.")
        db.session.commit()
    # Every request comes from 127.0.0.1: the per-address limits on signing in and on the
    # sign form would otherwise refuse most of this one office's burst.
    env = instance_env(app, tmp_path, KB_LOGIN_RATE_LIMIT="10000 per minute")
    with gunicorn(env, workers=3) as base:
        # Two sessions per agent, as if signed in on two screens, each with its own form.
        with ThreadPoolExecutor(max_workers=8) as pool:
            attempts = list(pool.map(lambda who: _open_form(base, *who),
                                     [item for item in names.items() for _ in range(2)]))
        start = threading.Barrier(len(attempts))
        answers: list = [None] * len(attempts)

        def submit(index: int) -> None:
            """Wait for every other thread, then post this session's form."""
            _, session, form = attempts[index]
            start.wait(timeout=120)
            answers[index] = session.request(SIGN, form)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(attempts))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        # Every POST was answered with the redirect to My sign-offs (never a 500).
        assert [(status, location) for status, location, _ in answers] == [
            (302, "/signoffs/")] * len(attempts), [a[:2] for a in answers]
        # The message waiting on that page says which it was: one signed, one already.
        outcomes: dict[str, list[str]] = {username: [] for username in names}
        with ThreadPoolExecutor(max_workers=8) as pool:
            pages = pool.map(lambda attempt: attempt[1].request("/signoffs/")[2], attempts)
            for (username, _, _), page in zip(attempts, pages, strict=True):
                signed = "Signed: version 1 of Greeting." in page
                already = "You have already signed version 1 of this standard." in page
                assert signed != already, page
                outcomes[username].append("signed" if signed else "already")
        assert {u: sorted(o) for u, o in outcomes.items()} == {
            u: ["already", "signed"] for u in names}
    with app.app_context():
        records = db.session.scalars(db.select(SignOff).order_by(SignOff.seq)).all()
        assert sorted(r.user.username for r in records) == sorted(names)  # one each
        assert [r.seq for r in records] == list(range(1, AGENTS + 1))
        assert {r.version_number for r in records} == {1}
        audited = db.session.scalar(db.select(db.func.count(AuditLog.id))
                                    .where(AuditLog.action == "signoff.recorded"))
        assert audited == AGENTS
        assert chain.verify() == (AGENTS, [])
        db.engine.dispose()
    # The command an auditor would run, in its own process, agrees.
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "kb", "verify-signoffs"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"{AGENTS} records checked" in result.stdout
