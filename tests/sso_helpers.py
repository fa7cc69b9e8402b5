"""A real OpenID provider for the single sign-on tests (oidc-provider-mock, on loopback in
a thread), and the browser's half of the round trip: the Flask test client for our pages,
real HTTP (requests) for the provider's."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import oidc_provider_mock
import pytest
import requests
import werkzeug.serving

# The provider is built on an older use of Authlib's server API, which warns.
QUIET = [pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*"),
         pytest.mark.filterwarnings("ignore::DeprecationWarning:oidc_provider_mock.*")]
CLIENT_ID = "frontline-kb"
CLIENT_SECRET = "test-client-secret"
TIMEOUT = 10  # seconds for any one call to the provider


@contextmanager
def running_provider():
    """An OpenID provider on 127.0.0.1 and a free port; yields its issuer URL."""
    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(
        require_nonce=True), threaded=True)
    # Closing must not wait for a browser's idle keep-alive connections to time out.
    server.daemon_threads, server.block_on_close = True, False
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def sso_settings(issuer: str, **more) -> dict:
    """App settings that sign in at ``issuer``."""
    settings = {
        "KB_OIDC_ISSUER": issuer,
        "KB_OIDC_CLIENT_ID": CLIENT_ID,
        "KB_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "KB_OIDC_PROVIDER_NAME": "Housing Group ID",
        "KB_OIDC_ROLE_GROUPS": "manager=kb-managers,admin=kb-admins",
        "KB_OIDC_TEAM_GROUPS": "Repairs=team-repairs,Lettings=team-lettings",
        "KB_OIDC_TIMEOUT": 5,
    }
    settings.update(more)
    return settings


def set_person(issuer: str, sub: str, **claims) -> None:
    """What the provider will say about ``sub`` at their next sign-in."""
    response = requests.put(f"{issuer}/users/{sub}", json=claims, timeout=TIMEOUT)
    assert response.status_code == 204, response.text


def to_provider(response, issuer: str) -> str:
    """The provider URL our page redirected to (checked to be the provider's)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert location.startswith(issuer + "/oauth2/authorize?"), location
    return location


def at_provider(location: str, sub: str | None) -> str:
    """Sign in at the provider as ``sub`` (None: press Deny); returns the path and query
    it sends the browser back to on our site."""
    data = {"sub": sub} if sub is not None else {"action": "deny"}
    answer = requests.post(location, data=data, allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 302, answer.text[:500]
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/login/sso/callback", back
    return f"{back.path}?{back.query}"


def query_of(url: str) -> dict[str, str]:
    """A URL's query string as single values."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def sign_in(client, issuer: str, sub: str, next_url: str | None = None):
    """The whole sign-in round trip; returns our callback's response."""
    start = client.get("/login/sso" + (f"?next={next_url}" if next_url else ""))
    return client.get(at_provider(to_provider(start, issuer), sub))


def wait_closed(port: int, seconds: float = 5.0) -> None:
    """Wait (bounded) until nothing answers on ``port``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=0.5)
        except requests.ConnectionError:
            return
        time.sleep(0.05)
    raise AssertionError(f"port {port} still answers")
