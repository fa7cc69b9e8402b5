"""The managers' page. (Search vocabularies: tests/test_vocabularies.py.)"""

from __future__ import annotations

from tests.conftest import login


def test_manage_page_counts_what_needs_attention(client):
    login(client, "manager")
    page = client.get("/admin/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    # Shipped helplines start unverified, so every active one is due.
    assert "to verify" in text and "Response standards" in text
    assert 'href="/admin/"' in text  # the header shows managers the link


def test_agents_do_not_see_or_reach_manage(client):
    login(client, "agent")
    assert client.get("/admin/").status_code == 403
    assert 'href="/admin/"' not in client.get("/").get_data(as_text=True)
