"""Markdown to safe HTML, and HTML to plain text for the search index."""

from __future__ import annotations

import html as htmllib
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
# Classes our own Markdown extensions write, on the elements they write them on:
# admonitions (``!!! warning``) and fenced code. Any other class is dropped, so article
# HTML cannot dress itself up as the app's own alerts, buttons or crisis banner.
ADMONITION_TYPES = {"note", "tip", "warning", "danger", "caution", "important", "hint",
                    "attention", "error"}
_CODE_CLASS = re.compile(r"^language-[\w+#.-]{1,40}$")
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Ids on the article page itself; a heading with the same words gets "-section" added,
# so the contents links and the page's own landmarks never collide.
RESERVED_IDS = {"main", "header-q", "toc-heading", "quick-answer-heading", "q", "q-hint",
                "category", "search-results", "search-status"}
# Browsers ignore tabs and newlines in URLs and read "\" as "/", so "/\host", "\\host"
# and "/<tab>/host" are all protocol-relative links to another site.
_PROTOCOL_RELATIVE = re.compile(r"^[/\\]{2}")
_URL_IGNORED = re.compile(r"[\x00-\x20]")


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
    toc = _plain_names(getattr(md, "toc_tokens", []))
    return Rendered(html=sanitise(raw, heading_ids=_ids(toc)), toc=toc)


def _plain_names(tokens: list[dict]) -> list[dict]:
    """TOC entries with plain-text names: Markdown escapes them, and so does the template."""
    return [
        {**token, "name": htmllib.unescape(token.get("name", "")),
         "children": _plain_names(token.get("children", []))}
        for token in tokens
    ]


def _ids(tokens: list[dict]) -> set[str]:
    """Every anchor id in the contents, children included."""
    found: set[str] = set()
    for token in tokens:
        found.add(token["id"])
        found |= _ids(token.get("children", []))
    return found


def sanitise(html: str, heading_ids: set[str] | frozenset[str] = frozenset()) -> str:
    """Strip everything that could run script, load foreign content or pose as the app.

    ``heading_ids`` are the contents anchors the TOC extension gave the headings: the
    only ids kept. Classes are kept only where our extensions put them.
    """

    def keep(tag: str, attribute: str, value: str) -> str | None:
        """The attribute value to keep, or None to drop the attribute."""
        if attribute == "id":
            return value if tag in HEADINGS and value in heading_ids else None
        if attribute == "class":
            return _allowed_class(tag, value)
        if attribute == "href" and _PROTOCOL_RELATIVE.match(_URL_IGNORED.sub("", value)):
            return None
        return value

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=keep,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _allowed_class(tag: str, value: str) -> str | None:
    """The class value if our Markdown extensions write it on this tag, else None."""
    names = value.split()
    if tag == "div" and names[:1] == ["admonition"]:
        # An unknown type ("!!! crisis") keeps the plain admonition look, not its name.
        known = [name for name in names[1:2] if name in ADMONITION_TYPES]
        return " ".join(["admonition", *known])
    if tag == "p" and names == ["admonition-title"]:
        return value
    if tag == "code" and len(names) == 1 and _CODE_CLASS.match(names[0]):
        return value
    return None


def _slugify(value: str, separator: str) -> str:
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    slug = re.sub(r"[\s_-]+", separator, value) or "section"
    return f"{slug}{separator}section" if slug in RESERVED_IDS else slug


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
