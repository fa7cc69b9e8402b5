"""Markdown rendering and sanitising (no app needed)."""

from __future__ import annotations

import pytest

from kb.content.render import html_to_text, markdown_to_text, render_markdown


def test_article_features_render():
    text = """
## Steps

!!! warning "Do not put the caller on hold"
    Stay on the line.

| Priority | Time |
| --- | --- |
| Emergency | 2 hours |

Emergency
: A danger to life or property.

```
fenced code
```
"""
    out = render_markdown(text)
    assert '<h2 id="steps">Steps</h2>' in out.html
    assert '<div class="admonition warning">' in out.html
    assert "Do not put the caller on hold" in out.html
    assert "<table>" in out.html and "<td>2 hours</td>" in out.html
    assert "<dt>Emergency</dt>" in out.html
    assert "<pre><code>fenced code" in out.html
    assert out.toc[0]["id"] == "steps"


def test_links_between_articles_by_slug():
    html = render_markdown("See [repair priorities](repair-priorities#emergency).").html
    assert 'href="/articles/repair-priorities#emergency"' in html
    # Ordinary links are left alone.
    html = render_markdown("[gov](https://www.gov.uk/) [top](#steps)").html
    assert 'href="https://www.gov.uk/"' in html and 'href="#steps"' in html


@pytest.mark.parametrize(
    "hostile, forbidden",
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="JaVaScRiPt:alert(1)">x</a>', "javascript:"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<div onclick="steal()">x</div>', "onclick"),
        ('<style>body{display:none}</style>', "<style"),
        ('<object data="x.swf"></object>', "<object"),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', "data:"),
        ('<svg onload="alert(1)"></svg>', "onload"),
    ],
)
def test_hostile_html_never_reaches_the_page(hostile, forbidden):
    html = render_markdown(f"Before\n\n{hostile}\n\nAfter").html
    assert forbidden not in html.lower()
    assert "After" in html


def test_plain_text_for_the_index():
    text = markdown_to_text("# Title\n\nCall **999** now.\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "Call 999 now." in text
    assert "<" not in text
    assert html_to_text("<p>a &amp; b</p>") == "a & b"
