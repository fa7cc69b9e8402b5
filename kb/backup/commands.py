"""``flask --app kb backup DIR`` and ``flask --app kb restore DIR``."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from kb.backup import BackupError, manifest, postgresql, sqlite, tables
from kb.extensions import db

KINDS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Write a consistent copy of the database, the content export and a manifest into
    DIRECTORY (a new or empty folder). Safe while the app is serving."""
    try:
        lines = make_backup(directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(line, err=line.startswith("warning: "))


@click.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def restore_command(directory: Path) -> None:
    """Restore the backup in DIRECTORY into this instance's database, which must be empty;
    then check it against the manifest and rebuild the search index."""
    try:
        lines = restore_backup(directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    for line in lines:
        click.echo(line, err=line.startswith("warning: "))


# Backing up ---------------------------------------------------------------------------

def make_backup(directory: Path) -> list[str]:
    """Back up into ``directory``; the lines to print. Written into a hidden folder beside
    it and renamed at the end, so a folder with that name is always a whole backup."""
    kind = _database_kind()
    directory = directory.resolve()  # "." and "x/.." have a real name and parent
    _check_destination(directory)
    with db.engine.connect() as connection:
        revision = tables.revision(connection)
        server = postgresql.server_major(connection) if kind == "postgresql" else None
    if revision is None:
        raise BackupError("The database has no tables yet: there is nothing to back up.")
    tool = postgresql.find_tool("pg_dump", server) if server else None

    directory.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{directory.name}.partial-", dir=directory.parent))
    try:
        record = _write_backup(work, kind, tool, at_head=revision == _heads())
        record.update(created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                      app_version=_app_version(), alembic_revision=revision)
        record["database"].update(server_major=server)
        manifest.write(work, record)
        _sync(work)
        try:
            os.rename(work, directory)  # replaces an empty folder in one step
        except OSError as error:
            raise BackupError(f"The backup could not be moved into {directory} "
                              f"({error.strerror}).") from None
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return _backup_summary(directory, record)


def _check_destination(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise BackupError(f"{directory} is a file: back up into a new or empty folder.")
    if directory.is_dir() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: back up into a new or empty folder, so "
                          "a backup never mixes with other files.")


def _write_backup(work: Path, kind: str, tool: str | None, *, at_head: bool) -> dict:
    """Copy the database into ``work`` and export the content, both from one snapshot;
    returns the manifest's record of what was read."""
    name = manifest.DATABASE_FILES[kind]
    db.session.remove()
    if kind == "postgresql":
        connection = db.session.connection(
            execution_options={"isolation_level": "REPEATABLE READ"})
        snapshot = postgresql.begin_snapshot(connection)
        postgresql.dump(db.engine.url, snapshot, work / name, tool)
    else:
        connection = db.session.connection()
        sqlite.begin_snapshot(connection)
        sqlite.copy_snapshot(connection, work / name)
    try:
        record = {"database": {"kind": kind, "file": name},
                  "tables": tables.row_counts(connection),
                  "chains": tables.chain_heads(connection), "content": None}
        # The models describe this version's schema; a database at another revision is
        # still copied, but exported and checked only by the version that matches it.
        if at_head:
            record["content"] = _export_content(work / manifest.CONTENT_DIR)
            for table, breaks in _chain_breaks().items():
                record["chains"][table]["breaks"] = breaks
    finally:
        db.session.rollback()
    return record


def _export_content(folder: Path) -> dict[str, int]:
    """What ``flask export-content`` writes: articles/, scripts/ and vocabularies/."""
    from kb.articles.services import export_articles
    from kb.callscripts.services import export_scripts
    from kb.search.vocabularies import export_vocabularies

    return {"articles": export_articles(folder / "articles"),
            "scripts": export_scripts(folder / "scripts"),
            "vocabularies": export_vocabularies(folder / "vocabularies")}


def _chain_breaks() -> dict[str, int]:
    """Table -> how many breaks ``verify-signoffs`` would report in its chain."""
    from kb.signoffs.chain import verify_all

    return {which.model.__table__.name: len(breaks) for which, _count, breaks in verify_all()}


def _sync(folder: Path) -> None:
    """Flush every file and folder of the backup to the disk before it is named complete."""
    for path in [*folder.rglob("*"), folder]:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _backup_summary(directory: Path, record: dict) -> list[str]:
    kind = KINDS[record["database"]["kind"]]
    counts = record["tables"]
    lines = [f"Backup written to {directory}: {kind} database at revision "
             f"{record['alembic_revision']}, {sum(counts.values()):,} rows in "
             f"{len(counts)} tables."]
    content = record["content"]
    if content is None:
        lines.append(f"warning: the database is at revision {record['alembic_revision']}, "
                     f"not this version's {_heads()}: the database is copied, but the content "
                     "export and the chain check were skipped.")
    else:
        lines.append(f"Content: {content['articles']} article(s), {content['scripts']} call "
                     f"script(s) and {content['vocabularies']} search vocabularies exported.")
    lines.extend(_chain_lines(record["chains"]))
    return lines


def _chain_lines(chains: dict[str, dict]) -> list[str]:
    lines = []
    for table, chain in chains.items():
        head = (f"head #{chain['head_seq']} {chain['head_hash'][:12]}"
                if chain["head_seq"] else "empty")
        lines.append(f"Chain {table}: {chain['records']} record(s), {head}.")
        if chain.get("breaks"):
            lines.append(f"warning: the {table} chain has {chain['breaks']} break(s) "
                         "(flask --app kb verify-signoffs lists them); copied as found.")
    return lines


# Restoring ----------------------------------------------------------------------------

def restore_backup(directory: Path) -> list[str]:
    """Restore the backup in ``directory``; the lines to print. Every check that can be
    made before the database is touched is made first, and a failure after that leaves
    the target empty again."""
    if not directory.is_dir():
        raise BackupError(f"{directory} is not a folder.")
    record = manifest.read_verified(directory)
    kind = _database_kind()
    source_kind = record["database"]["kind"]
    if source_kind != kind:
        raise BackupError(f"This is a {KINDS.get(source_kind, source_kind)} backup and this "
                          f"instance uses {KINDS[kind]}: restoring across databases is not "
                          "supported.")
    upgrade = _needs_upgrade(record["alembic_revision"])
    with db.engine.connect() as connection:
        in_use = tables.rows_in_use(tables.row_counts(connection))
        server = postgresql.server_major(connection) if kind == "postgresql" else None
    if in_use:
        named = ", ".join(f"{name} ({count})" for name, count in sorted(in_use.items())[:5])
        more = ", ..." if len(in_use) > 5 else ""
        raise BackupError(f"The target database is not empty ({named}{more}): restore only "
                          "into a new, empty instance. Nothing was changed.")
    source = directory / record["database"]["file"]
    tool = None
    if kind == "sqlite":
        _same_counts(sqlite.check_copy(source), record["tables"], "The backed-up database",
                     after=". Nothing was changed.")
    else:
        tool = postgresql.find_tool("pg_restore", server)
        postgresql.check_archive(source, db.engine.url, tool)

    db.session.remove()
    db.engine.dispose()
    with tempfile.TemporaryDirectory(prefix="kb-restore-") as scratch:
        undo = _keep_for_undo(kind, Path(scratch))
        try:
            chains = _load_and_check(kind, source, tool, record, upgrade)
        except BaseException as error:
            message = str(error) if isinstance(error, BackupError) else (
                f"The restore stopped ({type(error).__name__}: {error})")
            try:
                undo()
            except Exception as failure:  # noqa: BLE001 - both are reported, in one line
                raise BackupError(f"{message.rstrip('.')}; emptying the target database "
                                  f"again failed too ({failure}).") from None
            raise BackupError(f"{message.rstrip('.')}. The target database was left "
                              "empty.") from None
    return _restore_summary(directory, record, upgrade, chains) + _rebuild_index()


def _needs_upgrade(revision: str | None) -> bool:
    """Whether a backup at ``revision`` must be upgraded after loading; BackupError when
    this version cannot restore it (unknown, or newer than this version)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if not revision:
        raise BackupError("The backup's manifest names no database revision.")
    head = _heads()
    if revision == head:
        return False
    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    try:
        known = all(script.get_revision(part) for part in revision.split(","))
    except CommandError:
        known = False
    if not known:
        raise BackupError(f"The backup was made by a newer version of Frontline KB (database "
                          f"revision {revision}; this version knows up to {head}): install "
                          "that version or a later one to restore it. Nothing was changed.")
    return True


def _keep_for_undo(kind: str, scratch: Path):
    """Save what is needed to put the empty target back; returns the function that does."""
    if kind == "postgresql":
        def drop() -> None:
            # The target held no rows; dropping what the restore made leaves it empty.
            db.session.remove()
            db.engine.dispose()
            postgresql.drop_everything(db.engine)

        return drop
    target = sqlite.database_path(current_app.config["SQLALCHEMY_DATABASE_URI"])
    saved = scratch / "before.sqlite"
    sqlite.copy_file(target, saved, source_read_only=False)

    def undo() -> None:
        db.session.remove()
        db.engine.dispose()
        sqlite.copy_file(saved, target)

    return undo


def _load_and_check(kind: str, source: Path, tool: str | None, record: dict,
                    upgrade: bool) -> list[tuple[str, int, int]]:
    """Load the backup, check the counts and chain heads against the manifest, upgrade an
    older one, and verify the chains; returns (table, records, breaks) per chain."""
    if kind == "postgresql":
        postgresql.drop_everything(db.engine)
        postgresql.restore(source, db.engine.url, tool)
    else:
        sqlite.copy_file(source, sqlite.database_path(
            current_app.config["SQLALCHEMY_DATABASE_URI"]))
    db.engine.dispose()
    with db.engine.connect() as connection:
        _same_counts(tables.row_counts(connection), record["tables"], "The restored database")
        heads = tables.chain_heads(connection)
    for table, chain in record["chains"].items():
        found = heads.get(table, {})
        if (found.get("head_seq"), found.get("head_hash")) != (chain["head_seq"],
                                                               chain["head_hash"]):
            raise BackupError(f"The restored {table} chain does not end on the head the "
                              "manifest names")
    if upgrade:
        _upgrade()
    from kb.signoffs.chain import verify_all

    chains = [(which.model.__table__.name, count, len(breaks))
              for which, count, breaks in verify_all()]
    db.session.rollback()
    for table, _count, breaks in chains:
        expected = record["chains"].get(table, {}).get("breaks") or 0
        if breaks > expected:
            raise BackupError(f"The restored {table} chain does not verify ({breaks} "
                              "break(s); flask --app kb verify-signoffs lists them)")
    return chains


def _upgrade() -> None:
    """Bring a database restored from an older version up to this version's schema."""
    from alembic import command

    migrate = current_app.extensions["migrate"]
    db.session.remove()
    command.upgrade(migrate.migrate.get_config(migrate.directory), "head")
    db.engine.dispose()


def _same_counts(found: dict[str, int], expected: dict[str, int], what: str,
                 after: str = "") -> None:
    if found == expected:
        return
    for name in sorted(set(found) | set(expected)):
        if found.get(name) != expected.get(name):
            raise BackupError(f"{what} does not hold what the manifest lists: table {name} "
                              f"has {found.get(name, 'no')} rows, the manifest says "
                              f"{expected.get(name, 'none')}{after}")


def _rebuild_index() -> list[str]:
    from kb.search.services import IndexUnavailable, rebuild

    try:
        count = rebuild()
    except IndexUnavailable as error:
        raise BackupError(f"The database was restored, but the search index was not rebuilt "
                          f"({error}); run 'flask --app kb reindex'.") from None
    return [f"Search index rebuilt: {count} documents."]


def _restore_summary(directory: Path, record: dict, upgrade: bool,
                     chains: list[tuple[str, int, int]]) -> list[str]:
    made = datetime.fromisoformat(record["created_at"])
    counts = record["tables"]
    lines = [f"Restored the backup of {made.day} {made:%B %Y, %H:%M} UTC from {directory}: "
             f"{sum(counts.values()):,} rows in {len(counts)} tables, counts as in the "
             "manifest."]
    if upgrade:
        lines.append(f"Database upgraded from revision {record['alembic_revision']} to "
                     f"{_heads()}.")
    for table, count, breaks in chains:
        state = "verifies" if not breaks else f"has {breaks} break(s), as when backed up"
        lines.append(f"Chain {table}: {count} record(s), {state}.")
    return lines


# Shared -------------------------------------------------------------------------------

def _database_kind() -> str:
    kind = db.engine.dialect.name
    if kind not in KINDS:
        raise BackupError(f"Backups cover SQLite and PostgreSQL, not {kind}.")
    return kind


def _heads() -> str:
    """This version's newest database revision (heads joined by commas)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    return ",".join(sorted(script.get_heads()))


def _app_version() -> str:
    try:
        return version("frontline-kb")
    except PackageNotFoundError:
        return "unknown"
