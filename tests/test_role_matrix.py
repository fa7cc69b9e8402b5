"""The role matrix, generated from ``app.url_map``: every route, called as anonymous,
agent, manager and admin (with a session, and with an API bearer token), gets the answer
its row in EXPECTED says. A route missing from EXPECTED fails the test, so a new route
cannot be forgotten; a row whose route is gone fails it too.

What "allowed" means: never 401, 403, 404 or a 5xx, and never a redirect to the login
page. Too low a role: 403. Anonymous: a redirect to the login page, or 401 JSON under
/api/. Every POST is also sent without a CSRF token: refused (400 before any role check,
or 401/403); and, by a signed-in user below the row's role, with a valid CSRF token: 403
(anonymous: the sign-in), so the role check itself is exercised. A PUT goes with and without
the CSRF header. Nothing in the database changes. Bearer tokens sign a request in on
every route (the request loader), exactly as a session does, with the token owner's role.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field

import pytest

from kb.extensions import db
from tests.conftest import SHIPPED_ARTICLES, SHIPPED_SCRIPTS, build_app, csrf_token, login

ROLES = ("agent", "manager", "admin")
LEVELS = ("public", *ROLES)


@dataclass(frozen=True)
class Expect:
    """One endpoint's row: the lowest role that may use it, and which sample value each
    URL argument takes (see ``samples`` below for the names)."""

    minimum: str
    args: dict[str, str] = field(default_factory=dict)
    # A route that answers every caller the same (e.g. 404 where a feature is not set up
    # in this app): the status a bare GET must get, whoever asks.
    everyone: int | None = None


def E(minimum: str, everyone: int | None = None, **args: str) -> Expect:  # noqa: N802
    """A row of EXPECTED (it reads as a table): ``E("manager", slug="script")``."""
    assert minimum in LEVELS, minimum
    return Expect(minimum, args, everyone)


# One line per endpoint. URL arguments default to the sample of the same name (slug: an
# article's); name another sample where the argument means something else.
EXPECTED: dict[str, Expect] = {
    # sign-in, health, static files
    "auth.login": E("public"),
    "auth.logout": E("public"),
    # Single sign-on is not set up in the matrix app: 404 for everyone (tests/test_sso.py)
    "auth.sso_login": E("public", everyone=404),
    "auth.sso_callback": E("public", everyone=404),
    "healthz": E("public"),
    "favicon": E("public"),
    "static": E("public"),
    # reading
    "articles.home": E("agent"),
    "articles.index": E("agent"),
    "articles.article": E("agent"),
    "articles.category": E("agent", slug="category"),
    "articles.pin": E("agent"),  # one's own home page (tests/test_home.py)
    "articles.unpin": E("agent"),
    "articles.move_pin": E("agent"),  # direction: "up"
    "search.search": E("agent"),
    "search.suggest": E("agent"),
    "search.opensearch": E("agent"),
    "search.report_gap": E("agent"),
    "search.gap": E("agent"),  # one's own report; managers any (tests/test_search_empty_state.py)
    "callscripts.index": E("agent"),
    "callscripts.start": E("agent", slug="script"),
    "callscripts.step": E("agent", slug="script"),
    "callscripts.review": E("manager"),
    "callscripts.mark_script_reviewed": E("manager", slug="script"),
    "callscripts.walked": E("agent", slug="script"),  # at an end step (induction evidence)
    # mid-call tools
    "tools.phonetic": E("agent"),
    "tools.phonetic_result": E("agent"),
    "tools.phonetic_card": E("agent"),
    "tools.hold": E("agent"),
    "tools.due_date": E("agent"),
    "tools.standards": E("manager"),
    "tools.edit_standard": E("manager"),
    "tools.edit_set": E("manager"),
    # crisis
    "crisis.protocol": E("public"),  # the plan and helplines; the record needs sign-in
    "crisis.new_incident": E("agent"),
    "crisis.incidents": E("manager"),
    "crisis.incident": E("manager"),  # and its author (the sample's is another agent)
    "crisis.add_review": E("manager"),
    "crisis.helplines": E("manager"),
    "crisis.new_helpline": E("manager"),
    "crisis.edit_helpline": E("manager"),
    "crisis.verify_helpline": E("manager"),
    "crisis.deactivate_helpline": E("manager"),
    "crisis.reactivate_helpline": E("manager"),
    # managers' settings
    "admin.index": E("manager"),
    "admin.vocabularies": E("manager"),
    "admin.vocabulary": E("manager"),
    "admin.synonyms": E("manager"),
    # history and what's new (kind: "articles", number: 1)
    "history.document_history": E("agent"),
    "history.version": E("agent"),
    "history.compare": E("agent"),
    "history.restore": E("manager"),
    "history.whats_new_page": E("agent"),
    # review cycles and the audit log
    "reviews.dashboard": E("manager"),
    "reviews.reviewed": E("manager"),
    "admin.audit_log": E("manager"),
    "admin.audit_csv": E("manager"),
    # feedback and search analytics
    "feedback.send": E("agent"),
    "feedback.queue": E("manager"),
    "feedback.resolve_report": E("manager"),
    "analytics.index": E("manager"),
    "analytics.export": E("manager"),
    "analytics.resolve": E("manager"),
    # publishing (kinds: "articles"; draft_id: a change the demo manager sent for approval)
    "publishing.drafts": E("manager"),
    "publishing.draft": E("manager"),
    "publishing.discard": E("manager"),
    "publishing.new": E("manager"),
    "publishing.edit": E("manager"),
    "publishing.discard_edit": E("manager"),
    "publishing.preview": E("manager"),
    "publishing.approvals": E("manager"),
    "publishing.approval": E("manager"),
    "publishing.approve": E("manager"),
    "publishing.send_back": E("manager"),
    "publishing.archive": E("manager"),
    "publishing.restore": E("manager"),
    "publishing.archived": E("manager"),
    "publishing.categories": E("manager"),
    # users and teams (user_id: the demo agent, in the demo manager's team)
    "users.index": E("manager"),
    "users.new": E("manager"),
    "users.edit": E("manager"),
    "users.reset_password": E("manager"),
    "users.set_email": E("manager"),
    "users.deactivate": E("manager"),
    "users.reactivate": E("manager"),
    "users.teams": E("admin"),
    "users.tokens": E("agent"),  # the agent's own; others' are refused (tests/test_users.py)
    "users.revoke_token": E("agent"),
    # sign-offs (standard: a shipped article that requires a sign-off; every role may read
    # it, only its audience may sign: tests/test_signoffs.py)
    "signoffs.mine": E("agent"),
    "signoffs.sign": E("agent", slug="standard"),
    "signoffs.confirm": E("agent"),  # back from signing in again (tests/test_sso_signoffs)
    # induction (programme_id, item_id: a programme with one task; enrolment_id: the demo
    # agent's enrolment on it, so they, their team's manager and an admin may read it;
    # others are refused: tests/test_induction_views.py)
    "induction.mine": E("agent"),
    "induction.programme_list": E("manager"),
    "induction.programme_new": E("manager"),
    "induction.programme_edit": E("manager"),
    "induction.item_add": E("manager"),
    "induction.item_remove": E("manager"),
    "induction.item_move": E("manager"),
    "induction.programme_archive": E("manager"),
    "induction.programme_restore": E("manager"),
    "induction.assign": E("manager"),
    "induction.people": E("manager"),
    "induction.enrolment": E("agent"),
    "induction.confirm_task": E("manager"),
    "induction.record": E("agent"),
    "signoffs.dashboard": E("manager"),
    "signoffs.register_csv": E("manager"),
    "signoffs.person": E("agent"),  # oneself; managers their team (test_signoffs_dashboard.py)
    "signoffs.countersign": E("manager"),  # own team's; admins anyone's (test_signoffs_countersign)
    # JSON API (401 JSON when anonymous; a session or a bearer token signs in)
    "api.search": E("agent"),
    "api.article": E("agent"),
    "api.phonetic": E("agent"),
    "api.due_date": E("agent"),
    "api.standards": E("agent"),
    "api.create_article": E("manager"),
    "api.update_article": E("manager"),
    "api.signoff_status": E("manager"),
}

# Query strings that make a GET do its real work (otherwise a 400 for a missing field).
QUERY = {
    "search.search": "?q=rent",
    "search.suggest": "?q=rent",
    "api.search": "?q=rent",
    "api.phonetic": "?text=SE1",
    "api.due_date": "?standard={standard_key}",
    "tools.phonetic_result": "?text=SE1",
    "tools.phonetic_card": "?text=SE1",
}
ALLOWED_GET = {200, 301, 302, 303, 308}  # a redirect is fine unless it goes to the login page


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory):
    """Shipped content plus one row of everything a URL can point at."""
    from kb.articles.services import category_slug, import_articles
    from kb.auth.services import issue_token, seed_demo_accounts
    from kb.callscripts.services import import_scripts
    from kb.crisis.services import seed_helplines
    from kb.induction.models import Enrolment, Programme, ProgrammeItem
    from kb.models import (
        Article,
        ArticleFeedback,
        CallScript,
        CrisisIncident,
        Draft,
        Helpline,
        KnowledgeGap,
        User,
        utcnow,
    )
    from kb.search.services import sync_index
    from kb.tools.duedates.models import ResponseStandard, StandardSet
    from kb.tools.duedates.services import seed_standards

    base = tmp_path_factory.mktemp("matrix")
    shutil.copytree(SHIPPED_ARTICLES, base / "articles", dirs_exist_ok=True)
    shutil.copytree(SHIPPED_SCRIPTS, base / "scripts")
    app = build_app(base)
    with app.app_context():
        seed_demo_accounts()
        seed_helplines()
        seed_standards()
        db.session.commit()
        assert import_articles(base / "articles").ok
        assert import_scripts(base / "scripts").ok
        db.session.commit()
        sync_index()
        users = {u.username: u for u in db.session.scalars(db.select(User))}
        tokens = {name: issue_token(users[name], "matrix") for name in ROLES}
        incident = CrisisIncident(recorded_by_id=users["newstarter"].id, occurred_at=utcnow(),
                                  what_was_said="Role matrix sample.")
        db.session.add(incident)
        article = db.session.scalars(db.select(Article).order_by(Article.slug)).first()
        feedback = ArticleFeedback(article_id=article.id, version_number=1, kind="outdated",
                                   user_id=users["agent"].id, comment="Role matrix sample.")
        db.session.add(feedback)
        draft = Draft(kind="article", document_id=article.id, state="pending",
                      fields={"slug": article.slug, "title": article.title},
                      markdown=article.current_version.markdown + "\n\nRole matrix change.",
                      base_version=article.current_version.number, change_summary="Matrix",
                      author_id=users["manager"].id, submitted_at=utcnow())
        db.session.add(draft)
        programme = Programme(name="Matrix induction", created_at=utcnow())
        programme.items.append(ProgrammeItem(kind="task", title="Shadow three calls",
                                             position=1, due_days=3))
        db.session.add(programme)
        db.session.flush()
        enrolment = Enrolment(programme_id=programme.id, user_id=users["agent"].id,
                              start_date=utcnow().date())
        db.session.add(enrolment)
        gap = KnowledgeGap(query="role matrix sample", user_id=users["agent"].id)
        db.session.add(gap)
        db.session.commit()
        script = db.session.scalars(db.select(CallScript).order_by(CallScript.slug)).first()
        step = re.search(r"\{#([A-Za-z0-9_-]+)\}", script.current_version.markdown).group(1)
        app.config["MATRIX"] = {
            "tokens": {name: token for name, (token, _row) in tokens.items()},
            "samples": {
                "slug": article.slug,
                "category": category_slug(article.category),
                "script": script.slug,
                "step_id": step,
                "name": "synonyms",
                "filename": "css/kb.css",
                "helpline_id": db.session.scalars(db.select(Helpline.id)).first(),
                "standard_id": db.session.scalars(db.select(ResponseStandard.id)).first(),
                "standard_key": db.session.scalars(db.select(ResponseStandard.key)).first(),
                "set_id": db.session.scalars(db.select(StandardSet.id)).first(),
                "incident_id": incident.id,
                "user_id": users["agent"].id,
                "token_id": tokens["agent"][1].id,
                "kind": "articles",
                "report": "top",
                "feedback_id": feedback.id,
                "kinds": "articles",
                "draft_id": draft.id,
                "programme_id": programme.id,
                "item_id": programme.items[0].id,
                "enrolment_id": enrolment.id,
                "gap_id": gap.id,
                "number": 1,
                "direction": "up",
                "standard": db.session.scalars(db.select(Article.slug).where(
                    Article.requires_signoff.is_(True)).order_by(Article.slug)).first(),
            },
        }
    yield app
    with app.app_context():
        db.engine.dispose()


def _rules(app):
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.endpoint, rule.rule))


def _url(app, rule) -> str:
    """The rule's URL with sample values for its arguments."""
    row, samples = EXPECTED[rule.endpoint], app.config["MATRIX"]["samples"]
    values = {}
    for argument in rule.arguments:
        key = row.args.get(argument, argument)
        assert key in samples, (
            f"{rule.endpoint} ({rule.rule}): no sample for <{argument}>. Name one in its "
            f"EXPECTED row, e.g. E(..., {argument}=\"slug\"), from: {sorted(samples)}")
        values[argument] = samples[key]
    _domain, path = rule.build(values, append_unknown=False)
    return path + QUERY.get(rule.endpoint, "").format(**samples)


