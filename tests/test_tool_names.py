"""Each mid-call tool goes by one name: its tab title, its heading and every link to it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login

NAMES = {
    "/tools/due-date": "Due date calculator",
    "/tools/phonetic": "Phonetic speller",
    "/tools/hold": "Hold timer",
}
LINK = re.compile(r'<a href="(/tools/[a-z-]+)"[^>]*>(.*?)</a>', re.S)


def _ours(url: str, page: str) -> str:
    """The part of the page the tools' templates write: the main content (the header is
    base.html's), and on an article only the due dates box and the standards note (its
    body is the article's own words)."""
    if url.startswith("/articles/"):
        parts = re.findall(r'<section class="due-now".*?</section>|<aside class="standards-note"'
                           r'.*?</aside>', page, re.S)
        assert parts
        return "".join(parts)
    return page[page.index("<main"):page.index("</main>")]


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize("url", list(NAMES))
def test_a_tool_page_is_titled_and_headed_by_its_name(agent_client, url):
    page = agent_client.get(url).get_data(as_text=True)
    name = NAMES[url]
    assert f"<title>{name} · " in page
    assert re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S).group(1).strip() == name


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("agent", "/articles/response-times"),  # the due dates box and the standards note
        ("agent", "/tools/phonetic/card"),
        ("manager", "/tools/due-date/standards"),
    ],
)
def test_links_to_a_tool_call_it_by_its_name(shipped_app, who, url):
    client = shipped_app.test_client()
    login(client, who)
    page = client.get(url)
    assert page.status_code == 200
    links = [(href, _text(text)) for href, text in LINK.findall(_ours(url, page.get_data(True)))]
    named = [(href, text) for href, text in links if href in NAMES]
    assert named  # the page does link to a tool
    for href, text in named:
        assert NAMES[href].lower() in text.lower(), (href, text)


def test_the_admin_page_names_the_calculator_the_same_way(shipped_app):
    client = shipped_app.test_client()
    login(client, "admin")
    text = _text(client.get("/admin/").get_data(as_text=True))
    assert "behind the due date calculator" in text


@pytest.mark.parametrize("who", ["agent", "manager"])
def test_the_header_calls_each_tool_and_the_crisis_protocol_by_its_name(shipped_app, who):
    client = shipped_app.test_client()
    login(client, who)
    page = client.get("/articles/").get_data(as_text=True)
    header = page[page.index("<header"):page.index("</header>")]
    links = {href: _text(text) for href, text in LINK.findall(header)}
    for href, name in NAMES.items():
        assert links[href] == name, (href, links[href])
    crisis = re.search(r'<a class="crisis-link" href="/crisis/"[^>]*>(.*?)</a>', header, re.S)
    assert _text(crisis.group(1)).startswith("Crisis protocol")


def test_the_crisis_protocol_goes_by_its_name_signed_out_too(shipped_app):
    client = shipped_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    link = re.search(r'<a class="crisis-link" href="/crisis/"[^>]*>(.*?)</a>', login_page, re.S)
    assert _text(link.group(1)).startswith("Crisis protocol")
    protocol = client.get("/crisis/").get_data(as_text=True)
    assert "<title>Crisis protocol: suicide or self-harm · " in protocol


@pytest.mark.parametrize(("who", "url", "trail"), [
    ("manager", "/tools/due-date/standards", ["Due date calculator", "Response standards"]),
    ("manager", "/tools/due-date/standards/new",
     ["Due date calculator", "Response standards", "New"]),
    ("manager", "/tools/due-date/sets/1",
     ["Due date calculator", "Response standards", "Our policy"]),
    ("agent", "/tools/phonetic/card", ["Phonetic speller", "Reference card"]),
])
def test_breadcrumbs_start_where_the_page_lives(shipped_app, who, url, trail):
    client = shipped_app.test_client()
    login(client, who)
    page = client.get(url).get_data(as_text=True)
    crumbs = re.search(r'<nav class="breadcrumb" aria-label="Breadcrumb">(.*?)</nav>', page, re.S)
    assert [part.strip() for part in _text(crumbs.group(1)).split("›")][:len(trail)] == trail
