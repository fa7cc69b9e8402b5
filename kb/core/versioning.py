"""Versioned documents (articles, call scripts): one way to publish a new version.

The version tables share their columns through ``kb.models.VersionColumns``.
"""

from __future__ import annotations

from collections.abc import Iterable

from kb.core import audit
from kb.core.signals import version_published
from kb.extensions import db
from kb.models import sha256_text, utcnow


def publish(
    document,
    text: str,
    author=None,
    summary: str = "",
    material: bool = True,
    *,
    version_class: type,
    action: str,
    fields: dict | None = None,
    compare: Iterable[str] = (),
    source: str | None = None,
):
    """Publish ``text`` as the document's next version; returns (version, created).

    Unchanged text (and unchanged ``compare`` fields) makes no version: the current one is
    returned. Otherwise the version is numbered, hashed (sha256), given a change summary,
    the document's ``updated_at`` is set, an audit row is added and ``version_published``
    is sent. The caller commits.
    """
    fields = dict(fields or {})
    current = document.current_version
    sha = sha256_text(text)
    if current is not None and current.sha256 == sha and all(
        getattr(current, name) == fields.get(name) for name in compare
    ):
        return current, False
    number = (current.number if current else 0) + 1
    version = version_class(
        number=number,
        markdown=text,
        sha256=sha,
        author_id=author.id if author is not None else None,
        change_summary=summary or ("First version" if number == 1 else "Updated"),
        created_at=utcnow(),
        **fields,
    )
    document.versions.append(version)
    db.session.add(version)
    db.session.flush()
    document.current_version = version
    document.updated_at = version.created_at
    audit.record(author, action, document, {"version": number, "sha256": sha, "source": source})
    version_published.send(document, version=version, material=material)
    return version, True
