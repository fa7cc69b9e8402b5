"""The registry through which features give search their documents (search imports no feature).

A feature registers one provider per kind of document at app creation
(``register("article", ArticleProvider())``). Search then lists, loads, links and orders
documents only through these providers, so a new kind of document needs no change here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from kb.models import sha256_text
from kb.search.documents import Document

_providers: dict[str, Provider] = {}


@runtime_checkable
class Provider(Protocol):
    """What a feature tells search about one kind of document.

    Slugs here are the feature's own; search adds ``key_prefix`` to make the index key
    (two kinds may share a slug: the crisis protocol is an article and a script).
    Optional extras: ``brief(slug)`` (title, summary, category of a current document, so
    search can pin it first), ``follows(slugs)`` (for each slug, the (kind, slug) pairs it
    should be listed just below when both match) and ``categories()`` (name, count).
    """

    key_prefix: str
    label: str  # plural, for the search page's filter ("Call scripts")

    def fingerprints(self) -> dict[str, str]:
        """slug -> fingerprint for every current document (what the index must match)."""

    def watermark(self) -> tuple:
        """A cheap summary that changes whenever any fingerprint may have changed."""

    def document(self, slug: str) -> Document | None:
        """The search document for one slug's current version, or None if it has none."""

    def documents(self) -> Iterable[Document]:
        """Every current document, in a stable order (for a full rebuild)."""

    def count(self) -> int:
        """How many current documents there are."""

    def url(self, slug: str) -> str:
        """Where a search result for this slug links to."""


def register(kind: str, provider: Provider) -> None:
    """Make ``kind`` searchable through ``provider`` (registering again replaces it)."""
    if not isinstance(provider, Provider):
        raise TypeError(f"{type(provider).__name__} is not a search provider")
    _providers[kind] = provider


def registered() -> dict[str, Provider]:
    """kind -> provider, in registration order."""
    return dict(_providers)


def get(kind: str) -> Provider:
    """The provider of one kind; KeyError if nobody registered it."""
    return _providers[kind]


def kinds() -> tuple[str, ...]:
    """The kinds of document search knows, in registration order."""
    return tuple(_providers)


def fingerprint(version_sha: str, title: str, summary: str, category: str,
                tags: Iterable[str]) -> str:
    """What the index must match for a document: its text and its indexed fields."""
    return sha256_text("\x1f".join([version_sha, title, summary, category, *tags]))


def key(kind: str, slug: str) -> str:
    """The index key of a feature's slug."""
    return get(kind).key_prefix + slug


def split_key(index_key: str) -> tuple[str, str]:
    """(kind, slug) for an index key; the longest matching prefix wins."""
    for kind, provider in sorted(_providers.items(), key=lambda kv: -len(kv[1].key_prefix)):
        if index_key.startswith(provider.key_prefix):
            return kind, index_key.removeprefix(provider.key_prefix)
    raise KeyError(index_key)


def public_slug(kind: str, index_key: str) -> str:
    """A hit's own slug, without the prefix its kind's index key carries."""
    provider = _providers.get(kind)
    return index_key.removeprefix(provider.key_prefix) if provider else index_key


def keyed(kind: str, doc: Document) -> Document:
    """The provider's document with its slug turned into the index key."""
    return dataclasses.replace(doc, slug=key(kind, doc.slug), kind=kind)
