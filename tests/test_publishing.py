"""Publishing services: drafts, publish, approval, conflicts, slug renames, archive."""

from __future__ import annotations

import pytest

from kb.core.errors import Invalid, NotAllowed
from kb.extensions import db
from kb.models import Article, AuditLog, CallScript, Draft, SlugRedirect
from kb.publishing import archive as archiving
from kb.publishing import services, validation
from kb.publishing.services import StaleVersion
from kb.publishing.validation import ScriptProblems
from kb.search.services import run_search, sync_index
from tests.conftest import user_named
from tests.test_callscripts import SCRIPT


def fields(**overrides) -> dict:
    """Valid article front matter for the editor."""
    base = {"title": "Lost keys", "slug": "lost-keys", "category": "Call handling",
            "tags": "keys, fob", "summary": "Order a new key.", "owner": "Lettings",
            "review_cycle_months": "12"}
    base.update(overrides)
    return base


@pytest.fixture
def ctx(app, make_user):
    """An app context with a second manager (besides the demo one)."""
    make_user("second", role="manager")
    with app.app_context():
        yield


def _publish(user, document=None, markdown="Order a new key from the office.\n", base=0,
             **overrides):
    clean = validation.clean_article_fields(fields(**overrides), document)
    doc, version = services.publish_change(user_named(user), "article", document, clean, markdown,
                                           base, "First version", True)
    db.session.commit()
    return doc, version


def test_publish_creates_a_version_findable_right_after_sync(ctx):
    article, version = _publish("manager", markdown="The zanzibar key is kept at the desk.\n")
    sync_index()
    assert version.number == 1 and version.author.username == "manager"
    assert article.tags == ["keys", "fob"] and article.owner == "Lettings"
    results = run_search("zanzibar", user=None)
    assert [hit.slug for hit in results.hits] == ["lost-keys"]


def test_validation_names_the_field_and_changes_nothing(ctx):
    for bad, field in [({"slug": "Lost Keys"}, "slug"), ({"slug": "-x-"}, "slug"),
                       ({"title": ""}, "title"), ({"review_cycle_months": "0"},
                                                  "review_cycle_months"),
                       ({"title": "x" * 201}, "title")]:
        with pytest.raises(Invalid) as caught:
            validation.clean_article_fields(fields(**bad))
        assert caught.value.field == field
    with pytest.raises(Invalid) as caught:
        validation.clean_change("   ", True)
    assert caught.value.field == "change_summary"
    assert db.session.scalar(db.select(db.func.count(Article.id))) == 0


def test_slugs_are_unique_per_kind(ctx):
    _publish("manager")
    with pytest.raises(Invalid) as caught:
        validation.clean_article_fields(fields())
    assert caught.value.field == "slug" and "already uses" in caught.value.message
    # A call script may share an article's slug (the crisis protocol is both).
    assert validation.clean_slug("script", "lost-keys") == "lost-keys"
    with pytest.raises(Invalid):
        validation.clean_slug("script", "review")  # the review list's address


def test_draft_save_and_discard_is_audited_and_publish_consumes_it(ctx):
    article, _v = _publish("manager")
    draft = services.save_draft(user_named("manager"), "article", article,
                                fields(title="Lost keys (draft)"), "Draft text\n", 1)
    db.session.commit()
    assert services.draft_for("article", article).markdown == "Draft text\n"
    # One open draft per document: saving again updates it.
    services.save_draft(user_named("second"), "article", article, fields(), "Second text\n", 1)
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Draft.id))) == 1
    services.discard_draft(user_named("manager"), draft)
    db.session.commit()
    assert services.draft_for("article", article) is None
    actions = db.session.scalars(db.select(AuditLog.action)).all()
    assert "draft.discarded" in actions and "draft.saved" in actions
    services.save_draft(user_named("manager"), "article", article, fields(), "Again\n", 1)
    clean = validation.clean_article_fields(fields(), article)
    services.publish_change(user_named("manager"), "article", article, clean, "Again\n", 1,
                            "Second", False)
    db.session.commit()
    assert services.draft_for("article", article) is None
    assert article.current_version.number == 2 and article.current_version.material is False


def test_conflict_between_two_managers_overwrites_nothing(ctx):
    article, _v = _publish("manager")
    clean = validation.clean_article_fields(fields(), article)
    # Both open version 1; the second manager publishes first.
    services.publish_change(user_named("second"), "article", article, clean, "Their text\n", 1,
                            "Theirs", True)
    db.session.commit()
    with pytest.raises(StaleVersion) as caught:
        services.publish_change(user_named("manager"), "article", article, clean, "My text\n", 1,
                                "Mine", True)
    db.session.rollback()
    assert caught.value.base == 1 and caught.value.current == 2
    assert article.current_version.markdown == "Their text\n"
    # Keep editing on top of version 2: their text becomes a draft based on 2.
    draft = services.rebase(user_named("manager"), "article", article, fields(), "My text\n")
    db.session.commit()
    assert draft.base_version == 2 and draft.markdown == "My text\n"
    services.publish_change(user_named("manager"), "article", article, clean, "My text\n", 2,
                            "Mine, merged", True)
    db.session.commit()
    assert [v.markdown for v in article.versions][1:] == ["Their text\n", "My text\n"]


