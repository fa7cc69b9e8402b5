"""Markdown to safe HTML, and HTML to plain text for the search index."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

# A bare slug link such as [repair priorities](repair-priorities) points at an article.
SLUG_LINK = re.compile(r"^(?P<slug>[a-z0-9][a-z0-9-]*)(?P<fragment>#[\w-]*)?$")

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "kbd", "li", "mark", "ol",
    "p", "pre", "s", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class", "title"},
    "a": {"href"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)  # [{"id", "name", "level", "children"}]


class _ArticleLinks(Treeprocessor):
    """Turn bare slug links into links to the article page."""

    def __init__(self, md: markdown.Markdown, base: str):
        super().__init__(md)
        self.base = base

    def run(self, root: ET.Element) -> None:
        for link in root.iter("a"):
            match = SLUG_LINK.match(link.get("href", ""))
            if match:
                link.set("href", f"{self.base}{match['slug']}{match['fragment'] or ''}")


class _ArticleLinkExtension(Extension):
    def __init__(self, base: str):
        super().__init__()
        self.base = base

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown API)
        md.treeprocessors.register(_ArticleLinks(md, self.base), "kb_article_links", 5)


def render_markdown(text: str, *, link_base: str = "/articles/") -> Rendered:
    """Render article Markdown to sanitised HTML with a table of contents."""
    md = markdown.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            "def_list",
            "admonition",
            "sane_lists",
            "abbr",
            "toc",
            _ArticleLinkExtension(link_base),
        ],
        extension_configs={
            "toc": {"permalink": False, "toc_depth": "2-3", "slugify": _slugify},
        },
        output_format="html",
    )
    raw = md.convert(text)
    return Rendered(html=sanitise(raw), toc=getattr(md, "toc_tokens", []))


def sanitise(html: str) -> str:
    """Strip everything that could run script or load foreign content."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _slugify(value: str, separator: str) -> str:
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[\s_-]+", separator, value) or "section"


class _TextExtractor(HTMLParser):
    BLOCK = {"p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "div"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCK:
            self.parts.append("\n")
        elif tag in {"td", "th"}:
            self.parts.append(" ")


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment, one line per block."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n", text)).strip()


def markdown_to_text(text: str) -> str:
    """Plain text of article Markdown, for indexing."""
    return html_to_text(render_markdown(text).html)