def _client(app, role: str | None, via: str):
    """A test client for the role, signed in by the login form or by a bearer token."""
    client = app.test_client()
    headers = {}
    if role is not None and via == "session":
        assert login(client, role).status_code == 302
    elif role is not None:
        headers["Authorization"] = f"Bearer {app.config['MATRIX']['tokens'][role]}"
    return client, headers


def _to_login(response) -> bool:
    return response.status_code in (301, 302, 303) and "/login" in response.headers.get(
        "Location", "")


USAGE_COLUMNS = {"last_used_at", "whats_new_seen_at"}
USAGE_TABLES = {"search_log", "article_views"}


def _snapshot() -> str:
    """Everything stored, except usage logs that a GET may write (search log, token use,
    when a user last opened What's new)."""
    parts = []
    for table in db.metadata.sorted_tables:
        if table.name in USAGE_TABLES:
            continue
        columns = [c for c in table.columns if c.name not in USAGE_COLUMNS]
        ordered = db.select(*columns).order_by(*table.primary_key.columns)  # PG moves updated rows
        parts.extend(repr(tuple(r)) for r in db.session.execute(ordered))
    return "\n".join(parts)


def test_every_route_is_in_the_table_and_every_row_is_a_route(matrix_app):
    """A new route must get a row here; a removed route must lose its row."""
    endpoints = {}
    for rule in _rules(matrix_app):
        endpoints.setdefault(rule.endpoint, rule)
    missing = [
        f"  {name!r} ({', '.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))} {rule.rule}): "
        f"add the line   \"{name}\": E(\"<public|agent|manager|admin>\"),   to EXPECTED"
        + (f" (URL arguments {sorted(rule.arguments)}: name a sample if the default "
           "does not fit, e.g. slug=\"script\")" if rule.arguments else "")
        for name, rule in sorted(endpoints.items()) if name not in EXPECTED
    ]
    gone = [f"  {name!r}: no route has this endpoint any more; delete its line"
            for name in sorted(set(EXPECTED) - set(endpoints))]
    assert not missing and not gone, (
        "tests/test_role_matrix.py EXPECTED is out of step with app.url_map:\n"
        + "\n".join(missing + gone))


