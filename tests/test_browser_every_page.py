"""Real Chromium over every page the app serves: each GET route from ``app.url_map`` (with
the role matrix's sample ids, on its seeded app with content and a sign-off), opened by the
lowest role that may see it, must fit an 800 px window and 1280x720 at 200% zoom (a
640x360 CSS-pixel viewport at device scale 2) without scrolling sideways, and pass axe.

A GET route that is neither a page here nor named in NOT_PAGES fails the test, and so does
a page template that no page rendered, so a new page cannot be forgotten.
"""

from __future__ import annotations

import re

import pytest
from flask import template_rendered

from kb.extensions import db
from tests.browser import LiveServer, sign_in, watch_errors
from tests.conftest import csrf_token, login
from tests.test_role_matrix import EXPECTED, LEVELS, _url
from tests.test_role_matrix import matrix_app as matrix_app  # the fixture, shared

pytestmark = pytest.mark.browser

# GET routes that answer with something other than an HTML page.
NOT_PAGES = {
    "static": "files",
    "favicon": "a file",
    "healthz": "JSON",
    "search.suggest": "JSON for the typeahead",
    "search.opensearch": "XML for the browser's search box",
    "admin.audit_csv": "CSV",
    "analytics.export": "CSV",
    "signoffs.register_csv": "CSV",
    "api.search": "JSON",
    "api.article": "JSON",
    "api.phonetic": "JSON",
    "api.due_date": "JSON",
    "api.standards": "JSON",
    "api.signoff_status": "JSON",
    "tools.phonetic_result": "HTML for the phonetic page to fetch as the agent types",
    "auth.sso_login": "a redirect to the identity provider",
    "auth.sso_callback": "the provider's return: a redirect, or the error page "
                         "tests/test_sso.py checks",
    "signoffs.confirm": "the return from signing in again: records, then redirects",
}

# Page states that the routes' plain addresses do not show: (who, address, what it shows).
EXTRA = [
    (None, "/no-such-page", "the error page, signed out"),
    ("agent", "/articles/no-such-article", "the error page, signed in"),
    ("agent", "/search?q=zzqx+wibble", "search with no results (the empty state)"),
    ("agent", "/tools/due-date?standard={standard_key}&from=2026-03-27", "a due date worked out"),
    ("agent", "/tools/phonetic?text=SW1A+1AA", "a postcode spelt"),
    ("manager", "/", "a manager's home (what needs them)"),
    ("manager", "/publishing/scripts/{script}/edit", "the call script editor"),
    ("manager", "/publishing/scripts/new", "a new call script"),
    ("manager", "/history/scripts/{script}/", "a call script's history"),
    ("admin", "/admin/", "the admin's settings"),
]

# Templates rendered only in answer to a POST (a form sent back with its errors is the
# same template as the page above, so those are covered).
POST_ONLY = {
    "users/secret.html": "the one-time password after creating a user or resetting one",
    "publishing/conflict.html": "a publish that lost a race with another manager (409)",
    "feedback/send.html": "feedback sent without JavaScript, refused",
    "base.html": "every page extends it",
    # Not a POST, but only at the end of a round trip to an identity provider, which the
    # matrix app has none of: tests/test_sso.py checks what it says for each failure.
    "auth/sso_error.html": "a single sign-on round trip that failed",
}

SIZES = {"800 px": {"width": 800, "height": 720},
         "1280x720 at 200%": {"width": 640, "height": 360}}

OVERFLOW = """() => {
  const root = document.documentElement, width = root.clientWidth;
  if (root.scrollWidth <= width) { return null; }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.classList.length ? "." + [...el.classList].join(".") : "");
  const wide = [...document.body.querySelectorAll("*")].filter((el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1;
  });
  const outermost = wide.filter((el) => !wide.includes(el.parentElement));
  return root.scrollWidth + " px wide in " + width + ": " +
    outermost.slice(0, 4).map((el) => name(el) + " (to " +
      Math.round(el.getBoundingClientRect().right) + ")").join(", ");
}"""


