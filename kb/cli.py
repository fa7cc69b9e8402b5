"""``flask --app kb ...`` commands."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect

from kb.content.importing import ImportReport
from kb.extensions import db


def register(app: Flask) -> None:
    """Add the project's commands to ``flask``."""
    from kb.backup.commands import backup_command, restore_command
    from kb.signoffs.cli import send_reminders, verify_signoffs

    for command in (
        import_content,
        export_content,
        reindex,
        create_user_command,
        set_password_command,
        deactivate_user_command,
        create_token_command,
        seed_demo,
        verify_signoffs,
        send_reminders,
        load_standards,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)


def _require_schema() -> None:
    if not inspect(db.engine).has_table("articles"):
        raise click.ClickException(
            "The database has no tables yet. Run 'flask --app kb db upgrade' first."
        )


@click.command("import-content")
@with_appcontext
@click.option("--articles", "articles_dir", type=click.Path(path_type=Path), default=None,
              help="Folder of article files (default: the configured articles/ folder).")
@click.option("--scripts", "scripts_dir", type=click.Path(path_type=Path), default=None,
              help="Folder of call script files (default: the configured scripts/ folder).")
@click.option("--vocabularies", "vocabularies_dir", type=click.Path(path_type=Path),
              default=None, help="Folder of exported search vocabularies (crisis.yml, "
              "emergency.yml, synonyms.txt) to load over the stored ones.")
@click.option("--verbose", "-v", is_flag=True,
              help="Also list each document made new or updated, and so indexed.")
def import_content(articles_dir: Path | None, scripts_dir: Path | None,
                   vocabularies_dir: Path | None, verbose: bool) -> None:
    """Load articles/ then scripts/ into the database; unchanged files make no new version."""
    from kb.articles.services import import_articles
    from kb.callscripts.services import import_scripts

    _require_schema()
    directory = articles_dir or Path(current_app.config["KB_ARTICLES_DIR"])
    if not directory.is_dir():
        raise click.ClickException(f"No such folder: {directory}")
    scripts = scripts_dir or Path(current_app.config["KB_SCRIPTS_DIR"])
    if scripts_dir is not None and not scripts.is_dir():
        raise click.ClickException(f"No such folder: {scripts}")
    if vocabularies_dir is not None and not vocabularies_dir.is_dir():
        raise click.ClickException(f"No such folder: {vocabularies_dir}")

    # Each step returns the lines to say once the bar is done (text printed while a bar is
    # drawn would break it up). Articles first: scripts cite them, and a citation must name
    # an article that exists.
    reports: list[tuple[str, ImportReport]] = []
    said: list[str] = []
    outcome: dict[str, object] = {}

    def import_documents() -> None:
        reports.append(("Articles", import_articles(directory)))
        if scripts.is_dir():
            reports.append(("Call scripts", import_scripts(scripts)))
        else:
            said.append(f"Call scripts: no folder at {scripts}, skipped.")
        db.session.commit()

    def index() -> None:
        # After the commit, the whole index is brought in step with the database (even
        # when nothing changed: an earlier failed index write is caught up here).
        outcome["index"] = _sync_index_result()

    def vocabularies() -> None:
        outcome["vocabularies_failed"] = _import_vocabularies(vocabularies_dir, said)

    steps = [
        ("articles and call scripts", import_documents),
        ("search index", index),
        ("reference data", lambda: said.extend(_seed_reference_data())),
        ("induction programme", lambda: said.extend(_seed_induction())),
        ("search vocabularies", vocabularies),
    ]
    with click.progressbar(steps, label="Importing content",
                           item_show_func=lambda step: step[0] if step else None) as bar:
        for _name, step in bar:
            step()

    index_result, index_error = outcome["index"]
    failed = bool(outcome["vocabularies_failed"])
    for label, report in reports:
        click.echo(
            f"{label}: {len(report.created)} new, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.errors)} with errors."
        )
        if verbose and index_error is None:
            for slug in report.created + report.updated:
                click.echo(f"  indexed {slug}")
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        failed = failed or bool(report.errors)
    for line in said:
        click.echo(line, err=line.startswith("error: "))
    if index_error is not None:
        click.echo(f"error: search index not updated: {index_error}.", err=True)
    else:
        click.echo(f"Search index: {index_result['added']} added, {index_result['updated']} "
                   f"updated, {index_result['removed']} removed.")
    if failed or index_error is not None:
        sys.exit(1)


