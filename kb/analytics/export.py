"""CSV of each report, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io

from kb.analytics.services import Row

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting like a formula gets a ' first."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


COLUMNS = {
    "top": (("query", "searches", "no_results"),
            lambda r: (r.label, r.value, r.extra["no_results"])),
    "no-results": (("query", "searches", "last_searched_utc"),
                   lambda r: (r.label, r.value, r.extra["last_searched"].isoformat(" ",
                                                                                   "seconds"))),
    "never-opened": (("query", "searches_not_opened", "searches_with_results"),
                     lambda r: (r.label, r.value, r.extra["searches"])),
    "most-viewed": (("title", "kind", "slug", "views", "views_from_search"),
                    lambda r: (r.label, r.extra["kind"], r.extra["slug"], r.value,
                               r.extra["from_search"])),
    "crisis": (("day_utc", "crisis_searches"), lambda r: (r.label, r.value)),
}


def to_csv(report: str, rows: list[Row]) -> str:
    """The rows of ``report`` as CSV text, with a header line."""
    header, cells = COLUMNS[report]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in cells(row)])
    return out.getvalue()
