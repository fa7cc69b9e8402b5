"""import-content: idempotent, versioned, and safe with bad files."""

from __future__ import annotations

from kb.extensions import db
from kb.models import Article, ArticleVersion


def _versions(app, slug):
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug=slug))
        return [v.number for v in article.versions] if article else None


def test_import_is_idempotent(app, runner, make_article):
    make_article("hold-etiquette", body="Ask before you put a caller on hold.")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 0
    assert "1 unchanged" in result.output
    assert _versions(app, "hold-etiquette") == [1]


def test_changed_file_makes_a_new_version(app, runner, make_article, client):
    make_article("hold-etiquette", body="Version one text.")
    runner.invoke(args=["import-content"])
    make_article("hold-etiquette", body="Version two text.")
    result = runner.invoke(args=["import-content"])
    assert "1 updated" in result.output
    assert _versions(app, "hold-etiquette") == [1, 2]
    with app.app_context():
        versions = db.session.scalars(db.select(ArticleVersion).order_by(ArticleVersion.number))
        assert [v.markdown.strip() for v in versions] == ["Version one text.",
                                                          "Version two text."]


def test_metadata_change_is_not_a_new_version(app, runner, make_article):
    make_article("fobs", body="Order a fob.", owner="Contact Centre Manager")
    runner.invoke(args=["import-content"])
    make_article("fobs", body="Order a fob.", owner="Head of Customer Services")
    runner.invoke(args=["import-content"])
    assert _versions(app, "fobs") == [1]
    with app.app_context():
        assert db.session.scalar(db.select(Article.owner)) == "Head of Customer Services"


def test_bad_files_are_reported_and_the_rest_import(app, runner, make_article, articles_dir):
    make_article("good-one", body="Fine.")
    (articles_dir / "broken.md").write_text("---\ntitle: [oops\n---\nBody\n")
    (articles_dir / "untitled.md").write_text("---\ncategory: Repairs\n---\nBody\n")
    (articles_dir / "latin1.md").write_bytes(b"---\ntitle: Caf\xe9\n---\nBody\n")
    sub = articles_dir / "old"
    sub.mkdir()
    make_article("dupe", body="First copy.")
    (sub / "dupe.md").write_text("---\ntitle: Dupe again\n---\nSecond copy.\n")

    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 1
    out = result.output
    assert "broken.md:2" in out
    assert "untitled.md" in out and "no title" in out
    assert "latin1.md:2" in out and "UTF-8" in out
    assert "duplicate article slug 'dupe'" in out
    assert _versions(app, "good-one") == [1]
    assert _versions(app, "dupe") is None


def test_nothing_in_the_database_is_lost(app, runner, make_article, articles_dir):
    make_article("keep-me", body="Original text.")
    runner.invoke(args=["import-content"])
    # The file is later broken and another one deleted: the stored article stays as it was.
    (articles_dir / "keep-me.md").write_text("---\ntitle: [broken\n---\nGarbage\n")
    result = runner.invoke(args=["import-content"])
    assert result.exit_code == 1
    assert _versions(app, "keep-me") == [1]
    (articles_dir / "keep-me.md").unlink()
    assert runner.invoke(args=["import-content"]).exit_code == 0
    assert _versions(app, "keep-me") == [1]


def test_imported_article_is_searchable_at_once(app, runner, make_article, client):
    from tests.conftest import login

    make_article("swipe-cards", title="Swipe cards and fobs",
                 body="How to order a replacement door entry fob.")
    runner.invoke(args=["import-content"])
    login(client, "agent")
    data = client.get("/api/search?q=replacement fob").get_json()
    assert data["results"][0]["slug"] == "swipe-cards"


def test_export_round_trips(app, runner, make_article, tmp_path):
    make_article("hold-etiquette", body="## Asking\n\nAsk first.", tags="[hold]")
    runner.invoke(args=["import-content"])
    out = tmp_path / "export"
    result = runner.invoke(args=["export-content", str(out)])
    assert result.exit_code == 0 and "1 article(s)" in result.output
    # Importing the export changes nothing.
    result = runner.invoke(args=["import-content", "--articles", str(out / "articles"),
                                 "--scripts", str(out / "scripts")])
    assert "1 unchanged" in result.output
    assert _versions(app, "hold-etiquette") == [1]


def test_import_says_a_summary_not_a_line_per_document(app, runner, make_article, articles_dir):
    make_article("hold-etiquette", body="Ask first.")
    make_article("fobs", body="Order a fob.")
    (articles_dir / "broken.md").write_text("---\ntitle: [oops\n---\nBody\n")
    result = runner.invoke(args=["import-content"])
    out = result.output
    assert result.exit_code == 1  # the broken file
    assert "Articles: 2 new, 0 updated, 0 unchanged, 1 with errors." in out
    assert "Search index: 2 added, 0 updated, 0 removed." in out
    assert "error: " in out and "broken.md:2" in out  # problems still said in full
    assert "indexed" not in out  # no line per document
    assert "hold-etiquette" not in out and "fobs" not in out
    assert out.startswith("Importing content")  # the progress bar's label

    make_article("fobs", body="Order a new fob.")
    again = runner.invoke(args=["import-content", "--verbose"]).output
    assert "Articles: 0 new, 1 updated, 1 unchanged, 1 with errors." in again
    assert "Search index: 0 added, 1 updated, 0 removed." in again
    assert "  indexed fobs" in again and "hold-etiquette" not in again  # only what changed


def test_import_refuses_a_missing_vocabularies_folder_before_changing_anything(
        app, runner, make_article, tmp_path):
    make_article("fobs", body="Order a fob.")
    result = runner.invoke(args=["import-content", "--vocabularies", str(tmp_path / "nope")])
    assert result.exit_code != 0 and "No such folder" in result.output
    assert _versions(app, "fobs") is None
