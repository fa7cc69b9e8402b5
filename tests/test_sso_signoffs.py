"""Signing and countersigning as a single sign-on user: the signer signs in again at the
provider (prompt=login, max_age=0) and the signature is recorded, through the hash chain,
only when the ID token that comes back is theirs and fresh."""

from __future__ import annotations

import re
import time

import pytest

from kb.extensions import db
from kb.signoffs import chain
from kb.signoffs.models import Countersignature, SignOff
from tests.conftest import build_app, csrf_token, login
from tests.signoff_helpers import new_version, standard
from tests.sso_helpers import (
    QUIET,
    at_provider,
    query_of,
    running_provider,
    set_person,
    sign_in,
    sso_settings,
    to_provider,
)

pytestmark = QUIET
SLUG = "greeting"


@pytest.fixture(scope="module")
def issuer():
    with running_provider() as url:
        yield url


@pytest.fixture
def sso_app(tmp_path, issuer):
    app = build_app(tmp_path, seeded=True, **sso_settings(issuer))
    with app.app_context():
        standard(SLUG, "Greet every caller by name.")
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def _person(issuer, sub="sub-sam", **claims):
    claims = {"preferred_username": "sam", "name": "Sam Signer",
              "groups": ["team-repairs"], **claims}
    set_person(issuer, sub, **claims)


def _signed_in_as_sam(app, issuer):
    _person(issuer)
    client = app.test_client()
    sign_in(client, issuer, "sub-sam")
    return client


def _post_sign(client, **changes):
    page = client.get(f"/signoffs/articles/{SLUG}/sign")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    hidden = dict(re.findall(r'name="(user_id|version_number|content_sha256)"'
                             r' type="hidden" value="([^"]*)"', html))
    data = {"csrf_token": csrf_token(page), **hidden, "understood": "y",
            "typed_name": "Sam Signer", **changes}
    return client.post(f"/signoffs/articles/{SLUG}/sign", data=data)


