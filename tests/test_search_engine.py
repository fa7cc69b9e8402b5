"""Tests for the Whoosh search engine (kb.search.engine), without Flask."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.search.engine import DEFAULT_SYNONYMS, Document, IndexBusy, Results, SearchIndex
from kb.search.synonyms import STOP_WORDS, Synonyms, normalise_terms, parse_synonyms

# The search engine and index, not SQL: run once, on SQLite.
pytestmark = pytest.mark.database_independent

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def make_doc(slug: str, title: str, summary: str, body: str, **extra) -> Document:
    """A document with sensible defaults and a content-derived sha."""
    fields = {
        "kind": "article",
        "tags": [],
        "category": "General",
        "updated_at": datetime(2024, 5, 1, 9, 30),
    }
    fields.update(extra)
    sha = f"{slug}:{hash((title, summary, body, tuple(fields['tags'])))}"
    return Document(slug=slug, title=title, summary=summary, body=body, sha256=sha, **fields)


CORPUS = [
    make_doc(
        "repair-priorities",
        "Repair priorities and timescales",
        "Emergency repairs are made safe within 24 hours; routine repairs take up to "
        "20 working days.",
        "An emergency repair is anything that puts the resident or the building at "
        "risk, such as water pouring through a ceiling, a gas smell or no heating in "
        "winter. The operative attends within 24 hours to make it safe. Routine repairs "
        "are completed within 20 working days of the report.",
        tags=["repairs", "emergency", "timescales"],
        category="Repairs",
    ),
    make_doc(
        "complaints",
        "Complaints procedure",
        "Log every expression of dissatisfaction as a complaint. Stage 1 replies within "
        "10 working days, stage 2 within 20 working days.",
        "A complaint is an expression of dissatisfaction about our service. Stage 1 "
        "complaints are answered by the service manager within 10 working days. If the "
        "customer is still unhappy they can escalate to stage 2, answered within 20 "
        "working days, and then to the Housing Ombudsman.",
        tags=["complaints", "stage 1", "stage 2", "ombudsman"],
        category="Complaints",
    ),
    make_doc(
        "crisis-self-harm",
        "Crisis calls: self-harm and suicide",
        "Stay on the line, follow the crisis plan and offer the Samaritans number.",
        "If a caller talks about harming themselves, stay calm and stay on the line. "
        "Follow the six-point crisis plan. Give the Samaritans number, 116 123, which is "
        "free and open day and night. If life is at immediate risk call 999.",
        kind="script",
        tags=["crisis", "safeguarding"],
        category="Safeguarding",
    ),
    make_doc(
        "anti-social-behaviour",
        "Reporting anti-social behaviour",
        "Take details of the anti-social behaviour and pass them to the neighbourhood team.",
        "Noise, harassment, drug dealing and vandalism are anti-social behaviour. Record "
        "dates, times and what happened, and ask the resident to keep a diary.",
        tags=["noise", "neighbours"],
        category="Tenancy",
    ),
    make_doc(
        "swipe-cards",
        "Swipe cards and door entry",
        "Order a swipe card for a resident after confirming who they are.",
        "Confirm the caller's identity and which building the swipe card is for, then "
        "order it. Faulty door entry systems are reported as communal repairs.",
        tags=["swipe card", "door entry"],
        category="Working practices",
    ),
    make_doc(
        "remote-working",
        "Remote working",
        "Keep confidentiality when you work from home.",
        "Working from home is allowed on agreed days. Keep your camera on in team meetings "
        "and lock your screen when you leave the desk.",
        category="Working practices",
    ),
    make_doc(
        "hold-etiquette",
        "Putting a caller on hold",
        "Ask before putting a caller on hold and check back every 60 seconds.",
        "Always ask permission before you put a caller on hold. Do not leave a caller on "
        "hold for more than two minutes without checking back. Say thank you for holding.",
        kind="script",
        tags=["hold", "calls"],
        category="Call handling",
    ),
    make_doc(
        "phonetic-alphabet",
        "NATO phonetic alphabet",
        "Use the phonetic alphabet to spell names, postcodes and references.",
        "Alpha, Bravo, Charlie, Delta, Echo, Foxtrot. Spell out postcodes letter by letter "
        "so that B and D or M and N are not confused on the phone.",
        tags=["radio alphabet"],
        category="Call handling",
    ),
    make_doc(
        "telephone-payments",
        "Taking a card payment over the phone",
        "Take card payments through the secure payment line, never by writing numbers down.",
        "Transfer the caller to the automated payment line so their card number is never "
        "heard or written down. Give the payment reference before you end the call.",
        kind="script",
        tags=["payments", "rent"],
        category="Rent and income",
    ),
    make_doc(
        "web-chat",
        "Answering web chat",
        "Reply to web chats within two minutes.",
        "Customers sometimes paste code such as <script>alert('hi')</script> into the web "
        "chat; it is shown as plain text. Reply to every chat within two minutes & close "
        "it politely.",
        tags=["chat", "channels"],
        category="Channels",
    ),
    make_doc(
        "opening-hours",
        "Opening hours and the out of hours service",
        "The contact centre is open 8am to 6pm; emergencies outside those hours go to the "
        "out of hours line.",
        "Outside opening hours, emergency repairs are handled by the out of hours "
        "service. Non-urgent calls are logged the next working day.",
        tags=["opening hours"],
        category="Call handling",
    ),
]
BY_SLUG = {doc.slug: doc for doc in CORPUS}


def slugs(results: Results) -> list[str]:
    return [hit.slug for hit in results.hits]


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    """A fresh index holding the test corpus."""
    ix = SearchIndex(tmp_path / "index")
    assert ix.ensure() == "created"
    for doc in CORPUS:
        ix.index_document(doc)
    return ix


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    """One read-only index for the many input-robustness cases."""
    ix = SearchIndex(tmp_path_factory.mktemp("shared") / "index")
    ix.rebuild(CORPUS)
    return ix


# ----- matching ---------------------------------------------------------------


def test_empty_index_answers_cleanly(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ix = SearchIndex(tmp_path / "index")
    assert ix.ensure() == "created"
    for query in ("repair", "sama", "complant", '"working days"'):
        results = ix.search(query)
        assert (results.total, results.hits) == (0, [])
    assert ix.indexed() == {} and ix.categories() == []
    assert ix.health() == {"documents": 0, "status": "ok"}
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_normal_searches_log_no_errors(index: SearchIndex, caplog) -> None:
    for query in ("repair", "sama", "complant", "ASB", '"working days"', "fob", "stage 2 c"):
        assert index.search(query).hits
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "WARNING"}]


def test_stemming_matches_other_word_forms(index: SearchIndex) -> None:
    assert slugs(index.search("repairing"))[0] == "repair-priorities"
    assert "complaints" in slugs(index.search("complained "))


def test_phrase_matches_only_adjacent_words(index: SearchIndex) -> None:
    phrase = index.search('"working days"')
    # Phrases are stemmed too: "next working day" counts.
    assert set(slugs(phrase)) == {"repair-priorities", "complaints", "opening-hours"}
    assert phrase.total == 3
    # The same words unquoted also find the page where they are far apart.
    assert "remote-working" in slugs(index.search("working days "))


def test_phrase_keeps_meaningful_short_words(index: SearchIndex) -> None:
    # Words agents type that a generic stop list would drop must survive analysis.
    assert not {"not", "no", "out", "off", "over", "up", "back", "hold", "2"} & STOP_WORDS
    assert slugs(index.search('"do not leave a caller on hold"')) == ["hold-etiquette"]
    assert slugs(index.search("hold"))[0] == "hold-etiquette"
    assert "crisis-self-harm" in slugs(index.search("stay on the line"))


def test_phrase_regression_multiword_and_unbalanced(index: SearchIndex) -> None:
    assert slugs(index.search('"stage 2"')) == ["complaints"]
    assert slugs(index.search('"days working"')) == []
    # An unclosed quote is ignored: the rest are plain words.
    assert "complaints" in slugs(index.search('"stage 2 complaint'))


def test_prefix_while_typing(index: SearchIndex) -> None:
    assert slugs(index.search("sama"))[0] == "crisis-self-harm"
    assert slugs(index.search("repa"))[0] == "repair-priorities"
    assert slugs(index.search("stage 2 compl"))[0] == "complaints"


def test_typo_finds_document_and_suggests(index: SearchIndex) -> None:
    results = index.search("complant")
    assert slugs(results)[0] == "complaints"
    assert results.suggestion == "complaint"
    assert index.suggest("complant") == "complaint"
    assert index.suggest("samartians numbr") == "samaritans number"
    assert slugs(index.search("samartians numbr "))[0] == "crisis-self-harm"


def test_no_suggestion_when_the_typo_already_finds_everything(index: SearchIndex) -> None:
    # "emergancy" stems like "emergency", so it already matches: a suggestion would find
    # nothing more, and only a suggestion that finds clearly more is offered.
    results = index.search("emergancy repair")
    assert slugs(results)[0] == "repair-priorities"
    assert results.suggestion is None
    assert index.search("repairing").suggestion is None  # a real word form, not a typo


def test_no_suggestion_for_known_words(index: SearchIndex) -> None:
    assert index.search("complaint").suggestion is None
    assert index.suggest("samaritans number") is None
    assert index.search("sama").suggestion is None  # an unfinished word is not a typo


def test_synonyms_and_abbreviations(index: SearchIndex) -> None:
    assert slugs(index.search("ASB"))[0] == "anti-social-behaviour"
    assert slugs(index.search("fob"))[0] == "swipe-cards"
    assert slugs(index.search("OOH"))[0] == "opening-hours"
    assert "crisis-self-harm" in slugs(index.search("suicidal caller"))


def test_synonyms_file_reloads_without_reindex(tmp_path: Path) -> None:
    synonyms = tmp_path / "synonyms.txt"
    synonyms.write_text("# test\nasb, anti-social behaviour\n")
    ix = SearchIndex(tmp_path / "index", synonyms_path=synonyms)
    ix.ensure()
    for doc in CORPUS:
        ix.index_document(doc)
    assert slugs(ix.search("zorbcard ")) == []
    synonyms.write_text("asb, anti-social behaviour\nzorbcard, Swipe Card  # comment\n")
    stat = synonyms.stat()
    os.utime(synonyms, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert slugs(ix.search("zorbcard "))[0] == "swipe-cards"


def test_synonym_file_format() -> None:
    table = parse_synonyms(
        "# comment line\n"
        "ASB, Anti-Social Behaviour  # trailing comment\n"
        "\n"
        "fob, key fob, swipe card\n"
        "the, of\n"  # stop words only: ignored
        "lonely\n"
    )
    assert table[("asb",)] == [("anti", "social", "behaviour")]
    assert table[("anti", "social", "behaviour")] == [("asb",)]
    assert set(table[("fob",)]) == {normalise_terms("key fob"), normalise_terms("swipe card")}
    assert ("lonely",) not in table


def test_shipped_synonyms_file_loads() -> None:
    synonyms = Synonyms(DEFAULT_SYNONYMS)
    synonyms.refresh()
    assert ("anti", "social", "behaviour") in synonyms.lookup(("asb",))
    assert ("swipe", "card") in synonyms.lookup(("fob",))
    assert ("out", "hour") in synonyms.lookup(("ooh",))
    assert synonyms.max_words >= 3


def test_category_and_kind_filters(index: SearchIndex) -> None:
    in_category = index.search("call", category="Call handling")
    assert in_category.hits
    assert {hit.category for hit in in_category.hits} == {"Call handling"}
    scripts = index.search("caller", kind="script")
    assert scripts.hits and {hit.kind for hit in scripts.hits} == {"script"}
    assert index.search("repairs", category="No such category").total == 0
    assert index.categories() == sorted({d.category for d in CORPUS}, key=str.lower)


def test_snippet_marks_matches_and_escapes_html(index: SearchIndex) -> None:
    hit = index.search("web chat").hits[0]
    assert hit.slug == "web-chat"
    assert "<mark>" in hit.snippet
    assert "&lt;script&gt;" in hit.snippet
    assert "<script>" not in hit.snippet
    # Only <mark> tags are real markup; everything else is escaped.
    assert "<" not in re.sub(r"</?mark>", "", hit.snippet)
    assert 0 < len(re.sub(r"</?mark>", "", hit.snippet)) <= 260


def test_snippet_falls_back_to_summary_then_body(index: SearchIndex) -> None:
    summary_only = index.search("confidentiality").hits[0]  # only in the summary
    assert summary_only.slug == "remote-working"
    assert "<mark>confidentiality</mark>" in summary_only.snippet
    tagged = index.search("radio").hits[0]  # only a tag matches: plain body start
    assert tagged.slug == "phonetic-alphabet"
    assert tagged.snippet.startswith("Alpha, Bravo")


def test_hit_fields_and_results(index: SearchIndex) -> None:
    results = index.search("samaritans", limit=3)
    hit = results.hits[0]
    assert (hit.slug, hit.kind, hit.category) == ("crisis-self-harm", "script", "Safeguarding")
    assert hit.title == BY_SLUG["crisis-self-harm"].title
    assert hit.summary == BY_SLUG["crisis-self-harm"].summary
    assert hit.score > 0 and results.total >= 1 and results.took_ms >= 0
    assert results.query == "samaritans"


MALFORMED = [
    "",
    "   \t\n ",
    "AND",
    "OR",
    "NOT",
    "AND OR NOT",
    "repairs AND",
    "NOT repairs",
    "*",
    "repair*",
    "?",
    "(",
    ")",
    "[repair TO x]",
    "{}",
    "title:repairs",
    "body:",
    ":",
    "::::",
    '"',
    '""',
    '"unbalanced quote',
    '"one" "two',
    "repair~2 hold^3 -noise +stage",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "%s %d {0}",
    "\x00\x01\x1f\x7f",
    "repair\u200bs",
    "\ud800 lone surrogate",
    "ремонт",
    "修理 水漏れ",
    "إصلاح التسرب",
    "🚰💧🔥",
    "a" * 10_000,
    "repair " * 2_000,
    "x" * 199 + " complaint",
]


@pytest.mark.parametrize("query", MALFORMED)
def test_malformed_queries_never_raise(shared_index: SearchIndex, query: str) -> None:
    results = shared_index.search(query)
    assert isinstance(results, Results)
    assert results.total >= len(results.hits)
    shared_index.suggest(query)


def test_empty_query_gives_empty_results(shared_index: SearchIndex) -> None:
    for query in ("", "   ", "the and of"):
        results = shared_index.search(query)
        assert (results.total, results.hits, results.suggestion) == (0, [], None)


def test_long_query_is_truncated_but_answers(shared_index: SearchIndex) -> None:
    results = shared_index.search("complaint " + "zzzz " * 3_000)
    assert slugs(results)[0] == "complaints"
    assert results.took_ms < 1_000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.text(max_size=300))
def test_any_text_is_a_safe_query(shared_index: SearchIndex, query: str) -> None:
    results = shared_index.search(query, category="Repairs")
    assert results.total >= len(results.hits)


# ----- writing, catch-up and repair ---------------------------------------------


def test_index_document_twice_keeps_one(index: SearchIndex) -> None:
    doc = BY_SLUG["hold-etiquette"]
    index.index_document(doc)
    index.index_document(doc)
    assert slugs(index.search("hold")).count("hold-etiquette") == 1
    assert index.health() == {"documents": len(CORPUS), "status": "ok"}


def test_update_is_visible_without_stale_duplicates(index: SearchIndex) -> None:
    """Regression: Searcher.refresh() after update_document returned stale duplicates."""
    before = index.search("phonetic")  # opens and caches this process's searcher
    assert slugs(before) == ["phonetic-alphabet"]
    old_searcher = index._current()
    changed = dataclasses.replace(
        BY_SLUG["phonetic-alphabet"],
        body="Use Alpha, Bravo, Charlie for postcodes. Quebec means Q.",
        sha256="changed",
    )
    index.index_document(changed)
    assert not old_searcher.up_to_date()
    fresh = index._current()
    assert fresh is not old_searcher and fresh.up_to_date()
    assert fresh.doc_count() == len(CORPUS)
    stored = list(fresh.documents(slug="phonetic-alphabet"))
    assert len(stored) == 1 and "Quebec" in stored[0]["body"]
    after = index.search("phonetic")
    assert slugs(after) == ["phonetic-alphabet"] and after.total == 1
    assert slugs(index.search("quebec")) == ["phonetic-alphabet"]
    assert slugs(index.search("foxtrot")) == []  # old text gone
    assert index.indexed()["phonetic-alphabet"] == "changed"


def test_repeated_updates_never_duplicate(index: SearchIndex) -> None:
    for version in range(5):
        assert index.search("hold").total == 1  # searcher cached, then made stale
        doc = dataclasses.replace(
            BY_SLUG["hold-etiquette"],
            body=f"Version {version} of the hold text.",
            sha256=str(version),
        )
        index.index_document(doc)
        results = index.search("hold")
        assert slugs(results) == ["hold-etiquette"] and results.total == 1
        assert index.indexed()["hold-etiquette"] == str(version)


def test_remove(index: SearchIndex) -> None:
    index.remove("web-chat")
    index.remove("never-indexed")
    assert slugs(index.search("web chat")) == [] or "web-chat" not in slugs(index.search("chat"))
    assert "web-chat" not in index.indexed()
    assert "Channels" not in index.categories()


def test_catch_up_adds_updates_and_removes(index: SearchIndex) -> None:
    keep, change, drop = "complaints", "hold-etiquette", "web-chat"
    new = make_doc("lost-keys", "Lost keys", "Locked out of your home.", "Call a locksmith.")
    changed = dataclasses.replace(
        BY_SLUG[change], body="Hold music must be switched on.", sha256="v2"
    )
    documents = {d.slug: d for d in CORPUS if d.slug != drop}
    documents[change] = changed
    documents[new.slug] = new
    current = {slug: d.sha256 for slug, d in documents.items()}
    loaded: list[str] = []

    def load(slug: str) -> Document:
        loaded.append(slug)
        return documents[slug]

    result = index.catch_up(current, load)
    assert result == {"added": 1, "updated": 1, "removed": 1}
    assert sorted(loaded) == ["hold-etiquette", "lost-keys"]
    assert keep not in loaded
    assert index.indexed() == current
    assert slugs(index.search("locksmith")) == ["lost-keys"]
    assert slugs(index.search("music")) == ["hold-etiquette"]
    assert index.catch_up(current, load) == {"added": 0, "updated": 0, "removed": 0}


def test_catch_up_skips_documents_that_fail_to_load(index: SearchIndex) -> None:
    current = {**index.indexed(), "ghost": "sha"}

    def load(slug: str) -> Document:
        raise LookupError(slug)

    assert index.catch_up(current, load) == {
        "added": 0,
        "updated": 0,
        "removed": 0,
        "failed": ["ghost"],
    }


def test_catch_up_batches_and_bulk_refill(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("kb.search.engine.BATCH_SIZE", 3)
    ix = SearchIndex(tmp_path / "index")
    ix.ensure()
    current = {d.slug: d.sha256 for d in CORPUS}
    # Empty index and many documents: refilled as one fresh build.
    assert _catch_up_from_corpus(ix) == {"added": len(CORPUS), "updated": 0, "removed": 0}
    assert ix.indexed() == current
    # Many changes to a filled index: written in batches of BATCH_SIZE commits.
    changed = {slug: sha + "-v2" for slug, sha in current.items()}
    docs = {d.slug: dataclasses.replace(d, sha256=changed[d.slug]) for d in CORPUS}
    assert ix.catch_up(changed, docs.__getitem__)["updated"] == len(CORPUS)
    assert ix.indexed() == changed
    assert ix.search("samaritans").total == 1


def _catch_up_from_corpus(ix: SearchIndex) -> dict:
    return ix.catch_up({d.slug: d.sha256 for d in CORPUS}, BY_SLUG.__getitem__)


def test_rebuild_from_deleted_directory(index: SearchIndex) -> None:
    shutil.rmtree(index.index_dir)
    fresh = SearchIndex(index.index_dir)
    assert fresh.ensure() == "created"
    assert fresh.search("samaritans").total == 0
    assert _catch_up_from_corpus(fresh)["added"] == len(CORPUS)
    assert slugs(fresh.search("samaritans"))[0] == "crisis-self-harm"


def test_rebuild_from_corrupted_directory(index: SearchIndex) -> None:
    for path in index.index_dir.iterdir():
        if path.is_file():
            path.write_bytes(os.urandom(64) + b"garbage" * 50)
    fresh = SearchIndex(index.index_dir)
    assert fresh.ensure() == "recreated"
    assert fresh.health()["status"] == "degraded"  # empty until the database refills it
    assert _catch_up_from_corpus(fresh)["added"] == len(CORPUS)
    assert fresh.health() == {"documents": len(CORPUS), "status": "ok"}
    assert slugs(fresh.search("ASB"))[0] == "anti-social-behaviour"


def test_missing_toc_is_recreated(index: SearchIndex) -> None:
    for toc in index.index_dir.glob("*.toc"):
        toc.unlink()
    fresh = SearchIndex(index.index_dir)
    assert fresh.ensure() == "recreated"
    assert fresh.health()["documents"] == 0


def test_search_on_broken_open_index_does_not_raise(index: SearchIndex) -> None:
    assert index.search("samaritans").hits  # the searcher is open
    for path in index.index_dir.iterdir():
        if path.is_file():
            path.write_bytes(b"\x00garbage" * 100)
    (index.index_dir / "_MAIN_999.toc").write_bytes(b"not a toc")  # looks newer
    results = index.search("samaritans")
    assert results.hits == [] and results.total == 0
    health = index.health()
    assert health["status"] == "error" and health["reason"]
    assert index.ensure() in {"ok", "recreated"}
    _catch_up_from_corpus(index)
    assert slugs(index.search("samaritans"))[0] == "crisis-self-harm"
    assert index.health()["status"] == "ok"


def test_rebuild_swaps_in_while_searches_answer(index: SearchIndex) -> None:
    seen: list[int] = []

    def documents():
        for doc in CORPUS[:5]:
            # The old index (all of CORPUS) keeps answering during the build.
            seen.append(index.search("samaritans").total)
            yield doc

    progress: list[int] = []
    assert index.rebuild(documents(), total=5, progress=progress.append) == 5
    assert seen == [1] * 5
    assert progress[-1] == 5
    assert index.health() == {"documents": 5, "status": "ok"}
    assert set(index.indexed()) == {d.slug for d in CORPUS[:5]}
    leftovers = [p for p in index.index_dir.parent.iterdir() if ".rebuild-" in p.name]
    assert leftovers == []


def test_writer_lock_times_out_with_index_busy(index: SearchIndex) -> None:
    other = SearchIndex(index.index_dir, writer_timeout=0.2)
    other.ensure()
    holder = index._ix.writer()  # another writer holds the lock, as another process would
    try:
        started = time.monotonic()
        with pytest.raises(IndexBusy) as busy:
            other.index_document(make_doc("late", "Late", "Late.", "Late arrival."))
        assert 0.15 <= time.monotonic() - started < 5
        assert "try again" in str(busy.value)
        with pytest.raises(IndexBusy):
            other.remove("complaints")
    finally:
        holder.cancel()
    assert other.health() == {"documents": len(CORPUS), "status": "ok"}
    other.index_document(make_doc("late", "Late", "Late.", "Late arrival."))
    assert slugs(index.search("arrival")) == ["late"]


def test_other_process_writes_are_visible(index: SearchIndex) -> None:
    assert index.search("xylophone").total == 0  # searcher open before the write
    code = textwrap.dedent(
        f"""
        from datetime import datetime
        from kb.search.engine import Document, SearchIndex
        ix = SearchIndex({str(index.index_dir)!r})
        ix.index_document(Document("music", "article", "Hold music", "Xylophone tune.",
                                   [], "Call handling", "The xylophone plays.", "m1",
                                   datetime(2024, 1, 1)))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
    assert slugs(index.search("xylophone")) == ["music"]


def test_parallel_rebuild_answers_like_a_single_process_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = ["samaritans", "ASB", '"working days"', "complant", "repa", "fob"]
    single = SearchIndex(tmp_path / "single")
    single.rebuild(CORPUS, total=len(CORPUS))
    # Large rebuilds use one writer process per core; force that path on the small corpus.
    monkeypatch.setattr("kb.search.engine.PARALLEL_BUILD_FROM", 1)
    parallel = SearchIndex(tmp_path / "parallel")
    assert parallel.rebuild(CORPUS, total=len(CORPUS)) == len(CORPUS)
    assert parallel.health() == {"documents": len(CORPUS), "status": "ok"}
    for query in queries:
        assert slugs(parallel.search(query)) == slugs(single.search(query)), query