def _axe_script():
    """axe-core as shipped with the axe Playwright package (tests/browser.py uses it)."""
    from axe_playwright_python.base import AXE_FILE_PATH

    return AXE_FILE_PATH


def _axe(page) -> list[str]:
    """axe-core's serious and critical findings (axe is already on the page, put there by
    an init script: faster than injecting it into each of a hundred pages)."""
    violations = page.evaluate("axe.run({resultTypes: ['violations']})")["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
            for v in violations if v["impact"] in ("serious", "critical")]


@pytest.fixture(scope="module")
def site(matrix_app):
    """The role matrix's app, with a sign-off on record, served on loopback."""
    from kb.models import Article, User
    from kb.signoffs.services import Submission, sign

    samples = matrix_app.config["MATRIX"]["samples"]
    with matrix_app.app_context():
        agent = db.session.scalar(db.select(User).filter_by(username="agent"))
        article = db.session.scalar(db.select(Article).filter_by(slug=samples["standard"]))
        version = article.current_version
        answers = {str(i): q["answer"] for i, q in enumerate(article.signoff_questions or [])}
        sign(article.slug, agent, Submission(
            user_id=str(agent.id), version_number=str(version.number),
            content_sha256=version.sha256, typed_name=agent.display_name, password="demo",
            understood=True, answers=answers), address="127.0.0.1", user_agent="test")
        db.session.commit()
    # Browsers keep the CSS and JavaScript for the run instead of asking for each again.
    matrix_app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    with LiveServer(matrix_app) as server:
        yield matrix_app, server.url


def _pages(app) -> tuple[list[tuple[str | None, str, str]], list[str]]:
    """(role or None, address, endpoint) for every GET page; and the routes not accounted
    for (missing from EXPECTED, or named in NOT_PAGES but gone)."""
    pages, problems, seen = [], [], set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        seen.add(rule.endpoint)
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint not in EXPECTED:
            problems.append(f"{rule.endpoint} ({rule.rule}): not in EXPECTED in "
                            "tests/test_role_matrix.py; add it there (its lowest role and "
                            "sample ids), or to NOT_PAGES here if it is not a page")
            continue
        minimum = EXPECTED[rule.endpoint].minimum
        pages.append((None if minimum == "public" else minimum, _url(app, rule),
                      rule.endpoint))
    problems += [f"{name}: in NOT_PAGES but no route has it any more"
                 for name in sorted(set(NOT_PAGES) - seen)]
    samples = app.config["MATRIX"]["samples"]
    pages += [(who, address.format(**samples), what) for who, address, what in EXTRA]
    return pages, problems


def test_every_get_route_is_a_page_and_every_page_template_is_shown(site):
    """No browser: the route list is complete, and opening every page (as the browser test
    below does, by the test client) renders every page template."""
    app, _live = site
    pages, problems = _pages(app)
    assert not problems, "\n".join(problems)
    rendered: set[str] = set()

    def record(_sender, template, context, **extra):
        rendered.add(template.name)

    clients = {None: app.test_client()}
    for role in LEVELS[1:]:
        clients[role] = app.test_client()
        login(clients[role], role)
    template_rendered.connect(record, app)
    try:
        for role, address, _what in pages:
            clients[role].get(address, follow_redirects=True)
    finally:
        template_rendered.disconnect(record, app)
    templates = {name for name in app.jinja_env.list_templates()
                 if name.endswith(".html") and not name.rsplit("/", 1)[-1].startswith("_")
                 and not name.startswith("macros/")}
    unseen = sorted(templates - rendered - set(POST_ONLY))
    assert not unseen, ("Page templates that no page here renders (add an EXTRA address "
                        f"that shows them, or a POST_ONLY line): {unseen}")