def _sync_index_result() -> tuple[dict | None, str | None]:
    """Bring the search index in step with the committed database: (counts, None), or
    (None, the reason) when it cannot be written."""
    from kb.search.services import IndexUnavailable, sync_index

    try:
        return sync_index(), None
    except IndexUnavailable as error:
        return None, str(error)


def _sync_index() -> str | None:
    """Bring the search index in step with the committed database; the reason if not."""
    from kb.search.services import IndexUnavailable, sync_index

    try:
        sync_index()
    except IndexUnavailable as error:
        return str(error)
    return None


def _import_vocabularies(directory: Path | None, said: list[str]) -> bool:
    """Seed missing vocabularies from the shipped defaults, then load DIRECTORY if given
    (a folder the caller checked); adds what to say to ``said``, returns True when a file
    was refused."""
    from kb.search.vocabularies import import_vocabularies, seed_vocabularies

    seeded = seed_vocabularies()
    db.session.commit()
    if seeded:
        said.append(f"Search vocabularies: {seeded} loaded from the shipped defaults.")
    if directory is None:
        return False
    changed, errors = import_vocabularies(directory)
    db.session.commit()
    said.append(f"Search vocabularies: {len(changed)} updated from {directory}"
                + (f" ({', '.join(changed)})." if changed else "."))
    said.extend(f"error: {error}" for error in errors)
    return bool(errors)


def _seed_reference_data() -> list[str]:
    """Helplines and response standards: loaded once into empty tables, then managers own
    them, so later imports never overwrite their edits."""
    from kb.crisis.services import seed_helplines
    from kb.tools.duedates.services import seed_standards

    helplines, standards = seed_helplines(), seed_standards()
    db.session.commit()
    if helplines or standards:
        return [f"Reference data: {helplines} helpline(s), {standards} response "
                "standard(s) loaded."]
    return []


def _seed_induction() -> list[str]:
    """The default induction programme, loaded once after the articles and scripts it
    lists; managers own it from then on."""
    from kb.induction.programmes import seed_default_programme

    programme = seed_default_programme()
    db.session.commit()
    if programme is not None:
        return [f"Induction: “{programme.name}” loaded ({len(programme.items)} items)."]
    return []


@click.command("export-content")
@with_appcontext
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_content(directory: Path) -> None:
    """Write the current articles, scripts and search vocabularies into DIRECTORY
    (articles/, scripts/, vocabularies/)."""
    from kb.articles.services import export_articles
    from kb.callscripts.services import export_scripts

    _require_schema()
    articles = export_articles(directory / "articles")
    from kb.search.vocabularies import export_vocabularies

    scripts = export_scripts(directory / "scripts")
    vocabularies = export_vocabularies(directory / "vocabularies")
    click.echo(f"Wrote {articles} article(s), {scripts} call script(s) and {vocabularies} "
               f"search vocabularies to {directory}")


@click.command("reindex")
@with_appcontext
@click.option("--if-needed", is_flag=True,
              help="Only repair and catch up the index instead of rebuilding it.")
