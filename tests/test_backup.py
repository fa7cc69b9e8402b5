"""`flask backup` and `flask restore`, end to end on the suite's database (SQLite, or
PostgreSQL with --db=postgresql): one instance with articles, versions, sign-offs,
countersignatures and audit rows is backed up once; each test restores that backup (or a
damaged copy of it) into a fresh instance and looks at what an operator would."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text

from kb.backup import manifest, tables
from kb.extensions import db
from kb.models import Article, ArticleVersion, AuditLog
from kb.signoffs.models import Countersignature, SignOff
from tests import databases
from tests.conftest import build_app, write_article
from tests.countersign_helpers import TEXT, countersign_as, sign_as
from tests.signoff_helpers import new_version, standard

HEAD = ScriptDirectory(databases.MIGRATIONS).get_current_head()
OLDER = "c3d9e5a2b8f1"  # an earlier revision, whose rows insert_old_content can write


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=[str(arg) for arg in args])


def _every_row(app) -> dict[str, list[tuple]]:
    """Every row of every table the models know, in primary-key order."""
    with app.app_context():
        rows = {table.name: [tuple(row) for row in db.session.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in db.metadata.sorted_tables}
        db.session.rollback()
    return rows


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {name: len(rows) for name, rows in _every_row(app).items()}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """An instance with content: two imported articles (one at version 2), a standard at
    version 2 signed by two agents and a manager, two countersignatures; and its backup."""
    base = tmp_path_factory.mktemp("backup-source")
    app = build_app(base, seeded=True)
    articles = Path(app.config["KB_ARTICLES_DIR"])
    write_article(articles, "swipe-cards", title="Swipe cards",
                  body="A lost swipe card is replaced at reception.")
    write_article(articles, "bins", title="Bin collections", body="Bins go out on Tuesday.")
    assert _cli(app, "import-content").exit_code == 0
    write_article(articles, "bins", title="Bin collections",
                  body="Bins go out on Tuesday; recycling on Friday.")
    assert _cli(app, "import-content").exit_code == 0
    with app.app_context():
        from kb.auth.services import create_user

        create_user("otto", "pw-otto", display_name="Otto Outreach", team="Outreach")
        greeting = standard("greeting", TEXT)
        new_version(greeting, TEXT + "\nSay the call may be recorded.\n", material=True)
        db.session.commit()
        ids = [sign_as(name).id for name in ("agent", "newstarter", "otto")]
        countersign_as("manager", ids[:2])
    folder = base.parent / f"{base.name}-backup"
    result = _cli(app, "backup", folder)
    assert result.exit_code == 0, result.output
    yield app, folder
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def empty(tmp_path):
    """A new instance whose database is migrated and holds nothing."""
    app = build_app(tmp_path / "target")
    yield app
    with app.app_context():
        db.engine.dispose()


def _copy(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    return copy


def _rewrite_manifest(folder: Path, **changes) -> None:
    """Change the manifest and seal it again, as a later version writing it would."""
    path = folder / manifest.MANIFEST
    record = json.loads(path.read_text())
    record.update(changes)
    record.pop("files")
    record.pop("checksum")
    manifest.write(folder, record)


def test_the_manifest_lists_every_table_every_file_and_the_chain_heads(source):
    app, folder = source
    record = json.loads((folder / manifest.MANIFEST).read_text())
    assert record["database"]["kind"] == databases.backend()
    assert record["alembic_revision"] == HEAD
    assert record["app_version"] == version("frontline-kb")
    assert {name: record["tables"][name] for name in _counts(app)} == _counts(app)
    with app.app_context():
        head = db.session.scalars(select(SignOff).order_by(SignOff.seq.desc())).first()
        assert record["chains"]["signoffs"] == {"records": 3, "head_seq": 3, "breaks": 0,
                                                "head_hash": head.record_hash}
    assert record["chains"]["countersignatures"]["records"] == 2
    assert record["content"] == {"articles": 3, "scripts": 0, "vocabularies": 3}
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if p.is_file() and p.name != manifest.MANIFEST)
    assert sorted(record["files"]) == on_disk
    assert manifest.DATABASE_FILES[databases.backend()] in on_disk
    assert "Bins go out on Tuesday; recycling on Friday." in (
        folder / "content" / "articles" / "bins.md").read_text()
    assert record["files"]["content/articles/bins.md"] == manifest.sha256_file(
        folder / "content" / "articles" / "bins.md")
    # Nothing is left beside the backup from writing it.
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}")] == []


def test_a_restore_reproduces_every_version_signoff_and_audit_row_and_search_finds_them(
        source, empty):
    app, folder = source
    result = _cli(empty, "restore", folder)
    assert result.exit_code == 0, result.output
    assert "counts as in the manifest" in result.output
    assert "Chain signoffs: 3 record(s), verifies." in result.output

    before, after = _every_row(app), _every_row(empty)
    assert after == before
    with empty.app_context():
        versions = db.session.execute(
            select(Article.slug, ArticleVersion.number, ArticleVersion.sha256,
                   ArticleVersion.markdown).join(ArticleVersion.article)
            .order_by(Article.slug, ArticleVersion.number)).all()
        assert [(slug, number) for slug, number, *_ in versions] == [
            ("bins", 1), ("bins", 2), ("greeting", 1), ("greeting", 2), ("swipe-cards", 1)]
        assert versions[1].markdown.startswith("Bins go out on Tuesday; recycling")
        assert db.session.scalar(select(func.count()).select_from(Countersignature)) == 2
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) > 10
        from kb.search.services import get_index, health

        # The restore rebuilt the index: it agrees with the database before anyone searches.
        assert health()["status"] == "ok"
        assert [hit.slug for hit in get_index().search("swipe card").hits] == ["swipe-cards"]
        assert "bins" in [hit.slug for hit in get_index().search("recycling").hits]
    verified = _cli(empty, "verify-signoffs")
    assert verified.exit_code == 0
    assert "Sign-off chain intact: 3 records checked." in verified.output
    assert "Countersignature chain intact: 2 records checked." in verified.output


def test_a_restore_refuses_a_target_that_holds_anything(source, tmp_path):
    _app, folder = source
    target = build_app(tmp_path / "busy", seeded=True)  # the demo accounts exist
    before = _every_row(target)
    result = _cli(target, "restore", folder)
    assert result.exit_code == 1
    assert "The target database is not empty (" in result.output
    assert "users (4)" in result.output
    assert _every_row(target) == before


@pytest.mark.parametrize("damage", ["changed file", "missing file", "changed database",
                                    "edited manifest"])
def test_a_restore_refuses_a_damaged_backup_and_changes_nothing(source, empty, tmp_path,
                                                                damage):
    _app, folder = source
    copy = _copy(folder, tmp_path)
    database = copy / manifest.DATABASE_FILES[databases.backend()]
    article = copy / "content" / "articles" / "bins.md"
    if damage == "changed file":
        article.write_text(article.read_text().replace("Friday", "Saturday"))
        named = f"{article} does not match its sha256"
    elif damage == "missing file":
        article.unlink()
        named = f"{article} is missing"
    elif damage == "changed database":
        with database.open("ab") as handle:
            handle.write(b"\0")
        named = f"{database} does not match its sha256"
    else:
        path = copy / manifest.MANIFEST
        record = json.loads(path.read_text())
        record["tables"]["signoffs"] = 2  # as if a signature had never been made
        path.write_text(json.dumps(record))
        named = f"{path} was changed after the backup was written"
    before = _every_row(empty)
    result = _cli(empty, "restore", copy)
    assert result.exit_code == 1
    assert named in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert _every_row(empty) == before


def test_a_restore_that_finds_other_counts_than_the_manifest_leaves_the_target_empty(
        source, empty, tmp_path):
    """A manifest sealed again after an edit passes the checksums; the counts still give
    it away (PostgreSQL: once loaded, and the target is emptied again)."""
    _app, folder = source
    copy = _copy(folder, tmp_path)
    record = json.loads((copy / manifest.MANIFEST).read_text())
    _rewrite_manifest(copy, tables={**record["tables"], "signoffs": 2})
    result = _cli(empty, "restore", copy)
    assert result.exit_code == 1
    assert "table signoffs has 3 rows, the manifest says 2" in result.output
    with empty.app_context():
        with db.engine.connect() as connection:
            assert tables.rows_in_use(tables.row_counts(connection)) == {}


def test_a_restore_refuses_a_backup_from_a_newer_version(source, empty, tmp_path):
    _app, folder = source
    copy = _copy(folder, tmp_path)
    _rewrite_manifest(copy, alembic_revision="f00dfeedf00d")
    before = _every_row(empty)
    result = _cli(empty, "restore", copy)
    assert result.exit_code == 1
    assert "made by a newer version of Frontline KB" in result.output
    assert f"this version knows up to {HEAD}" in result.output
    assert _every_row(empty) == before


def test_a_restore_refuses_a_backup_of_the_other_database(source, empty, tmp_path):
    _app, folder = source
    copy = _copy(folder, tmp_path)
    other = "sqlite" if databases.is_postgresql() else "postgresql"
    (copy / manifest.DATABASE_FILES[databases.backend()]).rename(
        copy / manifest.DATABASE_FILES[other])
    record = json.loads((copy / manifest.MANIFEST).read_text())
    _rewrite_manifest(copy, database={**record["database"], "kind": other,
                                      "file": manifest.DATABASE_FILES[other]})
    result = _cli(empty, "restore", copy)
    assert result.exit_code == 1
    assert "restoring across databases is not supported" in result.output


def test_a_backup_refuses_a_folder_that_is_not_empty(source, tmp_path):
    app, _folder = source
    folder = tmp_path / "nightly"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    result = _cli(app, "backup", folder)
    assert result.exit_code == 1
    assert f"{folder} is not empty: back up into a new or empty folder" in result.output
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nightly"]


def test_a_backup_of_an_older_revision_is_upgraded_when_restored(tmp_path, empty):
    old = build_app(tmp_path / "old")
    url = old.config["SQLALCHEMY_DATABASE_URI"]
    with old.app_context():
        db.engine.dispose()
    databases.migrate(url, OLDER, down=True)
    databases.insert_old_content(url, {"old-article": 2}, user_id=1)
    result = _cli(old, "backup", tmp_path / "old-backup")
    assert result.exit_code == 0, result.output
    assert f"the database is at revision {OLDER}, not this version's {HEAD}" in result.output

    result = _cli(empty, "restore", tmp_path / "old-backup")
    assert result.exit_code == 0, result.output
    assert f"Database upgraded from revision {OLDER} to {HEAD}." in result.output
    with empty.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
        markdown = db.session.scalars(select(ArticleVersion.markdown)
                                      .order_by(ArticleVersion.number)).all()
        assert markdown == ["old-article v1", "old-article v2"]


@pytest.mark.sqlite_only
def test_a_backup_taken_while_another_connection_writes_is_one_moment(tmp_path):
    """A writer publishes articles throughout the backup: the copied database, its counts
    in the manifest and the exported articles all show the same moment."""
    app = build_app(tmp_path / "busy", seeded=True)
    stop, written, failures = threading.Event(), [], []

    def publish_until_stopped() -> None:
        with app.app_context():
            try:
                # Bounded: at most 400 articles or 30 seconds.
                deadline = time.monotonic() + 30
                for number in range(400):
                    if stop.is_set() or time.monotonic() > deadline:
                        break
                    standard(f"busy-{number:03d}", f"Busy article {number}.", requires=False)
                    db.session.commit()
                    written.append(number)
            except Exception as error:  # reported by the test below
                failures.append(error)
            finally:
                db.engine.dispose()

    writer = threading.Thread(target=publish_until_stopped)
    writer.start()
    try:
        deadline = time.monotonic() + 10
        while len(written) < 5 and time.monotonic() < deadline and writer.is_alive():
            time.sleep(0.02)
        started = len(written)
        result = _cli(app, "backup", tmp_path / "backup")
        during = len(written) - started
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not failures
    assert result.exit_code == 0, result.output
    assert during > 0, "the writer wrote nothing while the backup ran"

    folder = tmp_path / "backup"
    record = json.loads((folder / manifest.MANIFEST).read_text())
    copy = sqlite3.connect(folder / "database.sqlite")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        copied = {name: copy.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                  for name in record["tables"]}
        slugs = sorted(row[0] for row in copy.execute("SELECT slug FROM articles"))
    finally:
        copy.close()
    assert copied == record["tables"]
    exported = sorted(p.stem for p in (folder / "content" / "articles").glob("*.md"))
    assert exported == slugs
    assert record["content"]["articles"] == len(slugs) >= started
