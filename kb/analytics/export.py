"""CSV of each report, safe to open in a spreadsheet."""

from __future__ import annotations

from kb.analytics.services import Row
from kb.core.spreadsheet import csv_line

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
    "gaps": (("query", "people", "reports", "first_reported_utc", "last_reported_utc",
              "notes"),
             lambda r: (r.label, r.value, r.extra["reports"],
                        r.extra["first"].isoformat(" ", "seconds"),
                        r.extra["last"].isoformat(" ", "seconds"),
                        " | ".join(" ".join(n.split()) for n in r.extra["notes"]))),
}


def to_csv(report: str, rows: list[Row]) -> str:
    """The rows of ``report`` as CSV text, with a header line."""
    header, cells = COLUMNS[report]
    return csv_line(header) + "".join(csv_line(cells(row)) for row in rows)
