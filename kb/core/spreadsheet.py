"""CSV for spreadsheets: a cell a spreadsheet program would run as a formula is defused.

Every CSV export (audit log, search analytics, and later sign-off reports) writes through
``csv_line`` or ``safe_cell``, so the rule lives in one place (OWASP's CSV injection
advice: a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return starts a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """The value as a cell: numbers stay numbers, None is empty, and text that starts like
    a formula gets a leading ``'`` so the spreadsheet shows it as text."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(cells: Iterable[object]) -> str:
    """One CSV line (with its line ending) of safe cells."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([safe_cell(cell) for cell in cells])
    return buffer.getvalue()