@click.option("--verbose", "-v", is_flag=True, help="Also list each document indexed.")
def reindex(if_needed: bool, verbose: bool) -> None:
    """Rebuild the search index from the database, with a progress bar and a summary."""
    from kb.search.services import IndexUnavailable, rebuild, sync_index

    _require_schema()
    if if_needed:
        try:
            result = sync_index()
        except IndexUnavailable as error:
            raise click.ClickException(f"Search index not updated: {error}.") from None
        click.echo(
            f"Index {result['index']}: {result['added']} added, {result['updated']} updated, "
            f"{result['removed']} removed."
        )
        return
    from kb.search.services import document_counts

    counts = document_counts()
    articles, scripts, total = counts.get("article", 0), counts.get("script", 0), sum(
        counts.values())
    done = 0

    def advance(count: int) -> None:
        # rebuild reports a running total; the bar wants the step since last time.
        nonlocal done
        bar.update(count - done)
        done = count

    try:
        with click.progressbar(length=total, label="Indexing articles and scripts",
                               show_pos=True) as bar:
            count = rebuild(progress=advance)
    except IndexUnavailable as error:
        raise click.ClickException(f"Search index not rebuilt: {error}.") from None
    if verbose:
        from kb.search.providers import split_key
        from kb.search.services import current_fingerprints

        for key in sorted(current_fingerprints()):
            kind, slug = split_key(key)
            click.echo(f"  indexed {kind} {slug}")
    click.echo(f"Indexed {articles} article(s) and {scripts} call script(s) "
               f"({count} documents).")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--role", type=click.Choice(["agent", "manager", "admin"]), default="agent")
@click.option("--name", "display_name", default=None, help="Name shown on the site.")
@click.option("--team", default=None)
@click.password_option(prompt="Password", confirmation_prompt=True)
def create_user_command(
    username: str, role: str, display_name: str | None, team: str | None, password: str
) -> None:
    """Create a user account."""
    from kb.auth.services import AccountError, create_user

    _require_schema()
    try:
        user = create_user(username, password, role=role, display_name=display_name, team=team)
        db.session.commit()
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {user.username} ({user.role}).")


@click.command("set-password")
@with_appcontext
@click.argument("username")
@click.password_option(prompt="New password", confirmation_prompt=True)
def set_password_command(username: str, password: str) -> None:
    """Give USERNAME a new password; every session signed in with the old one ends."""
    from kb.auth.services import AccountError, change_password

    _require_schema()
    try:
        user = change_password(username, password)
        db.session.commit()
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"New password set for {user.username}; their other sessions have ended.")


@click.command("deactivate-user")
@with_appcontext
@click.argument("username")
@click.option("--reactivate", is_flag=True, help="Allow the account to sign in again.")
def deactivate_user_command(username: str, reactivate: bool) -> None:
    """Stop USERNAME signing in (every session ends at once), or --reactivate it."""
    from kb.core.errors import Invalid, NotFound
    from kb.users.services import set_active_from_cli

    _require_schema()
    try:
        user = set_active_from_cli(username, reactivate)
        db.session.commit()
    except (Invalid, NotFound) as error:
        raise click.ClickException(str(error)) from None
    state = "can sign in again" if reactivate else "is deactivated and signed out everywhere"
    click.echo(f"{user.username} {state}.")