@pytest.mark.parametrize("role", ["anonymous", *LEVELS[1:]])
def test_every_page_fits_800px_and_200_percent_zoom_and_passes_axe(site, browser, role):
    """Each role's pages in one tab: no sideways scrolling at either size, no serious axe
    finding, no JavaScript error, the status expected."""
    app, live = site
    who = None if role == "anonymous" else role
    pages = [(address, what) for person, address, what in _pages(app)[0] if person == who]
    overflow, axe, broken = [], [], []
    context = browser.new_context(viewport=SIZES["800 px"], device_scale_factor=2,
                                  bypass_csp=True)  # axe is injected
    context.add_init_script(path=_axe_script())
    try:
        page = context.new_page()
        errors = watch_errors(page)
        if who:
            sign_in(page, live, who)
        for address, what in pages:
            response = page.goto(f"{live}{address}")
            expected_status = 404 if "no-such-" in address else 200
            if response.status != expected_status:
                broken.append(f"{address}: {response.status}, expected {expected_status}")
            for size, viewport in SIZES.items():
                page.set_viewport_size(viewport)
                wide = page.evaluate(OVERFLOW)
                if wide:
                    overflow.append(f"{address} ({what}) at {size}: {wide}")
            page.set_viewport_size(SIZES["800 px"])
            axe += [f"{address}: {v}" for v in _axe(page)]
            broken += [f"{address}: {e}" for e in errors
                       if not (expected_status == 404 and "status of 404" in e)]
            errors.clear()
    finally:
        context.close()
    assert pages
    assert not overflow, f"Pages that scroll sideways, as {role}:\n" + "\n".join(overflow)
    assert not axe, f"axe (serious and critical), as {role}:\n" + "\n".join(axe)
    assert not broken, f"As {role}:\n" + "\n".join(broken)


# --- one error summary on every form (kb/templates/_error_summary.html) -----------------

SUMMARY = re.compile(r'<div class="error-summary" role="alert" aria-labelledby="([^"]+)"'
                     r' tabindex="-1" data-error-summary>(.*?)</div>', re.S)


def _summary(html: str) -> tuple[str, list[str]]:
    """The summary's heading and the ids its links point to (each must be on the page)."""
    found = SUMMARY.search(html)
    assert found, "no error summary"
    title_id, body = found.groups()
    assert f'id="{title_id}"' in body
    targets = re.findall(r'<a href="#([^"]+)"', body)
    for target in targets:
        assert f'id="{target}"' in html, f"the summary links to #{target}, not on the page"
    return re.sub(r"<[^>]+>", "", body).strip(), targets


def test_refused_forms_share_one_error_summary_linked_to_their_fields(site):
    app, _live = site
    samples = app.config["MATRIX"]["samples"]
    anonymous = app.test_client()
    page = anonymous.get("/login")
    refused = anonymous.post("/login", data={"csrf_token": csrf_token(page), "username": "",
                                             "password": ""})
    text, targets = _summary(refused.get_data(as_text=True))
    assert text.startswith("You are not signed in") and "username" in targets

    manager = app.test_client()
    login(manager, "manager")
    page = manager.get("/tools/due-date/standards/new")
    refused = manager.post("/tools/due-date/standards/new", data={
        "csrf_token": csrf_token(page), "label": "", "channel": ""})
    text, targets = _summary(refused.get_data(as_text=True))
    assert text.startswith("Nothing was saved") and {"label", "channel"} <= set(targets)

    draft = samples["draft_id"]  # the demo manager's: another manager sends it back
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get(f"/publishing/approvals/{draft}")
    refused = admin.post(f"/publishing/approvals/{draft}/send-back", data={
        "csrf_token": csrf_token(page), "comment": ""})
    text, targets = _summary(refused.get_data(as_text=True))
    assert text.startswith("Not sent back") and targets == ["comment"]

    user_id = samples["user_id"]
    page = manager.get(f"/users/{user_id}")
    refused = manager.post(f"/users/{user_id}/email", data={
        "csrf_token": csrf_token(page), "email": "not an address"})
    text, targets = _summary(refused.get_data(as_text=True))
    assert targets == ["email"]


def test_the_error_summary_is_focused_when_the_page_loads(site, browser):
    _app, live = site
    expect = pytest.importorskip("playwright.sync_api").expect
    context = browser.new_context(viewport=SIZES["800 px"])
    page = context.new_page()
    page.goto(f"{live}/login")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Username")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Username")).to_be_focused()
    context.close()
