"""Regulatory packs: the shipped data, `flask load-standards`, and what the sets compute."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from kb.extensions import db
from kb.models import Article, ArticleVersion, AuditLog
from kb.tools.duedates.arithmetic import extension_sentence, sentence
from kb.tools.duedates.models import ResponseStandard, StandardSet
from kb.tools.duedates.packs import PACKS_DIR, available_packs, read_pack
from kb.tools.duedates.services import SEED_FILE, compute_chain, list_standards, save_set
from tests.conftest import login, user_named

PACKS = ("awaabs-law", "complaint-handling-code")
TODAY = date(2026, 12, 3)


def _load(runner, pack: str | Path):
    return runner.invoke(args=["load-standards", str(pack)])


def _put_in_force(key: str) -> StandardSet:
    chosen = db.session.scalar(db.select(StandardSet).filter_by(key=key))
    save_set(chosen, user=user_named("manager"), label=chosen.label, region=chosen.region,
             in_force=True)
    db.session.commit()
    return chosen


def _counts() -> tuple[int, int, int, int]:
    """Audit rows, article versions, sets and standards: what a refused load must not add."""
    return tuple(db.session.scalar(db.select(db.func.count(model.id))) for model in
                 (AuditLog, ArticleVersion, StandardSet, ResponseStandard))


def _copy(pack: str, tmp_path: Path) -> Path:
    target = tmp_path / "packs" / pack
    shutil.copytree(PACKS_DIR / pack, target)
    return target


def _edit(folder: Path, old: str, new: str) -> None:
    path = folder / "pack.yml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


# The shipped data ----------------------------------------------------------------------


def test_both_packs_are_shipped():
    assert set(PACKS) <= set(available_packs())


@pytest.mark.parametrize("pack", PACKS)
def test_every_figure_has_a_citation_and_the_pack_its_source(pack):
    data = read_pack(PACKS_DIR / pack)
    assert data["source"].strip() and data["source_url"].startswith("https://")
    assert data["checked_on"] == TODAY and data["region"] == "ENG"
    assert data["notes"].strip()  # what was left out, and why
    for row in data["standards"]:
        assert len(row["citation"].strip()) > 20, row["key"]
        assert row["promise"].strip(), row["key"]
        if row.get("extension_days"):
            assert row["extension_note"].strip(), row["key"]
    # The article says where its words come from and when that was checked.
    for article in (PACKS_DIR / pack / "articles").glob("*.md"):
        text = article.read_text(encoding="utf-8")
        assert "Source:" in text and "checked 3 December 2026" in text.replace("\n", " ")


def test_pack_keys_do_not_clash_with_the_shipped_policy():
    policy = {row["key"] for row in yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))}
    pack_keys = [row["key"] for pack in PACKS
                 for row in read_pack(PACKS_DIR / pack)["standards"]]
    assert len(pack_keys) == len(set(pack_keys))
    assert not policy & set(pack_keys)


# Loading -------------------------------------------------------------------------------


@pytest.mark.parametrize("pack", PACKS)
def test_a_shipped_pack_loads_out_of_force(app, runner, pack):
    result = _load(runner, pack)
    assert result.exit_code == 0, result.output
    assert "created" in result.output and "4 added" in result.output
    assert "NOT in force" in result.output and "/tools/due-date/standards" in result.output
    with app.app_context():
        chosen = db.session.scalar(db.select(StandardSet).filter_by(key=pack))
        assert chosen is not None and not chosen.in_force
        assert chosen.checked_on == TODAY and chosen.source_url.startswith("https://")
        assert len(chosen.standards) == 4 and all(s.active for s in chosen.standards)
        offered = {s.key for s in list_standards()}
        assert not offered & {s.key for s in chosen.standards}
        assert "email" in offered  # our policy is still what the calculator offers
        loads = db.session.scalars(db.select(AuditLog).filter_by(
            action="standard_set.load")).all()
        assert len(loads) == 1 and loads[0].detail["created"] is True


def test_the_list_says_what_is_loaded_and_in_force(app, runner):
    before = runner.invoke(args=["load-standards", "--list"])
    assert before.exit_code == 0
    assert "awaabs-law: Awaab's Law" in before.output and "not loaded" in before.output
    _load(runner, "awaabs-law")
    with app.app_context():
        _put_in_force("awaabs-law")
    after = runner.invoke(args=["load-standards", "--list"]).output
    awaab = next(line for line in after.splitlines() if line.startswith("awaabs-law"))
    code = next(line for line in after.splitlines() if line.startswith("complaint-handling"))
    assert awaab.endswith(", in force.") and code.endswith("not loaded.")


def test_loading_twice_changes_nothing_the_second_time(app, runner):
    assert _load(runner, "complaint-handling-code").exit_code == 0
    with app.app_context():
        before = _counts()
    again = _load(runner, "complaint-handling-code")
    assert again.exit_code == 0, again.output
    assert "unchanged; standards 0 added, 0 changed, 0 retired" in again.output
    assert "0 new, 0 updated, 1 unchanged" in again.output
    with app.app_context():
        assert _counts() == before


def test_a_manager_s_choices_survive_a_reload(app, runner):
    _load(runner, "awaabs-law")
    with app.app_context():
        chosen = db.session.scalar(db.select(StandardSet).filter_by(key="awaabs-law"))
        save_set(chosen, user=user_named("manager"), label="Awaab's Law", region="ENG",
                 in_force=True)
        db.session.commit()
    result = _load(runner, "awaabs-law")
    assert "This set is in force" in result.output
    with app.app_context():
        chosen = db.session.scalar(db.select(StandardSet).filter_by(key="awaabs-law"))
        assert chosen.label == "Awaab's Law" and chosen.in_force


def test_a_changed_figure_updates_the_standard_and_is_audited(app, runner, tmp_path):
    _load(runner, "awaabs-law")
    folder = _copy("awaabs-law", tmp_path)
    _edit(folder, "rule: working_days\n    amount: 10\n",
          "rule: working_days\n    amount: 12\n")
    result = _load(runner, folder)
    assert result.exit_code == 0, result.output
    assert "updated; standards 0 added, 1 changed, 0 retired" in result.output
    assert "changed: awaab-significant-investigate" in result.output
    with app.app_context():
        standard = db.session.scalar(db.select(ResponseStandard).filter_by(
            key="awaab-significant-investigate"))
        assert standard.amount == 12
        loads = db.session.scalars(db.select(AuditLog).filter_by(
            action="standard_set.load").order_by(AuditLog.id)).all()
        assert len(loads) == 2
        assert loads[-1].detail["changed"] == ["awaab-significant-investigate"]
        assert loads[-1].detail["created"] is False


def test_a_standard_dropped_from_the_pack_is_retired_not_deleted(app, runner, tmp_path):
    _load(runner, "awaabs-law")
    folder = _copy("awaabs-law", tmp_path)
    data = yaml.safe_load((folder / "pack.yml").read_text(encoding="utf-8"))
    data["standards"] = [s for s in data["standards"] if s["key"] != "awaab-written-summary"]
    (folder / "pack.yml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = _load(runner, folder)
    assert result.exit_code == 0, result.output
    assert "retired: awaab-written-summary" in result.output
    with app.app_context():
        _put_in_force("awaabs-law")
        kept = db.session.scalar(db.select(ResponseStandard).filter_by(
            key="awaab-written-summary"))
        assert kept is not None and not kept.active
        offered = {s.key for s in list_standards()}
        assert "awaab-written-summary" not in offered and "awaab-safety-work" in offered
        assert db.session.scalars(db.select(AuditLog).filter_by(
            action="standard_set.load").order_by(AuditLog.id.desc())).first().detail[
            "retired"] == ["awaab-written-summary"]


# Refused packs -------------------------------------------------------------------------

BAD = {
    "missing-source": (("source: >-\n", "sourcery: >-\n"), "is missing source"),
    "broken-yaml": (("key: awaabs-law\n", "key: [awaabs-law\n"), "is not readable YAML"),
    "unknown-rule": (("rule: calendar_hours\n", "rule: fortnightly\n"),
                     "awaab-emergency: Rule must be one of"),
    "clash": (("key: awaab-emergency\n", "key: email\n"),
              "The key 'email' is already used by a standard in “Our policy”"),
    "not-a-number": (("amount: 24\n", "amount: a day\n"), "must be whole numbers"),
    "typo": (("    promise: make your home safe\n", "    promis: make your home safe\n"),
             "unknown field(s) promis"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_pack_is_refused_with_a_message_and_changes_nothing(app, runner, tmp_path,
                                                                   case):
    (old, new), message = BAD[case]
    folder = _copy("awaabs-law", tmp_path)
    _edit(folder, old, new)
    with app.app_context():
        before = _counts()
    result = _load(runner, folder)
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1  # one line, no traceback
    with app.app_context():
        assert _counts() == before
        assert db.session.scalar(db.select(Article).filter_by(slug="damp-and-mould")) is None


def test_a_pack_with_a_broken_article_is_refused_whole(app, runner, tmp_path):
    folder = _copy("awaabs-law", tmp_path)
    (folder / "articles" / "broken.md").write_text("no front matter here\n", encoding="utf-8")
    with app.app_context():
        before = _counts()
    result = _load(runner, folder)
    assert result.exit_code != 0 and "broken.md" in result.output
    with app.app_context():
        assert _counts() == before
        assert db.session.scalar(db.select(StandardSet).filter_by(key="awaabs-law")) is None


def test_a_pack_never_overwrites_an_article_that_is_not_its_own(app, runner, tmp_path,
                                                                make_article):
    make_article("complaints", title="Complaints")
    assert runner.invoke(args=["import-content"]).exit_code == 0
    folder = _copy("awaabs-law", tmp_path)
    article = folder / "articles" / "damp-and-mould.md"
    article.write_text(article.read_text(encoding="utf-8").replace(
        "slug: damp-and-mould", "slug: complaints"), encoding="utf-8")
    with app.app_context():
        before = _counts()
    result = _load(runner, folder)
    assert result.exit_code != 0
    assert "the slug 'complaints' is already used by the article “Complaints”" in result.output
    with app.app_context():
        assert _counts() == before


def test_an_unknown_pack_names_the_shipped_ones(runner):
    result = _load(runner, "no-such-pack")
    assert result.exit_code != 0
    assert "awaabs-law" in result.output and "complaint-handling-code" in result.output


# What the sets compute -----------------------------------------------------------------


def test_the_code_counts_stage_1_from_the_acknowledgement(app, runner):
    _load(runner, "complaint-handling-code")
    with app.app_context():
        _put_in_force("complaint-handling-code")
        # Saturday 29 August 2026; Monday 31st is the summer bank holiday. Acknowledgement
        # day 5 is Monday 7 September; the response's day 10 counts on from there.
        chain = compute_chain("chc-stage-1-response", now=datetime(2026, 8, 29, 10, 0))
        ack, response = chain.steps
        assert chain.inputs == ["received", "acknowledged"]
        assert _day(ack.result.due) == "2026-09-07"
        assert _day(response.result.due) == "2026-09-21"
        assert _day(response.result.extended) == "2026-10-05"  # 10 more working days
        assert sentence(response.result, TODAY) == (
            "We will send you our response to your complaint by Monday 21 September.")
        assert extension_sentence(response.result, TODAY, "we are waiting for a survey") == (
            "We need more time to send you our response to your complaint because we are "
            "waiting for a survey. We will do so by Monday 5 October.")
        # Acknowledged early, on Tuesday 1 September: ten working days from then.
        recorded = compute_chain("chc-stage-1-response",
                                 {"acknowledged": datetime(2026, 9, 1, 11, 0)},
                                 now=datetime(2026, 8, 29, 10, 0))
        assert _day(recorded.steps[-1].result.due) == "2026-09-15"


def test_the_code_counts_stage_2_from_the_escalation_over_christmas(app, runner):
    _load(runner, "complaint-handling-code")
    with app.app_context():
        _put_in_force("complaint-handling-code")
        # Escalated Monday 21 December 2026: Christmas Day (Friday), Boxing Day's
        # substitute (Monday 28th) and New Year's Day (Friday 1 January) are not counted.
        chain = compute_chain("chc-stage-2-response",
                              {"escalated": datetime(2026, 12, 21, 16, 0)})
        ack, response = chain.steps
        assert chain.inputs == ["escalated", "acknowledged"]
        assert ack.recorded and _day(ack.result.due) == "2026-12-30"
        assert _day(response.result.due) == "2027-01-28"
        assert response.result.extended is None  # the stage 2 cap is not in the pack
        assert sentence(ack.result, TODAY) == ("We will acknowledge your request to take "
                                               "your complaint to stage 2 by Wednesday "
                                               "30 December.")


def test_awaab_emergency_is_24_hours_round_the_clock(app, runner):
    _load(runner, "awaabs-law")
    with app.app_context():
        _put_in_force("awaabs-law")
        # Reported 12:00 on Saturday 24 October 2026; the clocks go back that night, so
        # 24 hours later the clock on the wall says 11:00 on Sunday.
        result = compute_chain("awaab-emergency", now=datetime(2026, 10, 24, 12, 0)).result
        assert result.due.strftime("%Y-%m-%d %H:%M") == "2026-10-25 11:00"
        assert sentence(result, TODAY) == (
            "We will investigate and make your home safe by 11:00 on Sunday 25 October.")


def test_awaab_significant_hazard_chain(app, runner):
    _load(runner, "awaabs-law")
    with app.app_context():
        _put_in_force("awaabs-law")
        # Reported Thursday 24 December 2026: day 1 is Tuesday 29 December.
        received = datetime(2026, 12, 24, 15, 0)
        investigate = compute_chain("awaab-significant-investigate", now=received).result
        assert _day(investigate.due) == "2027-01-12"
        summary = compute_chain("awaab-written-summary", now=received)
        assert summary.inputs == ["received", "investigated"]
        assert _day(summary.result.due) == "2027-01-15"
        assert _day(compute_chain("awaab-safety-work", now=received).result.due) == (
            "2027-01-19")
        # The investigation finished early, on Monday 2 November 2026.
        done = {"received": datetime(2026, 10, 26, 9, 0),
                "investigated": datetime(2026, 11, 2, 14, 0)}
        assert _day(compute_chain("awaab-written-summary", done).result.due) == "2026-11-05"
        safety = compute_chain("awaab-safety-work", done).result
        assert _day(safety.due) == "2026-11-09"
        assert sentence(safety, TODAY) == "We will make your home safe by Monday 9 November."


# The articles --------------------------------------------------------------------------


def _search(client, query: str) -> list[str]:
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code == 200
    return [r["slug"] for r in response.get_json()["results"]]


def test_the_packs_articles_are_imported_and_found_by_search(app, runner, client):
    assert "damp-and-mould" in _load(runner, "awaabs-law").output
    assert "complaints-ombudsman-code" in _load(runner, "complaint-handling-code").output
    with app.app_context():
        article = db.session.scalar(db.select(Article).filter_by(slug="damp-and-mould"))
        assert article.title == "Damp and mould: what happens and when"
        assert article.source_path == "awaabs-law/articles/damp-and-mould.md"
        assert article.category == "Repairs"
    assert login(client, "agent").status_code == 302
    assert _search(client, "black mould")[0] == "damp-and-mould"
    assert "damp-and-mould" in _search(client, "awaab")
    assert "complaints-ombudsman-code" in _search(client, "housing ombudsman")
    page = client.get("/articles/damp-and-mould")
    assert page.status_code == 200 and "10 working days" in page.get_data(as_text=True)