@click.command("create-token")
@with_appcontext
@click.argument("username")
@click.option("--name", default="", help="What the token is for, e.g. 'CRM widget'.")
def create_token_command(username: str, name: str) -> None:
    """Create an API bearer token for USERNAME and print it once."""
    from kb.auth.services import AccountError, create_token

    _require_schema()
    try:
        token = create_token(username, name)
        db.session.commit()
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(token)


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create the demo accounts (agent, newstarter, manager, admin; password 'demo')."""
    from kb.auth.services import DEMO_ACCOUNTS, seed_demo_accounts

    _require_schema()
    if not current_app.config["KB_ALLOW_DEMO_ACCOUNTS"]:
        raise click.ClickException("Demo accounts are refused when KB_ENV=production.")
    from kb.induction.services import enrol_demo_starter

    created = seed_demo_accounts()
    db.session.commit()
    names = ", ".join(name for name, *_ in DEMO_ACCOUNTS)
    click.echo(f"Demo accounts ready ({names}); {len(created)} new.")
    if enrol_demo_starter() is not None:  # so the new starter's home shows a checklist
        db.session.commit()
        click.echo("newstarter is enrolled on the default induction programme from today.")


@click.command("load-standards")
@with_appcontext
@click.argument("pack", required=False)
@click.option("--list", "show_list", is_flag=True,
              help="List the shipped packs, and whether each is loaded and in force.")
def load_standards(pack: str | None, show_list: bool) -> None:
    """Load or refresh the regulatory standards pack PACK (a shipped pack's name, or a
    folder holding a pack.yml) with its articles. A new set arrives out of force."""
    from kb.articles.services import import_articles
    from kb.tools.duedates.packs import PackError, load_pack

    _require_schema()
    if show_list:
        _list_packs()
        return
    if not pack:
        raise click.UsageError("Name a pack to load, or use --list to see the shipped packs.")
    try:
        report = load_pack(pack)
        # Imported from the pack's folder (its Markdown lives in articles/), so each
        # article's stored path names its pack, "awaabs-law/articles/damp-and-mould.md",
        # rather than passing for a file of the shipped articles/ folder.
        articles = None
        if report.articles_dir:
            clash = _article_taken(report.articles_dir.parent)
            if clash:
                raise PackError(clash)
            articles = import_articles(report.articles_dir.parent)
        if articles is not None and articles.errors:
            raise PackError(f"article not loaded: {articles.errors[0]}")
    except PackError as error:
        db.session.rollback()  # nothing of a refused pack is kept
        raise click.ClickException(" ".join(str(error).split())) from None
    chosen = report.standard_set
    db.session.commit()
    index_error = _sync_index() if articles is not None else None
    state = ("created" if report.created_set
             else "unchanged" if report.unchanged else "updated")
    click.echo(f"{chosen.label}: {state}; standards {len(report.added)} added, "
               f"{len(report.changed)} changed, {len(report.retired)} retired.")
    for label, keys in (("added", report.added), ("changed", report.changed),
                        ("retired", report.retired)):
        if keys:
            click.echo(f"  {label}: {', '.join(keys)}")
    if articles is not None:
        click.echo(f"Articles: {len(articles.created)} new, {len(articles.updated)} updated, "
                   f"{len(articles.unchanged)} unchanged "
                   f"({', '.join(articles.created + articles.updated + articles.unchanged)}).")
        for warning in articles.warnings:
            click.echo(f"warning: {warning}", err=True)
    checked = chosen.checked_on
    click.echo(f"Figures checked against their source on {checked.day} {checked:%B %Y}.")
    if chosen.in_force:
        click.echo("This set is in force: the due date calculator offers its standards.")
    else:
        click.echo("This set is NOT in force: a manager puts it in force on the standards "
                   "page (/tools/due-date/standards).")
    if index_error is not None:
        click.echo(f"error: search index not updated: {index_error}.", err=True)
        sys.exit(1)


def _article_taken(folder: Path) -> str | None:
    """Why an article of the pack in ``folder`` would overwrite an article that is not the
    pack's own (shipped, or written on the site), or None: a pack never replaces them."""
    from kb.content.loader import ContentError, article_files, parse_article
    from kb.models import Article

    for path in article_files(folder):
        try:
            parsed = parse_article(path, root=folder.parent)
        except ContentError:
            continue  # the import reports it
        existing = db.session.scalar(db.select(Article).filter_by(slug=parsed.slug))
        if existing is not None and not (existing.source_path or "").startswith(
                f"{folder.name}/"):
            return (f"{path.name}: the slug {parsed.slug!r} is already used by the article "
                    f"“{existing.title}”, which is not this pack's; give the pack's "
                    "article another slug.")
    return None


def _list_packs() -> None:
    """Each shipped pack: its name, label, and whether it is loaded and in force."""
    from kb.tools.duedates.models import StandardSet
    from kb.tools.duedates.packs import PACKS_DIR, PackError, available_packs, read_pack

    names = available_packs()
    if not names:
        click.echo("No packs are shipped.")
    for name in names:
        try:
            data = read_pack(PACKS_DIR / name)
        except PackError as error:
            click.echo(f"{name}: cannot be read: {' '.join(str(error).split())}")
            continue
        loaded = db.session.scalar(db.select(StandardSet).filter_by(key=data["key"]))
        if loaded is None:
            state = "not loaded"
        else:
            state = (f"loaded as “{loaded.label}”, "
                     f"{'in force' if loaded.in_force else 'not in force'}")
        checked = data["checked_on"]
        click.echo(f"{name}: {data['label']} (checked {checked.day} {checked:%B %Y}); "
                   f"{state}.")