def test_approval_author_cannot_approve_and_approver_is_recorded(ctx):
    article, _v = _publish("manager")
    article.requires_approval = True  # as if ticked in an earlier edit
    db.session.commit()
    # Unticking the box in the same change does not escape the approval it needed.
    clean = validation.clean_article_fields(fields(), article)
    with pytest.raises(NotAllowed):  # needs approval: publishing straight away is refused
        services.publish_change(user_named("manager"), "article", article, clean, "New\n", 1,
                                "Change", True)
    db.session.rollback()
    draft = services.submit_for_approval(user_named("manager"), "article", article, clean,
                                         "New text\n", 1, "Changed the office", True)
    db.session.commit()
    assert services.pending_drafts() == [draft]
    with pytest.raises(NotAllowed):
        services.approve(user_named("manager"), draft)
    db.session.rollback()
    assert article.current_version.number == 1
    doc, version = services.approve(user_named("second"), draft)
    db.session.commit()
    assert version.number == 2 and version.markdown == "New text\n"
    assert version.author.username == "manager"
    assert version.approved_by_id == user_named("second").id
    assert version.change_summary == "Changed the office"
    assert services.draft_for("article", doc) is None
    actions = db.session.scalars(db.select(AuditLog.action)).all()
    assert {"draft.submitted", "draft.approved"} <= set(actions)


def test_send_back_keeps_the_draft_with_the_comment(ctx):
    article, _v = _publish("manager")
    archiving.set_category_approval(user_named("second"), "Call handling", True)
    db.session.commit()
    clean = validation.clean_article_fields(fields(), article)
    assert services.approval_required("article", article, clean)
    draft = services.submit_for_approval(user_named("manager"), "article", article, clean,
                                         "New\n", 1, "Change", True)
    with pytest.raises(Invalid):
        services.send_back(user_named("second"), draft, "  ")
    services.send_back(user_named("second"), draft, "Please cite the repairs article.")
    db.session.commit()
    draft = services.draft_for("article", article)
    assert draft.state == "returned" and draft.comment == "Please cite the repairs article."
    assert "draft.rejected" in db.session.scalars(db.select(AuditLog.action)).all()
    assert "category.approval_changed" in db.session.scalars(db.select(AuditLog.action)).all()


def test_approval_of_a_stale_change_publishes_nothing(ctx):
    article, _v = _publish("manager")
    clean = validation.clean_article_fields(fields(), article)
    draft = services.submit_for_approval(user_named("manager"), "article", article, clean,
                                         "Pending\n", 1, "Pending", True)
    db.session.commit()
    services.publish_change(user_named("second"), "article", article, clean, "Newer\n", 1,
                            "Newer", True)
    db.session.commit()
    with pytest.raises(StaleVersion):
        services.approve(user_named("second"), draft)
    db.session.rollback()
    assert article.current_version.markdown == "Newer\n"


def test_renaming_a_slug_keeps_every_old_slug_redirecting(ctx):
    article, _v = _publish("manager")
    for number, slug in enumerate(["keys-lost", "lost-fobs"], start=1):
        clean = validation.clean_article_fields(fields(slug=slug), article)
        services.publish_change(user_named("manager"), "article", article, clean,
                                f"Text {number}\n", number, "Renamed", True)
        db.session.commit()
    redirects = {r.old_slug: r.document_id for r in db.session.scalars(
        db.select(SlugRedirect))}
    assert redirects == {"lost-keys": article.id, "keys-lost": article.id}
    from kb.core.redirects import current_slug

    assert current_slug("article", Article, "lost-keys") == "lost-fobs"


def test_archive_and_restore_leave_and_rejoin_search(ctx):
    article, _v = _publish("manager", markdown="The quokka cupboard holds spare keys.\n")
    sync_index()
    archiving.archive(user_named("manager"), article)
    db.session.commit()
    sync_index()
    assert run_search("quokka", user=None).total == 0
    assert article.versions[0].markdown.startswith("The quokka")  # versions stay
    archiving.restore(user_named("manager"), article)
    db.session.commit()
    sync_index()
    assert run_search("quokka", user=None).total == 1
    actions = db.session.scalars(db.select(AuditLog.action)).all()
    assert {"document.archived", "document.restored"} <= set(actions)


def test_archive_sends_the_signal(ctx):
    from kb.core.signals import document_archived

    article, _v = _publish("manager")
    seen = []
    with document_archived.connected_to(lambda sender, **kw: seen.append(sender.slug)):
        archiving.archive(user_named("manager"), article)
    assert seen == ["lost-keys"]


def test_scripts_are_checked_as_on_import_with_the_step_and_line(ctx):
    _publish("manager", slug="swipe-cards", title="Swipe cards")
    source = SCRIPT.format(extra="").replace("(#lost)", "(#nowhere)")
    with pytest.raises(ScriptProblems) as caught:
        validation.check_script(source, "lost-fob")
    problems = caught.value.problems
    assert any(p.step == "ask" and p.line and "nowhere" in p.message for p in problems)
    good = SCRIPT.format(extra="")
    script, version = services.publish_change(
        user_named("manager"), "script", None, {"slug": "lost-fob"}, good, 0, "New script", True)
    db.session.commit()
    assert isinstance(script, CallScript) and version.number == 1
    assert script.current_version.cited_slugs == ["swipe-cards"]


def test_agents_cannot_use_the_services(ctx):
    with pytest.raises(NotAllowed):
        services.save_draft(user_named("agent"), "article", None, fields(), "x", 0)
    with pytest.raises(NotAllowed):
        services.publish_change(user_named("agent"), "article", None,
                                validation.clean_article_fields(fields()), "x\n", 0, "x", True)


def test_the_crisis_and_emergency_articles_cannot_be_archived(ctx):
    for slug in ("crisis-self-harm", "repair-priorities"):
        article, _v = _publish("manager", slug=slug, title=slug)
        with pytest.raises(Invalid) as caught:
            archiving.archive(user_named("manager"), article)
        assert "cannot be archived" in caught.value.message
        assert article.archived_at is None
