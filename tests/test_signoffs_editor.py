"""Who signs and the days they have, set from the publishing editor."""

from __future__ import annotations

import re

from kb.extensions import db
from kb.models import Article
from kb.publishing import validation
from tests.conftest import csrf_token, login

FORM = {"title": "Greeting", "category": "Standards", "tags": "", "summary": "Say hello.",
        "owner": "Contact Centre Manager", "review_cycle_months": "12",
        "requires_signoff": "y"}


def _edit(client, **changes):
    page = client.get("/publishing/articles/greeting/edit")
    assert page.status_code == 200
    base = re.search(r'name="base_version" type="hidden" value="(\d+)"',
                     page.get_data(as_text=True)).group(1)
    data = dict(FORM, slug="greeting", markdown="Answer within 20 seconds.\n",
                base_version=base, csrf_token=csrf_token(page), action="publish",
                change_summary="Who signs")
    data.update(changes)
    return page, client.post("/publishing/articles/greeting/edit", data=data)


def _settings(app) -> tuple:
    """(signoff_role, signoff_window_days, current version number) of the standard."""
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="greeting"))
        return (article.signoff_role, article.signoff_window_days,
                article.current_version.number)


def test_a_manager_sets_who_signs_and_the_days_from_the_editor(app, client, make_article,
                                                                runner):
    make_article("greeting", title="Greeting", body="Answer within 20 seconds.",
                 requires_signoff="true")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    login(client, "manager")
    page, response = _edit(client, signoff_role="all", signoff_window_days="7")
    html = page.get_data(as_text=True)
    assert '<option selected value="agent">Agents</option>' in html
    assert 'name="signoff_window_days" type="text" value="14"' in html
    assert response.status_code == 302
    assert _settings(app) == ("all", 7, 2)
    # Bad input: a clear message, nothing changed.
    _page, response = _edit(client, signoff_window_days="0", markdown="Changed.\n")
    assert response.status_code == 400
    assert "The days to sign must be a whole number from 1 to 365." in response.get_data(
        as_text=True)
    assert _settings(app) == ("all", 7, 2)


def test_a_change_that_does_not_mention_them_keeps_them(app, make_article, runner):
    make_article("greeting", title="Greeting", body="Answer within 20 seconds.",
                 requires_signoff="true")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="greeting"))
        article.signoff_role, article.signoff_window_days = "manager", 30
        db.session.commit()
        fields = validation.clean_article_fields(dict(FORM, slug="greeting"), article)
        assert (fields["signoff_role"], fields["signoff_window_days"]) == ("manager", 30)
        fields = validation.clean_article_fields(dict(FORM, slug="new-one"))
        assert (fields["signoff_role"], fields["signoff_window_days"]) == ("agent", 14)
