"""Importing a folder of versioned documents (articles or call scripts) into the database.

The shape is the same for both kinds: parse every file, refuse duplicate slugs, save a
new version only where the text changed. Like every service it only flushes: the CLI
command commits, then brings the search index in step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import joinedload

from kb.content.loader import ContentError, article_files
from kb.extensions import db


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ContentErrors(Exception):
    """Several problems found in one file (each a ContentError)."""

    def __init__(self, errors: Iterable[ContentError]):
        self.errors = list(errors)
        super().__init__("; ".join(map(str, self.errors)))


def import_folder(
    directory: Path,
    *,
    model: type,
    parse: Callable[[Path], Any],
    save: Callable[[Any, Any], tuple[Any, bool]],
    noun: str,
) -> ImportReport:
    """Import every file under ``directory``; bad files are reported and skipped.

    ``parse(path)`` returns an item with ``slug`` and ``path`` or raises ContentError or
    ContentErrors; ``save(existing_or_None, item)`` returns (row, new_version_made).
    The caller commits.
    """

    report = ImportReport()
    by_slug: dict[str, list[Any]] = {}
    for path in article_files(directory):
        try:
            item = parse(path)
        except ContentErrors as problem:
            report.errors.extend(problem.errors)
            continue
        except ContentError as error:
            report.errors.append(error)
            continue
        by_slug.setdefault(item.slug, []).append(item)
        report.warnings.extend(f"{item.path}: {w}" for w in getattr(item, "warnings", ()))

    parsed = {}
    for slug, items in by_slug.items():
        if len(items) == 1:
            parsed[slug] = items[0]
            continue
        # Which file should win is a person's decision: import neither.
        paths = [item.path for item in items]
        for path in paths:
            others = ", ".join(p for p in paths if p != path)
            report.errors.append(ContentError(
                path, f"duplicate {noun} slug {slug!r}, also used by {others}; "
                "neither file was imported"))

    existing = {
        row.slug: row
        for row in db.session.scalars(
            db.select(model).options(joinedload(model.current_version))
        )
    }
    for slug, item in parsed.items():
        row = existing.get(slug)
        row, new_version = save(row, item)
        if new_version:
            (report.created if slug not in existing else report.updated).append(slug)
        else:
            report.unchanged.append(slug)
    db.session.flush()
    return report
