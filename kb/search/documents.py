"""What the index holds: the Document features hand in, the Hit and Results it gives back,
and the Whoosh schema with the fields each document becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from whoosh.fields import DATETIME, ID, TEXT, Schema

from kb.search.synonyms import pair_analyzer, text_analyzer, word_analyzer


@dataclass(frozen=True)
class Document:
    """One article or call script as the index sees it."""

    slug: str
    kind: str
    title: str
    summary: str
    tags: list[str]
    category: str
    body: str
    sha256: str
    updated_at: datetime


@dataclass
class Hit:
    """One search result; ``snippet`` is HTML with only <mark> tags unescaped."""

    slug: str
    kind: str
    title: str
    summary: str
    category: str
    snippet: str
    score: float


@dataclass
class Results:
    """The answer to one search."""

    query: str
    total: int
    hits: list[Hit]
    suggestion: str | None
    took_ms: float
    crisis: bool = False  # a caller at risk: the crisis protocol is hits[0]
    emergency: bool = False  # a hazard in the home: the emergency guidance is hits[0]
    # The SearchLog row of this search (None when not logged): result links carry it, so
    # the opening of a result can be tied to the search it came from.
    log_id: int | None = None


def build_schema() -> Schema:
    """The index schema; text fields are stemmed, ``words`` keeps the typed forms."""
    # No positions anywhere: phrases use the shingle fields, which keeps posting
    # blocks small and every lookup a plain term read.
    text, pairs = text_analyzer(), pair_analyzer()
    return Schema(
        slug=ID(stored=True, unique=True, sortable=True),
        kind=ID(stored=True),
        category=ID(stored=True),
        title=TEXT(analyzer=text, phrase=False, stored=True),
        summary=TEXT(analyzer=text, phrase=False, stored=True),
        tags=TEXT(analyzer=text, phrase=False),  # tags plus the category name
        body=TEXT(analyzer=text, phrase=False, stored=True),
        head_pairs=TEXT(analyzer=pairs, phrase=False),  # title, tags and summary
        body_pairs=TEXT(analyzer=pairs, phrase=False),
        words=TEXT(analyzer=word_analyzer(), phrase=False),  # vocabulary for typos/prefixes
        sha256=ID(stored=True, sortable=True),
        updated_at=DATETIME(stored=True),
    )


def index_fields(doc: Document) -> dict[str, Any]:
    """The stored and indexed fields of a document, as the schema names them."""
    tags = ", ".join([*doc.tags, doc.category])
    fields: dict[str, Any] = {
        "slug": doc.slug,
        "kind": doc.kind,
        "category": doc.category,
        "title": doc.title,
        "summary": doc.summary,
        "tags": tags,
        "body": doc.body,
        "head_pairs": "\n".join([doc.title, tags, doc.summary]),
        "body_pairs": doc.body,
        "words": "\n".join([doc.title, doc.summary, tags, doc.body]),
        "sha256": doc.sha256,
    }
    if doc.updated_at is not None:
        stamp = doc.updated_at
        if stamp.tzinfo is not None:  # whoosh stores naive datetimes; keep them UTC
            stamp = stamp.astimezone(UTC).replace(tzinfo=None)
        fields["updated_at"] = stamp
    return fields


def same_schema(a: Schema, b: Schema) -> bool:
    """True when an index on disk was built with the schema this code writes."""
    if set(a.names()) != set(b.names()):
        return False
    return all(
        type(a[n]) is type(b[n])
        and type(a[n].format) is type(b[n].format)
        and getattr(a[n], "analyzer", None) == getattr(b[n], "analyzer", None)
        for n in b.names()
    )
