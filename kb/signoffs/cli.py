"""``flask --app kb verify-signoffs``: is the sign-off hash chain whole?"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


@click.command("verify-signoffs")
@with_appcontext
def verify_signoffs() -> None:
    """Recompute the sign-off hash chain; report each break and exit 1 if there is any."""
    from kb.signoffs.chain import verify

    count, breaks = verify()
    if not breaks:
        click.echo(f"Sign-off chain intact: {count} record{'' if count == 1 else 's'} checked.")
        return
    for problem in breaks:
        click.echo(f"BREAK {problem}", err=True)
    click.echo(f"Sign-off chain broken: {len(breaks)} problem{'' if len(breaks) == 1 else 's'} "
               f"in {count} records.", err=True)
    sys.exit(1)
