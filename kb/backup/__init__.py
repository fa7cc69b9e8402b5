"""Backups and restore: ``flask --app kb backup DIR`` and ``flask --app kb restore DIR``.

A backup is a folder: a consistent copy of the database (SQLite's online backup API, or
``pg_dump`` in its custom format), the content export of that same moment (articles/,
scripts/, vocabularies/ under content/), and ``manifest.json`` (versions, row counts, the
heads of the sign-off hash chains, the sha256 of every file). ``commands`` holds the two
commands; ``manifest`` the app-free checks; ``sqlite`` and ``postgresql`` what differs
between the databases; ``tables`` the questions asked of either.
"""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore refused or failed; the message is one line for the operator."""
