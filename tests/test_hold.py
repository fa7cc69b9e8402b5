"""Hold timer page: the words to say, the check-in interval and its limits."""

from __future__ import annotations

import re

import pytest

from kb.tools.hold.services import checkin_interval, describe_seconds

INTERVAL_RE = re.compile(r'data-interval="(\d+)"')


def interval_of(page: str) -> int:
    match = INTERVAL_RE.search(page)
    assert match, "no data-interval on the page"
    return int(match.group(1))


@pytest.mark.parametrize(
    ("requested", "default", "expected"),
    [
        (None, 45, 45),
        ("30", 45, 30),
        (" 90 ", 45, 90),
        ("2", 45, 5),
        ("0", 45, 5),
        ("-10", 45, 5),
        ("601", 45, 600),
        ("99999", 45, 600),
        ("abc", 45, 45),
        ("4.5", 45, 45),
        ("", 45, 45),
        (None, 1, 5),
        (None, "120", 120),
        (None, "rubbish", 45),
    ],
)
def test_checkin_interval_is_a_whole_number_of_seconds_within_limits(requested, default, expected):
    assert checkin_interval(requested, default) == expected


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (5, "5 seconds"),
        (45, "45 seconds"),
        (60, "1 minute"),
        (61, "1 minute 1 second"),
        (90, "1 minute 30 seconds"),
        (600, "10 minutes"),
    ],
)
def test_describe_seconds(seconds, words):
    assert describe_seconds(seconds) == words


def test_page_renders_with_the_default_interval(agent_client):
    response = agent_client.get("/tools/hold")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert interval_of(page) == 45
    assert "every 45 seconds" in page
    assert "set by the page address" not in page


def test_page_is_a_script_card_without_javascript(agent_client):
    page = agent_client.get("/tools/hold").get_data(as_text=True)
    # The words for asking, checking back and returning are in the HTML itself.
    assert "Is it all right if I put you" in page
    assert "Are you happy to hold a little longer" in page
    assert "Thank you for holding" in page
    assert "The timer needs JavaScript" in page
    assert re.search(r'<section class="hold-timer"[^>]*\bhidden\b', page)  # JS reveals it
    assert "js/hold.js" in page and "<script>" not in page and "style=" not in page


def test_page_links_to_the_article_and_crisis_protocol(agent_client):
    page = agent_client.get("/tools/hold").get_data(as_text=True)
    assert 'href="/articles/hold-etiquette"' in page
    assert "Never put a caller in crisis on hold" in page
    assert 'href="/crisis/"' in page


def test_page_shows_keyboard_shortcuts(agent_client):
    page = agent_client.get("/tools/hold").get_data(as_text=True)
    for key in ("S", "C", "N"):
        assert f'aria-keyshortcuts="{key}"' in page
        assert f"<kbd>{key}</kbd>" in page
    assert 'aria-live="assertive"' in page


@pytest.mark.parametrize(("query", "expected"), [("2", 5), ("30", 30), ("9000", 600), ("x", 45)])
def test_interval_override_is_clamped(agent_client, query, expected):
    page = agent_client.get(f"/tools/hold?interval={query}").get_data(as_text=True)
    assert interval_of(page) == expected
    assert ("set by the page address" in page) is (expected != 45)


def test_interval_comes_from_the_setting(tmp_path):
    from tests.conftest import build_app, login

    app = build_app(tmp_path, KB_HOLD_CHECKIN_SECONDS=60)
    with app.app_context():
        from kb.auth.services import seed_demo_accounts
        from kb.extensions import db

        seed_demo_accounts()
        db.session.commit()
    client = app.test_client()
    login(client, "agent")
    page = client.get("/tools/hold").get_data(as_text=True)
    assert interval_of(page) == 60 and "every 1 minute" in page
    assert 'data-callbar-interval="60"' in page  # the header bar uses the setting too
    assert interval_of(client.get("/tools/hold?interval=10").get_data(as_text=True)) == 10
    from kb.extensions import db

    with app.app_context():
        db.engine.dispose()


def test_hold_script_link_appears_once_the_script_exists(client, agent_client):
    from tests.conftest import login

    # No scripts imported into this app yet: no link to a page that would 404.
    login(client, "agent")
    assert "/scripts/hold/" not in client.get("/tools/hold").get_data(as_text=True)
    # The shipped content includes the hold script.
    assert 'href="/scripts/hold/"' in agent_client.get("/tools/hold").get_data(as_text=True)


def test_page_needs_sign_in(shipped_app):
    response = shipped_app.test_client().get("/tools/hold")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_signed_in_page_carries_the_call_bar_hidden_until_a_call(agent_client):
    page = agent_client.get("/articles/hold-etiquette").get_data(as_text=True)
    # The bar is drawn by callbar.js; without JavaScript it stays hidden.
    assert re.search(r'<section class="callbar__panel"[^>]*\bhidden\b', page)
    assert 'data-callbar-interval="45"' in page  # a hold started here uses the setting
    # The same words as the hold page, for the check-in prompt and the thank-you.
    assert "Are you happy to hold a little longer" in page
    assert "I appreciate your patience" in page
    assert "js/callbar.js" in page


def test_signed_out_pages_have_no_call_bar(shipped_app):
    page = shipped_app.test_client().get("/login").get_data(as_text=True)
    assert "data-callbar" not in page
