"""Call scripts through the app: import, the player, script review and search."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kb.extensions import db
from kb.models import AuditLog, CallScript, CallScriptVersion
from tests.conftest import csrf_token, every_stored_value, login

SCRIPT = """\
---
title: Lost key fob
category: Call handling
tags: [fob, key]
summary: Cancel a lost fob and order a new one.
owner: Contact Centre Manager
start: ask
---

## Ask what happened {{#ask}}

> When did you last have the fob?

Check the [fob article](swipe-cards) first.

Capture: caller_name, address

See: [Swipe cards](swipe-cards)

- [It was stolen](#stolen)
- [It is lost](#lost)

## Stolen {{#stolen .end}}

> I'll cancel it straight away.

## Lost {{#lost .end}}

> I'll order a new one. {extra}

Capture: callback_number
"""


def write_script(folder: Path, slug: str = "lost-fob", extra: str = "") -> Path:
    path = folder / f"{slug}.md"
    path.write_text(SCRIPT.format(extra=extra), encoding="utf-8")
    return path


@pytest.fixture
def fob_app(app, runner, make_article, scripts_dir):
    """A fresh app with one article and one script citing it, imported."""
    make_article("swipe-cards", title="Swipe cards and fobs", body="Cancel, then order.")
    write_script(scripts_dir)
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0, result.output
    return app


def versions(app, slug: str) -> list[int]:
    with app.app_context():
        script = db.session.scalar(db.select(CallScript).filter_by(slug=slug))
        return [v.number for v in script.versions] if script else []


# ----- import ---------------------------------------------------------------------------


def test_import_creates_the_script_and_is_idempotent(fob_app, runner):
    assert versions(fob_app, "lost-fob") == [1]
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0
    assert "Call scripts: 0 new, 0 updated, 1 unchanged, 0 with errors." in result.output
    assert versions(fob_app, "lost-fob") == [1]
    with fob_app.app_context():
        script = db.session.scalar(db.select(CallScript))
        assert script.current_version.cited_slugs == ["swipe-cards"]
        assert script.reviewed_citations == {"swipe-cards": 1}


def test_a_changed_file_makes_a_new_version(fob_app, runner, scripts_dir):
    write_script(scripts_dir, extra="It takes a week.")
    result = runner.invoke(args=["import-content"])
    assert "Call scripts: 0 new, 1 updated" in result.output
    assert versions(fob_app, "lost-fob") == [1, 2]
    with fob_app.app_context():
        texts = db.session.scalars(db.select(CallScriptVersion.markdown)
                                   .order_by(CallScriptVersion.number)).all()
        assert "It takes a week." not in texts[0] and "It takes a week." in texts[1]


def test_bad_scripts_are_reported_by_file_and_step_and_the_rest_import(
    fob_app, runner, scripts_dir
):
    (scripts_dir / "broken.md").write_text(
        "---\ntitle: Broken\nstart: one\n---\n\n## One {#one}\n\n- [Next](#two)\n",
        encoding="utf-8")
    # A broken edit to a stored script keeps the stored version.
    (scripts_dir / "lost-fob.md").write_text(
        SCRIPT.format(extra="").replace("(#lost)", "(#gone)"), encoding="utf-8")
    write_script(scripts_dir, slug="another-fob")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 1
    # One line per problem: broken.md has one, lost-fob.md two (missing step, unreachable).
    assert "Call scripts: 1 new, 0 updated, 0 unchanged, 3 with errors." in result.output
    assert ("error: scripts/broken.md:8: step 'one': choice 'Next' points to missing step "
            "'two'") in result.output
    assert "error: scripts/lost-fob.md" in result.output
    assert "step 'lost': the step cannot be reached" in result.output
    assert versions(fob_app, "lost-fob") == [1]
    assert versions(fob_app, "another-fob") == [1]
    assert versions(fob_app, "broken") == []


def test_citing_a_missing_article_is_an_import_error(app, runner, scripts_dir):
    write_script(scripts_dir)  # cites swipe-cards, which this app does not have
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 1
    assert "step 'ask': cites article 'swipe-cards', which does not exist" in result.output


def test_scripts_are_indexed_and_survive_catch_up_and_reindex(fob_app, runner):
    result = runner.invoke(args=["reindex", "--if-needed"])
    assert "0 added, 0 updated, 0 removed" in result.output  # catch-up keeps the script
    result = runner.invoke(args=["reindex"])
    assert "Indexed 1 article(s) and 1 call script(s)" in result.output
    with fob_app.app_context():
        from kb.search.services import run_search

        hits = run_search("stolen fob", kind="script").hits
        assert [h.slug for h in hits] == ["script:lost-fob"]


# ----- the player -----------------------------------------------------------------------


def test_script_list_shows_every_shipped_script(agent_client):
    page = agent_client.get("/scripts/").get_data(as_text=True)
    for slug in ("call-opening", "hold", "warm-transfer", "complaint", "repair-report",
                 "difficult-caller", "incident-report", "call-closing", "crisis-self-harm"):
        assert f'href="/scripts/{slug}/"' in page
    assert "/scripts/review" not in page  # agents see no manager controls


def test_start_page_shows_the_first_step(agent_client):
    response = agent_client.get("/scripts/crisis-self-harm/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "1. Take the statement seriously" in page
    assert "Do not put the caller on hold" in page
    assert 'class="say"' in page and 'class="guidance"' in page
    assert 'data-choice="1"' in page and 'aria-keyshortcuts="1"' in page
    assert 'src="/static/js/player.js"' in page
    assert "style=" not in page  # the CSP forbids inline styles


def test_each_step_has_its_own_url_with_breadcrumb_back_and_choices(agent_client):
    page = agent_client.get(
        "/scripts/repair-report/priority?path=describe,danger,risk").get_data(as_text=True)
    assert "<h1" in page and "Choose the priority" in page
    assert 'aria-label="Path taken"' in page
    assert 'href="/scripts/repair-report/describe"' in page  # first crumb, empty path
    assert 'href="/scripts/repair-report/danger?path=describe"' in page
    # Back returns to the previous step with the path before it.
    assert ('formaction="/scripts/repair-report/risk" name="path" value="describe,danger"'
            in page)
    # Choices carry the path including this step.
    assert ('formaction="/scripts/repair-report/urgent" name="path" '
            'value="describe,danger,risk,priority"') in page
    assert page.count("data-choice=") == 5
    assert "Repair priorities and timescales" in page  # cited article beside the step


def test_unknown_steps_and_scripts_are_404(agent_client):
    assert agent_client.get("/scripts/repair-report/no-such-step").status_code == 404
    assert agent_client.get("/scripts/no-such-script/").status_code == 404
    assert agent_client.get("/scripts/no-such-script/describe").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["describe,routine", "danger", "nonsense,steps", ",".join(["describe"] * 200),
     "describe,danger,risk,priority,emergency"],
)
def test_a_forged_path_is_replaced_by_the_shortest_route(agent_client, path):
    response = agent_client.get("/scripts/repair-report/urgent",
                                query_string={"path": path, "caller_name": "Jo"})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/scripts/repair-report/urgent"
    query = parse_qs(target.query)
    assert query["path"] == ["describe,danger,risk,priority"]
    assert query["caller_name"] == ["Jo"]  # what was typed is not lost
    page = agent_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "shortest route" in page


def test_a_path_on_the_start_page_is_dropped(agent_client):
    response = agent_client.get("/scripts/repair-report/?path=describe")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/scripts/repair-report/"


def test_captured_values_are_carried_into_the_summary(agent_client):
    values = {
        "caller_name": "Jo <Bloggs>",
        "address": "1 High Street",
        "repair_description": "Leak\r\nunder the sink",
        "appointment": "Tuesday morning",
        "not_a_field": "dropped",
    }
    # A step that does not ask for a field still carries it as a hidden input.
    page = agent_client.get("/scripts/repair-report/appointment",
                            query_string={"path": "describe,danger,risk,priority,urgent",
                                          **values}).get_data(as_text=True)
    assert '<input type="hidden" name="caller_name" value="Jo &lt;Bloggs&gt;">' in page
    assert 'name="appointment" value="Tuesday morning"' in page  # asked for here: visible
    assert "not_a_field" not in page
    page = agent_client.get(
        "/scripts/repair-report/confirm",
        query_string={"path": "describe,danger,risk,priority,urgent,appointment", **values},
    ).get_data(as_text=True)
    start = page.index('id="call-summary"')
    summary = html.unescape(page[page.index(">", start) + 1 : page.index("</textarea>", start)])
    lines = summary.splitlines()
    assert lines[0] == "Call script: Reporting a repair (script version 1)"
    assert lines[3:5] == ["", "Path taken:"]  # after the date and time, and the agent
    assert "4. Choose the priority -> Urgent: within 5 working days" in summary
    assert "7. Confirm and close" in summary
    assert "Caller's name: Jo <Bloggs>" in summary
    assert "The problem, in the caller's words:\n  Leak\n  under the sink" in summary
    assert "Appointment agreed (day, morning or afternoon): Tuesday morning" in summary
    assert "dropped" not in summary
    assert "readonly" in page[start - 200 : start + 200]
    assert 'data-copy="call-summary"' in page


def test_long_values_are_capped(agent_client):
    page = agent_client.get("/scripts/hold/call-back",
                            query_string={"path": "ask", "caller_name": "x" * 5000}
                            ).get_data(as_text=True)
    assert "x" * 200 in page and "x" * 201 not in page


def test_nothing_captured_is_stored(app, client, make_article, scripts_dir, runner):
    make_article("swipe-cards", body="Cancel, then order.")
    write_script(scripts_dir)
    assert runner.invoke(args=["import-content"]).exit_code == 0
    login(client, "agent")
    secret = "Zanzibar-Caller-7731"
    for url, path in (("/scripts/lost-fob/", None), ("/scripts/lost-fob/lost", "ask"),
                      ("/scripts/lost-fob/stolen", "ask")):
        response = client.get(url, query_string={"path": path, "caller_name": secret,
                                                 "callback_number": secret})
        assert response.status_code == 200
        assert secret in response.get_data(as_text=True)
    with app.app_context():
        # Every row of every table (on SQLite the file scan below finds them too).
        assert secret not in every_stored_value(db)
        db.session.remove()
        db.engine.dispose()
    base = Path(app.config["KB_INDEX_DIR"]).parent  # the instance: index, files, SQLite
    for path in base.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


# ----- review -------------------------------------------------------------------------


def update_article(make_article, runner):
    make_article("swipe-cards", title="Swipe cards and fobs", body="Cancel, then re-order.")
    assert runner.invoke(args=["import-content"]).exit_code == 0


def test_no_review_flag_until_a_cited_article_changes(fob_app, client):
    login(client, "manager")
    assert "Cited article changed" not in client.get("/scripts/lost-fob/").get_data(True)
    assert "No scripts need review" in client.get("/scripts/review").get_data(as_text=True)


def test_manager_sees_the_flag_and_marks_the_script_reviewed(
    fob_app, client, make_article, runner
):
    update_article(make_article, runner)
    assert versions(fob_app, "lost-fob") == [1]  # the script itself did not change
    login(client, "manager")
    page = client.get("/scripts/lost-fob/").get_data(as_text=True)
    assert "Cited article changed — review this script" in page
    assert "checked at version 1, now version 2" in page
    listing = client.get("/scripts/review").get_data(as_text=True)
    assert "Lost key fob" in listing and "Swipe cards and fobs" in listing
    assert "Needs review" in client.get("/scripts/").get_data(as_text=True)

    response = client.post("/scripts/review/lost-fob", data={"csrf_token": csrf_token(
        client.get("/scripts/lost-fob/"))})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/scripts/lost-fob/")
    assert "Cited article changed" not in client.get("/scripts/lost-fob/").get_data(True)
    assert "No scripts need review" in client.get("/scripts/review").get_data(as_text=True)
    with fob_app.app_context():
        script = db.session.scalar(db.select(CallScript))
        assert script.reviewed_citations == {"swipe-cards": 2}
        assert script.reviewed_by.username == "manager"
        audit = db.session.scalar(db.select(AuditLog).filter_by(action="callscript.reviewed"))
        assert audit.target == "lost-fob"
        assert audit.detail["before"] == {"swipe-cards": 1}
        assert audit.detail["after"] == {"swipe-cards": 2}


def test_a_rewritten_script_keeps_its_review_flag(fob_app, client, make_article, runner,
                                                  scripts_dir):
    update_article(make_article, runner)
    write_script(scripts_dir, extra="Allow a week.")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    assert versions(fob_app, "lost-fob") == [1, 2]
    login(client, "manager")
    assert "Cited article changed" in client.get("/scripts/lost-fob/").get_data(True)


def test_agents_cannot_see_or_use_the_review_controls(fob_app, client, make_article, runner):
    update_article(make_article, runner)
    login(client, "agent")
    page = client.get("/scripts/lost-fob/").get_data(as_text=True)
    assert "Cited article changed" not in page and "Mark reviewed" not in page
    assert client.get("/scripts/review").status_code == 403
    token = csrf_token(client.get("/scripts/lost-fob/"))  # the sign-out form's token
    assert client.post("/scripts/review/lost-fob", data={"csrf_token": token}).status_code == 403
    with fob_app.app_context():
        assert db.session.scalar(db.select(CallScript)).reviewed_citations == {"swipe-cards": 1}


def test_mark_reviewed_needs_a_csrf_token(fob_app, client, make_article, runner):
    update_article(make_article, runner)
    login(client, "manager")
    assert client.post("/scripts/review/lost-fob").status_code == 400
    assert client.post("/scripts/review/lost-fob",
                       data={"csrf_token": "forged"}).status_code == 400
    assert "Cited article changed" in client.get("/scripts/lost-fob/").get_data(True)


def test_mark_reviewed_for_an_unknown_script_is_404(fob_app, client):
    login(client, "manager")
    token = csrf_token(client.get("/scripts/lost-fob/"))
    assert client.post("/scripts/review/nope", data={"csrf_token": token}).status_code == 404


def test_the_service_checks_the_role_too(fob_app):
    from kb.auth.services import authenticate
    from kb.callscripts.services import NotAllowed, mark_reviewed

    with fob_app.app_context():
        with pytest.raises(NotAllowed):
            mark_reviewed("lost-fob", authenticate("agent", "demo"))


# ----- search ---------------------------------------------------------------------------


def test_api_search_kind_filter(agent_client):
    data = agent_client.get("/api/search?q=complaint&kind=script").get_json()
    assert data["results"], data
    assert all(r["slug"].startswith("script:") for r in data["results"])
    hit = data["results"][0]
    assert hit["slug"] == "script:complaint"
    assert hit["url"] == "/scripts/complaint/"
    assert set(hit) == {"slug", "title", "url", "summary", "snippet", "category", "score",
                        "kind"}
    assert hit["kind"] == "script"
    articles = agent_client.get("/api/search?q=complaint&kind=article").get_json()["results"]
    assert articles and not any(r["url"].startswith("/scripts/") for r in articles)


def test_api_search_bad_kind_is_400_json(agent_client):
    response = agent_client.get("/api/search?q=hold&kind=video")
    assert response.status_code == 400
    assert "kind must be one of: article, script" in response.get_json()["message"]


def test_a_script_follows_the_article_it_is_built_on(agent_client):
    slugs = [r["slug"] for r in agent_client.get("/api/search?q=self+harm").get_json()[
        "results"]]
    assert slugs.index("crisis-self-harm") < slugs.index("script:crisis-self-harm")


def test_search_page_kind_filter_links_scripts_to_the_player(agent_client):
    page = agent_client.get("/search?q=hold&kind=script").get_data(as_text=True)
    assert 'href="/scripts/hold/?from=' in page  # result links carry their search (issue 9)
    assert "/articles/hold-etiquette" not in page.split('id="search-results"')[1]
    assert 'aria-current="page">Call scripts<' in page
    everything = agent_client.get("/search?q=hold").get_data(as_text=True)
    assert 'href="/scripts/hold/?from=' in everything
    assert 'href="/articles/hold-etiquette?from=' in everything
    assert agent_client.get("/search?q=hold&kind=bogus").status_code == 200