@pytest.mark.parametrize(("role", "via"), [
    (None, "anonymous"),
    *[(role, via) for role in ROLES for via in ("session", "token")],
])
def test_every_route_answers_each_role_as_the_table_says(matrix_app, role, via):
    """GET where a route has it, POST without a CSRF token where it takes POST."""
    client, headers = _client(matrix_app, role, via)
    rank = LEVELS.index(role) if role else 0
    problems = []
    page = client.get("/login" if role is None else "/", headers=headers)
    token = csrf_token(page) if via == "session" else ""
    with matrix_app.app_context():
        before = _snapshot()
        for rule in _rules(matrix_app):
            if rule.endpoint not in EXPECTED:
                continue  # reported by the completeness test
            row, url = EXPECTED[rule.endpoint], _url(matrix_app, rule)
            needed = LEVELS.index(row.minimum)
            is_api = rule.rule.startswith("/api/")
            if "GET" in rule.methods:
                response = client.get(url, headers=headers)
                code = response.status_code
                if row.everyone is not None:
                    ok, want = code == row.everyone, str(row.everyone)
                elif rank >= needed:
                    ok = code in ALLOWED_GET and not _to_login(response)
                    want = "allowed (200 or a redirect, not to the login page)"
                elif role is None:
                    ok = code == 401 if is_api else _to_login(response)
                    want = "401" if is_api else "a redirect to the login page"
                else:
                    ok, want = code == 403, "403"
                if not ok:
                    problems.append(f"GET {url} [{rule.endpoint}, minimum {row.minimum}]: "
                                    f"{code}, expected {want}")
            if "POST" in rule.methods:
                response = client.post(url, headers=headers, data={})
                code = response.status_code
                if code not in (400, 401, 403) and not _to_login(response):
                    problems.append(f"POST {url} without a CSRF token [{rule.endpoint}]: "
                                    f"{code}, expected 400 or 403")
                if rank < needed and via == "session":
                    # With a valid token the CSRF check passes: the role check must refuse.
                    response = client.post(url, data={"csrf_token": token})
                    code = response.status_code
                    ok = (code == 401 if is_api else _to_login(response)) if role is None \
                        else code == 403
                    if not ok:
                        problems.append(f"POST {url} with a CSRF token [{rule.endpoint}, "
                                        f"minimum {row.minimum}]: {code}, expected "
                                        + ("a sign-in" if role is None else "403"))
            if "PUT" in rule.methods:
                if via == "session":  # without the CSRF header: refused, whoever asks
                    code = client.put(url, json={}).status_code
                    if code not in (400, 401, 403):
                        problems.append(f"PUT {url} without a CSRF token [{rule.endpoint}]: "
                                        f"{code}, expected 400, 401 or 403")
                sent = dict(headers, **({"X-CSRFToken": token} if via == "session" else {}))
                code = client.put(url, headers=sent, json={}).status_code
                want = (401,) if role is None else (403,) if rank < needed else (400, 409)
                if code not in want:
                    problems.append(f"PUT {url} with an empty body [{rule.endpoint}, minimum "
                                    f"{row.minimum}]: {code}, expected {want}")
        db.session.rollback()
        assert _snapshot() == before, f"requests as {role or 'anonymous'} changed the database"
    who = f"{role} ({via})" if role else "anonymous"
    assert not problems, f"As {who}:\n" + "\n".join(problems)


def test_a_bad_bearer_token_is_a_401_on_the_api_and_a_login_redirect_elsewhere(matrix_app):
    """A wrong or revoked token signs nobody in."""
    client = matrix_app.test_client()
    headers = {"Authorization": "Bearer kb_not-a-real-token"}
    response = client.get("/api/search?q=rent", headers=headers)
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert _to_login(client.get("/articles/", headers=headers))
