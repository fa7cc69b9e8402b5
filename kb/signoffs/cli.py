"""``flask --app kb verify-signoffs``: are the sign-off and countersignature chains whole?"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext


def _records(count: int) -> str:
    """"1 record", "3 records"."""
    return f"{count} record{'' if count == 1 else 's'}"


@click.command("verify-signoffs")
@with_appcontext
def verify_signoffs() -> None:
    """Recompute the sign-off and countersignature hash chains; report each break and exit
    1 if there is any."""
    from kb.signoffs.chain import verify_all

    broken = False
    for which, count, breaks in verify_all():
        if not breaks:
            click.echo(f"{which.name} chain intact: {_records(count)} checked.")
            continue
        broken = True
        for problem in breaks:
            click.echo(f"BREAK in the {which.name.lower()} chain: {problem}", err=True)
        click.echo(f"{which.name} chain broken: {len(breaks)} "
                   f"problem{'' if len(breaks) == 1 else 's'} in {_records(count)}.", err=True)
    if broken:
        sys.exit(1)