def _signoffs(app) -> list[SignOff]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(SignOff).order_by(SignOff.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_the_sign_page_asks_an_sso_user_to_sign_in_again_not_for_a_password(sso_app,
                                                                           issuer):
    client = _signed_in_as_sam(sso_app, issuer)
    html = client.get(f"/signoffs/articles/{SLUG}/sign").get_data(as_text=True)
    assert "Housing Group ID asks you to sign in again" in html
    assert 'name="password"' not in html
    # A local user keeps the password step.
    local = sso_app.test_client()
    login(local, "agent", "demo")
    assert 'name="password"' in local.get(f"/signoffs/articles/{SLUG}/sign").get_data(
        as_text=True)


def test_a_signature_is_recorded_only_after_a_fresh_sign_in_at_the_provider(sso_app,
                                                                           issuer):
    client = _signed_in_as_sam(sso_app, issuer)
    sent = _post_sign(client)
    location = to_provider(sent, issuer)
    asked = query_of(location)
    assert (asked["prompt"], asked["max_age"]) == ("login", "0")
    assert _signoffs(sso_app) == []  # nothing yet: the provider has not answered
    back = client.get(at_provider(location, "sub-sam"))
    assert back.status_code == 302 and back.headers["Location"].startswith(
        "/signoffs/confirm?key=")
    assert _signoffs(sso_app) == []  # recorded on arrival at the confirm page
    done = client.get(back.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"] == "/signoffs/"
    assert "Signed: version 1" in client.get("/signoffs/").get_data(as_text=True)
    [record] = _signoffs(sso_app)
    assert record.typed_name == "Sam Signer" and record.version_number == 1
    assert re.fullmatch(rf"sso {re.escape(issuer)} auth_time "
                        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record.reauth)
    with sso_app.app_context():
        count, breaks = chain.verify()
        assert (count, breaks) == (1, [])
    # The confirm link is used up: opening it again records nothing more.
    again = client.get(back.headers["Location"])
    assert again.status_code == 302 and len(_signoffs(sso_app)) == 1


def test_a_stale_sign_in_at_the_provider_is_refused_and_the_form_is_kept(sso_app, issuer):
    client = _signed_in_as_sam(sso_app, issuer)
    location = to_provider(_post_sign(client), issuer)
    # The provider did not make them sign in again: its last sign-in was an hour ago.
    _person(issuer, auth_time=int(time.time()) - 3600)
    refused = client.get(at_provider(location, "sub-sam"))
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "did not ask for your password again" in page
    assert "was 60 minutes ago" in page
    assert "nothing was recorded" in page
    assert f'href="/signoffs/articles/{SLUG}/sign"' in page
    assert _signoffs(sso_app) == []
    # What they typed and ticked is still there when they go back.
    html = client.get(f"/signoffs/articles/{SLUG}/sign").get_data(as_text=True)
    assert 'value="Sam Signer"' in html
    assert re.search(r'name="understood"[^>]*checked|checked[^>]*name="understood"', html)


def test_signing_in_again_as_someone_else_is_refused(sso_app, issuer):
    client = _signed_in_as_sam(sso_app, issuer)
    location = to_provider(_post_sign(client), issuer)
    set_person(issuer, "sub-other", preferred_username="other", name="Olly Other")
    refused = client.get(at_provider(location, "sub-other"))
    assert refused.status_code == 403
    assert "as someone else" in refused.get_data(as_text=True)
    assert _signoffs(sso_app) == []


def test_a_version_published_during_the_round_trip_is_not_signed(sso_app, issuer):
    client = _signed_in_as_sam(sso_app, issuer)
    location = to_provider(_post_sign(client), issuer)
    with sso_app.app_context():
        from kb.models import Article

        new_version(db.session.scalar(db.select(Article).filter_by(slug=SLUG)),
                    "Greet every caller by name and give yours.", material=True)
        db.session.commit()
    confirm = client.get(at_provider(location, "sub-sam")).headers["Location"]
    refused = client.get(confirm)
    assert refused.status_code == 302 and refused.headers["Location"].endswith(
        f"/signoffs/articles/{SLUG}/sign")
    assert "version 2 is current now" in client.get(refused.headers["Location"]).get_data(
        as_text=True)
    assert _signoffs(sso_app) == []


def test_rules_are_checked_before_the_round_trip(sso_app, issuer):
    client = _signed_in_as_sam(sso_app, issuer)
    wrong = _post_sign(client, typed_name="Someone Else")
    assert wrong.status_code == 400  # no trip to the provider for a form that would fail
    assert "Type your full name" in wrong.get_data(as_text=True)


def test_an_sso_manager_countersigns_after_signing_in_again(sso_app, issuer):
    with sso_app.app_context():
        from kb.auth.services import create_user
        from kb.signoffs import services

        worker = create_user("worker", "pw-worker", display_name="Wes Worker",
                             team="Repairs")
        version = services.signable(SLUG)[0].current_version
        services.sign(SLUG, worker, services.Submission(
            str(worker.id), str(version.number), version.sha256, "Wes Worker",
            "pw-worker", True), address="192.0.2.1", user_agent="pytest")
        db.session.commit()
        signoff_id = db.session.scalar(db.select(SignOff.id))
        assert db.session.scalar(db.select(SignOff.reauth)) == "password"
    _person(issuer, "sub-mo", preferred_username="mo", name="Mo Manager",
            groups=["kb-managers", "team-repairs"])
    client = sso_app.test_client()
    sign_in(client, issuer, "sub-mo")
    page = client.get("/signoffs/countersign")
    assert "Housing Group ID asks you to sign in again" in page.get_data(as_text=True)
    sent = client.post("/signoffs/countersign", data={
        "csrf_token": csrf_token(page), "ids": str(signoff_id), "typed_name": "Mo Manager",
        "submit": "Countersign selected"})
    confirm = client.get(at_provider(to_provider(sent, issuer), "sub-mo"))
    done = client.get(confirm.headers["Location"])
    assert done.status_code == 302
    with sso_app.app_context():
        record = db.session.scalar(db.select(Countersignature))
        assert record.signoff_id == signoff_id
        assert record.reauth.startswith(f"sso {issuer} auth_time ")
        assert chain.verify(which=chain.COUNTERSIGNATURES)[1] == []
