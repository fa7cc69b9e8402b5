"""Search knows documents only through registered providers: a new kind needs no search change."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kb.search import providers
from kb.search.documents import Document
from kb.search.services import current_fingerprints, health, run_search, sync_index


class Notes:
    """A provider of a made-up kind of document, held in memory."""

    label = "Notes"
    key_prefix = "note:"

    def __init__(self) -> None:
        self.texts = {"bins": "Bulky waste collection is booked by the depot on Fridays."}

    def fingerprints(self) -> dict[str, str]:
        return {slug: providers.fingerprint(text, slug, "", "Waste", []) for slug, text
                in self.texts.items()}

    def watermark(self) -> tuple:
        return tuple(sorted(self.fingerprints().values()))

    def document(self, slug: str) -> Document | None:
        text = self.texts.get(slug)
        if text is None:
            return None
        return Document(slug=slug, kind="note", title=slug.title(), summary="", tags=[],
                        category="Waste", body=text, sha256=self.fingerprints()[slug],
                        updated_at=datetime(2026, 1, 1, tzinfo=UTC))

    def documents(self):
        return [self.document(slug) for slug in self.texts]

    def count(self) -> int:
        return len(self.texts)

    def url(self, slug: str) -> str:
        return f"/notes/{slug}"


@pytest.fixture
def notes():
    provider = Notes()
    providers.register("note", provider)
    yield provider
    providers._providers.pop("note", None)


def test_a_registered_kind_is_indexed_found_and_linked(app, notes):
    with app.app_context(), app.test_request_context():
        assert sync_index()["added"] >= 1
        results = run_search("bulky waste depot")
        assert [h.slug for h in results.hits] == ["note:bins"]
        from kb.search.services import result_url

        assert result_url(results.hits[0]) == "/notes/bins"
        assert run_search("bulky waste", kind="note").total == 1
        assert health()["status"] == "ok"
        # The feature changed its document: the index is behind until it catches up.
        notes.texts["bins"] = "Bulky waste is collected on Mondays now."
        assert health()["status"] == "degraded"
        assert sync_index()["updated"] == 1
        assert run_search("mondays bulky").hits[0].slug == "note:bins"


def test_every_kind_is_listed_under_its_own_key(app, notes):
    with app.app_context():
        marks = current_fingerprints()
    assert "note:bins" in marks
    assert providers.split_key("note:bins") == ("note", "bins")
    assert providers.split_key("script:crisis-self-harm") == ("script", "crisis-self-harm")
    assert providers.split_key("crisis-self-harm") == ("article", "crisis-self-harm")


def test_something_that_is_not_a_provider_is_refused():
    with pytest.raises(TypeError):
        providers.register("broken", object())
