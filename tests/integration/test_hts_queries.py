"""Questions on the HTS itself (one line, full-text search, two dates compared), asked of the
read model (SQL: FTS5 on SQLite, tsvector on PostgreSQL) and of a fold of the log, on both
backends; and the nomenclature in `diff` and `history`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.domain.nomenclature import Nomenclature, codes_in_force
from tariff_timeline.events.instants import micros
from tariff_timeline.projections.replay import fold_at
from tariff_timeline.projections.versions import STATE_ADAPTERS
from tariff_timeline.readmodel.codec import Decoded
from tariff_timeline.readmodel.reader import ReadModelReader
from tariff_timeline.readmodel.tables import HtsLineRow
from tariff_timeline.service import QueryPath
from tests.builders import hts_line, imposed, revised
from tests.conftest import FakeClock

HORSES = revised("r1-ch01", "r1", "01", known="2025-05-10", start="2025-05-16", baseline=True,
                 added=(
    hts_line("0101", "Live horses, asses, mules and hinnies:"),
    hts_line("01012100", "Purebred breeding animals", indent=2, parent="0101",
             superiors=("Horses:",), general="Free", other="Free"),
    hts_line("0101210010", "Males", indent=3, parent="01012100", units=("No.",)),
    hts_line("0101210020", "Females", indent=3, parent="01012100", units=("No.",)),
    hts_line("0101300000", "Asses", indent=1, parent="0101", units=("No.",), general="6.8%",
             other="15%"),
))
COFFEE = revised("r1-ch09", "r1", "09", known="2025-05-10", start="2025-05-16", baseline=True,
                 added=(
    hts_line("0901", "Coffee, whether or not roasted or decaffeinated"),
    hts_line("09011100", "Not decaffeinated", indent=2, parent="0901",
             superiors=("Coffee, not roasted:",), general="Free", other="Free"),
    hts_line("0901110015", "Arabica", indent=3, parent="09011100", units=("kg",)),
    hts_line("0901110025", "Robusta, in bags", indent=3, parent="09011100", units=("kg",)),
    hts_line("09012100", "Roasted beans", indent=2, parent="0901",
             general="4.4¢/kg + 6%", other="Free"),
))
COFFEE_LATER = revised("r2-ch09", "r2", "09", known="2025-12-01", start="2025-12-05", added=(
    hts_line("0901110035", "Robusta, other", indent=3, parent="09011100", units=("kg",)),
), changed=(
    hts_line("09011100", "Not decaffeinated, green", indent=2, parent="0901",
             superiors=("Coffee, not roasted:",), general="2%", other="Free"),
), removed=("0901110025",))
# A measure, so that the store is not refused as empty of policy.
DUTY = imposed("duty-1", "m-coffee", known="2025-04-01", start="2025-04-05", percent=10,
               products=("0901",))
EVENTS = (DUTY, HORSES, COFFEE, COFFEE_LATER)
SEARCHES = ("coffee", "roasted coffee", "coffee roasted", "robusta", "horses breeding",
            "not decaffeinated", "asses", "rob", "kg", "mules hinnies")


@pytest.fixture
def recorded(timeline: TariffTimeline, clock: FakeClock) -> TariffTimeline:
    """A store holding two revisions of a small HTS (coffee re-rated, a line removed and one
    added in the second), recorded in two appends a day apart."""
    timeline.record_events([DUTY, HORSES, COFFEE])
    clock.advance(days=1)
    timeline.record_events([COFFEE_LATER])
    clock.advance(days=1)
    return timeline


@pytest.fixture
def both(recorded: TariffTimeline) -> Iterator[tuple[TariffTimeline, TariffTimeline]]:
    """The same store asked through its read model and through a fold of its log."""
    yield recorded, TariffTimeline(recorded.store, recorded.read_model, QueryPath.FOLD)


class TestOneLine:
    def test_a_lines_revision_starts_at_the_offset_its_event_wrote_on_both_paths(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        # Given the first revision, in force from 2025-05-16 (12:01 a.m. Eastern, EDT)
        for code, at in (("0901.11.00", "2025-06-01"), ("0101.30.00", "2025-05-01")):
            # When a line and a search are answered by the read model and by the fold
            line = [t.hts_line(code, at).model_dump(mode="json") for t in both]
            found = [t.hts_search("coffee", at).model_dump(mode="json")["revision"]
                     for t in both]
            # Then both read the same, the revision's start as its event wrote it (a search's
            # scores are each engine's own)
            assert line[0] == line[1]
            assert line[0]["revision"] == found[0] == found[1]
            assert found[0]["effective_from"] == "2025-05-16T00:01:00-04:00"

    def test_a_line_shows_its_path_rates_children_and_revision(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            # when
            answer = timeline.hts_line("0901.11.00", "2025-12-10")
            # then
            assert answer.code == "0901.11.00" and answer.description == "Not decaffeinated, green"
            assert [(s.code, s.description) for s in answer.path] == [
                ("0901", "Coffee, whether or not roasted or decaffeinated"),
                (None, "Coffee, not roasted:"), ("0901.11.00", "Not decaffeinated, green")]
            assert answer.rates.general == "2%" and answer.rates.general_ad_valorem == 2
            assert answer.rates.general_kind == "ad_valorem"
            assert [c.code for c in answer.children] == ["0901.11.00.15", "0901.11.00.35"]
            assert answer.revision.revision == "r2" and answer.event == "r2-ch09"
            assert answer.since.date().isoformat() == "2025-12-05"

    def test_a_compound_rate_is_shown_as_written_with_its_ad_valorem_part(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            rates = timeline.hts_line("0901.21.00", "2025-06-01").rates
            assert rates.general == "4.4¢/kg + 6%"
            assert rates.general_kind == "compound" and rates.general_ad_valorem == 6

    def test_the_revision_in_force_is_the_one_of_the_entry_date(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            earlier = timeline.hts_line("0901.11.00", "2025-08-01")
            assert earlier.rates.general == "Free" and earlier.revision.revision == "r1"
            assert [c.code for c in earlier.children] == ["0901.11.00.15", "0901.11.00.25"]

    def test_a_date_before_the_first_revision_is_answered_by_it_with_a_note(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            answer = timeline.hts_line("0101.30.00.00", "2025-01-02")
            assert answer.revision.before_first and answer.revision.revision == "r1"
            assert any("precedes the first HTS revision" in note for note in answer.notes)

    def test_a_known_date_before_a_revision_was_published_does_not_see_it(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            # given the second revision was announced on 2025-12-01
            answer = timeline.hts_line("0901.11.00", "2025-12-10", known="2025-11-30")
            # then the first revision still answers for December
            assert answer.rates.general == "Free" and answer.revision.revision == "r1"
            assert answer.known.date().isoformat() == "2025-11-30"

    def test_a_known_date_before_any_revision_was_published_is_refused_naming_known(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            asks = (lambda t: t.hts_line("0901", "2025-06-01", known="2025-05-01"),
                    lambda t: t.hts_search("coffee", "2025-06-01", known="2025-05-01"),
                    lambda t: t.hts_diff("2025-06-01", "2026-01-10", known="2025-05-01"))
            for ask in asks:
                with pytest.raises(InvalidInput) as refused:
                    ask(timeline)
                assert refused.value.field == "known"
                assert "no HTS revision is known" in refused.value.message

    def test_a_recorded_time_before_a_revision_was_recorded_does_not_see_it(
            self, both: tuple[TariffTimeline, TariffTimeline], clock: FakeClock) -> None:
        for timeline in both:
            before = clock.now.replace(day=clock.now.day - 2).isoformat()
            answer = timeline.hts_line("0901.11.00", "2025-12-10", recorded=before)
            assert answer.rates.general == "Free"

    def test_a_code_that_is_not_a_line_is_refused_naming_the_nearest(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            with pytest.raises(InvalidInput) as refused:
                timeline.hts_line("0901.11.00.25", "2026-01-10")  # removed in r2
            assert refused.value.field == "code"
            assert "nearest: 0901.11.00.15" in refused.value.message
            with pytest.raises(InvalidInput) as elsewhere:
                timeline.hts_line("0201.10", "2026-01-10")  # a chapter the store lacks
            assert "nearest:" in elsewhere.value.message


SPECIAL = revised("r1-ch98", "r1", "98", known="2025-05-10", start="2025-05-16", baseline=True,
                  added=(
    hts_line("9823", "Special classification provisions"),
    hts_line("98230301", "Goods under a program", indent=1, parent="9823", general="Free"),
    # Its parent is not a prefix of its code, as in USITC's chapter 98.
    hts_line("98230302", "Goods of that program, other", indent=2, parent="98230301"),
))


@pytest.fixture
def with_special(recorded: TariffTimeline, clock: FakeClock) -> TariffTimeline:
    """The store with a chapter-98 line whose parent is not its prefix (`SPECIAL`) recorded
    a day later."""
    recorded.record_events([SPECIAL])
    clock.advance(days=1)
    return recorded


@pytest.fixture
def both_special(with_special: TariffTimeline) -> tuple[TariffTimeline, TariffTimeline]:
    """That store asked through its read model and through a fold of its log."""
    return with_special, TariffTimeline(with_special.store, with_special.read_model,
                                        QueryPath.FOLD)


class TestARateQuestionReadsOnlyItsCodesLines:
    """A rate question reads, of the HTS, only the revisions of its code's chapter and the
    lines that are the code, lie under it or are its ancestors; it answers as the whole
    chapter does, and a code that is not a line still names the nearest ones."""

    CODES = ("0101", "0101.21", "0101.21.00", "0101.21.00.10", "0101.30.00.00", "0101.30",
             "0901.11.00", "0901.11.00.25", "0901.11.00.35", "0901.21.00", "0901.21",
             "9823.03.02", "9823.03.01", "0102", "0901.99.00", "2204")
    DATES = ("2025-01-02", "2025-06-01", "2025-12-04", "2025-12-05", "2026-02-01",
             "2026-03-02")
    # A third revision of coffee, so that a question between the first and the last reads
    # neither all of the chapter's revisions nor only its first and latest.
    COFFEE_THIRD = revised("r3-ch09", "r3", "09", known="2025-12-20", start="2026-03-01",
                           changed=(hts_line("09012100", "Roasted beans", indent=2,
                                             parent="0901", general="5%", other="Free"),))

    def test_each_answer_and_refusal_equals_the_folds(
            self, both_special: tuple[TariffTimeline, TariffTimeline], clock: FakeClock,
            monkeypatch: pytest.MonkeyPatch) -> None:
        by_model, by_fold = both_special
        by_model.record_events([self.COFFEE_THIRD])
        clock.advance(days=1)
        decoded: list[str] = []
        chapter_adapter = STATE_ADAPTERS["chapter"]
        real_get = Decoded.get

        def watched(cache: Decoded[object], key: int, text: str, adapter: Any,
                    held: dict[int, object] | None = None) -> object:
            if adapter is chapter_adapter:
                decoded.append(text[:40])
            return real_get(cache, key, text, adapter, held)

        monkeypatch.setattr(Decoded, "get", watched)
        asked = refused = 0
        for code in self.CODES:
            for entered in self.DATES:
                for known in (None, "2025-11-30", "2025-12-10"):
                    answers: list[object] = []
                    for timeline in (by_model, by_fold):
                        try:
                            answers.append(timeline.rate_on(
                                origin="BR", hts=code, entered=entered, known=known,
                                mfn="2").model_dump(mode="json"))
                        except InvalidInput as problem:
                            answers.append((problem.field, str(problem)))
                    assert answers[0] == answers[1], (code, entered, known)
                    if isinstance(answers[0], tuple):
                        refused += 1
                    else:
                        asked += 1
        assert asked > 100 and refused > 10, (asked, refused)
        # The chapters were decoded whole only for refusals (which name the nearest lines)
        # and chapter-level questions, never for a code that is a line or has lines under it.
        assert len(decoded) <= refused

    def test_a_line_whose_parent_is_not_its_prefix_is_rated_by_that_parent(
            self, with_special: TariffTimeline) -> None:
        answer = with_special.rate_on(origin="BR", hts="9823.03.02", entered="2025-06-01")
        assert answer.line == "9823.03.02" and answer.mfn_source == "hts"
        assert answer.mfn_general == "Free" and answer.mfn == 0
        assert answer.path == ("Special classification provisions", "Goods under a program",
                               "Goods of that program, other")


class TestADiffUnderACodeReadsOnlyItsLines:
    """A diff under one HTS code compares, of the nomenclature, the lines under the code and
    rates its cells from the code's lines, with every chapter's revisions deciding the
    revision in force: it answers as over the whole nomenclature, without decoding chapters
    except to refuse a code that is not a line."""

    CODES = ("0101", "0101.21.00", "0101.30.00.00", "0901", "0901.11", "0901.11.00",
             "0901.11.00.25", "0901.11.00.35", "9823.03.02", "0102", "2204")
    PAIRS = (("2025-01-02", "2025-06-01"), ("2025-06-01", "2025-12-05"),
             ("2025-12-04", "2026-02-01"))

    def test_each_diff_and_refusal_equals_the_folds(
            self, both_special: tuple[TariffTimeline, TariffTimeline],
            monkeypatch: pytest.MonkeyPatch) -> None:
        by_model, by_fold = both_special
        whole_reads: list[datetime] = []
        real_nomenclature = ReadModelReader.nomenclature

        def watched(reader: ReadModelReader, known: datetime, recorded: datetime
                    ) -> Nomenclature:
            whole_reads.append(known)
            return real_nomenclature(reader, known, recorded)

        monkeypatch.setattr(ReadModelReader, "nomenclature", watched)
        compared = refused = lines_changed = 0
        for code in self.CODES:
            for entered in self.PAIRS:
                for known in ((None, None), ("2025-11-30", None)):
                    answers: list[object] = []
                    for timeline in (by_model, by_fold):
                        try:
                            answers.append(timeline.diff(
                                entered=entered, known=known, origins=["BR"],
                                hts=[code]).model_dump(mode="json"))
                        except InvalidInput as problem:
                            answers.append((problem.field, str(problem)))
                    assert answers[0] == answers[1], (code, entered, known)
                    if isinstance(answers[0], tuple):
                        refused += 1
                        continue
                    compared += 1
                    nomenclature = cast(dict[str, Any], answers[0])["nomenclature"]
                    lines_changed += bool(nomenclature and nomenclature["changes"])
        assert compared > 30 and refused > 3 and lines_changed > 5, (
            compared, refused, lines_changed)
        # The whole nomenclature was read only for refusals (one read a side at most).
        assert len(whole_reads) <= 2 * refused


class TestSearch:
    def test_the_read_model_and_the_fold_give_the_same_page_in_the_same_order(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        read_model, fold = both
        for words in SEARCHES:
            for at in ("2025-06-01", "2026-01-10"):
                for limit, offset in ((100, 0), (2, 1)):
                    found = read_model.hts_search(words, at, limit=limit, offset=offset)
                    expected = fold.hts_search(words, at, limit=limit, offset=offset)
                    # codes, scores and paths alike, in the same order (SQLite's bm25 and
                    # PostgreSQL's ts_rank each ordered them their own way)
                    assert found.model_dump(mode="json") == expected.model_dump(mode="json"), (
                        words, at, limit, offset)
                    assert found.total == len(fold.hts_search(words, at, limit=100).hits)

    def test_words_of_a_heading_find_the_lines_under_it(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            found = timeline.hts_search("coffee roasted", "2026-01-10")
            codes = [h.code for h in found.hits]
            # 'roasted' is in the heading and in the superior text 'Coffee, not roasted:'
            assert {"0901", "0901.11.00", "0901.11.00.15", "0901.21.00"} <= set(codes)
            assert "0901.11.00.25" not in codes  # removed by then

    def test_the_line_holding_the_words_itself_ranks_first(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            found = timeline.hts_search("robusta", "2026-01-10")
            assert [h.code for h in found.hits] == ["0901.11.00.35"]
            assert found.hits[0].path[-1].description == "Robusta, other"
            best = timeline.hts_search("roasted", "2026-01-10").hits[0]
            assert best.code in ("0901", "0901.21.00")

    def test_pages_add_up_to_the_total(self, both: tuple[TariffTimeline, TariffTimeline]
                                       ) -> None:
        for timeline in both:
            everything = timeline.hts_search("coffee", "2026-01-10", limit=100)
            pages = [timeline.hts_search("coffee", "2026-01-10", limit=2, offset=o)
                     for o in range(0, everything.total, 2)]
            assert [h.code for p in pages for h in p.hits] == [h.code for h in everything.hits]
            assert all(p.total == everything.total for p in pages)

    def test_no_words_or_a_bad_limit_are_refused(self, recorded: TariffTimeline) -> None:
        with pytest.raises(InvalidInput) as no_words:
            recorded.hts_search("  ,;  ", "2026-01-10")
        assert no_words.value.field == "words"
        with pytest.raises(InvalidInput) as bad_limit:
            recorded.hts_search("coffee", "2026-01-10", limit=0)
        assert bad_limit.value.field == "limit"

    def test_punctuation_in_words_does_not_reach_the_sql(
            self, recorded: TariffTimeline) -> None:
        # given operators of FTS5 and tsquery among the words
        found = recorded.hts_search('robusta" OR * ) :* & !', "2026-01-10")
        # then only the words are searched for ('or' is in 'whether or not' above it)
        assert found.words == "robusta or"
        assert [h.code for h in found.hits] == ["0901.11.00.35"]


class TestTwoDates:
    def test_lines_added_removed_rerated_and_redescribed_are_listed(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        for timeline in both:
            result = timeline.hts_diff("2025-06-01", "2026-01-10")
            by_kind = {(c.change, c.code, c.column) for c in result.changes}
            assert by_kind == {("added", "0901.11.00.35", None),
                               ("removed", "0901.11.00.25", None),
                               ("rerated", "0901.11.00", "general"),
                               ("redescribed", "0901.11.00", None)}
            assert result.counts.added == result.counts.removed == 1
            assert result.before.revision.revision == "r1"
            assert result.after.revision.revision == "r2"

    def test_a_comparison_can_keep_to_a_prefix(self, recorded: TariffTimeline) -> None:
        assert recorded.hts_diff("2025-06-01", "2026-01-10", under=["0101"]).changes == ()

    def test_a_bad_date_names_the_side(self, recorded: TariffTimeline) -> None:
        with pytest.raises(InvalidInput) as refused:
            recorded.hts_diff("2025-06-01", "tomorrow")
        assert refused.value.field == "end"


class TestDiffAndHistoryCoverTheSchedule:
    def test_a_diff_of_two_dates_has_a_nomenclature_section(
            self, recorded: TariffTimeline) -> None:
        result = recorded.diff(entered=("2025-06-01", "2026-01-10"))
        assert result.nomenclature is not None
        assert result.nomenclature.counts.added == 1
        assert {c.code for c in result.nomenclature.changes} == {
            "0901.11.00.35", "0901.11.00.25", "0901.11.00"}

    def test_a_diff_of_two_known_dates_sees_a_revision_announced_between(
            self, recorded: TariffTimeline) -> None:
        result = recorded.diff(entered=("2026-01-10", "2026-01-10"),
                               known=("2025-11-30", "2025-12-02"))
        assert result.nomenclature is not None
        assert result.nomenclature.before.revision.revision == "r1"
        assert result.nomenclature.after.revision.revision == "r2"
        assert result.nomenclature.counts.removed == 1

    def test_the_history_of_a_cell_lists_the_revisions_of_its_line(
            self, recorded: TariffTimeline) -> None:
        history = recorded.history(origin="BR", hts="0901.11.00")
        ids = [row.id for row in history.rows]
        assert "r1-ch09" in ids and "r2-ch09" in ids and "r1-ch01" not in ids
        row = next(r for r in history.rows if r.id == "r2-ch09")
        assert row.summary == "HTS r2, chapter 09: 1 added, 1 changed, 1 removed"


class TestTheReadModelRows:
    def test_a_rebuild_answers_the_same_searches(self, recorded: TariffTimeline) -> None:
        before = [recorded.hts_search(w, "2026-01-10", limit=50) for w in SEARCHES]
        counts = recorded.read_model.reader.counts() if recorded.read_model else {}
        recorded.rebuild_read_model()
        after = [recorded.hts_search(w, "2026-01-10", limit=50) for w in SEARCHES]
        assert [[h.code for h in a.hits] for a in after] == [[h.code for h in b.hits]
                                                              for b in before]
        assert recorded.read_model is not None
        assert recorded.read_model.reader.counts()["rm_hts_lines"] == counts["rm_hts_lines"]

    def test_each_line_in_force_has_exactly_one_row_at_a_coordinate(
            self, both: tuple[TariffTimeline, TariffTimeline]) -> None:
        read_model, fold = both
        assert read_model.read_model is not None
        read_model.catch_up()
        for at, known in (("2025-06-01", None), ("2026-01-10", None),
                          ("2026-01-10", "2025-11-30")):
            coordinate = read_model.coordinate(at, known)
            nomenclature = fold_at(fold._entries(coordinate.recorded),
                                   coordinate.known).nomenclature
            expected = sorted(codes_in_force(nomenclature, coordinate.effective))
            e, k, r = (micros(coordinate.effective), micros(coordinate.known),
                       micros(coordinate.recorded))
            with Session(read_model.read_model.engine) as session:
                codes = sorted(session.execute(select(HtsLineRow.code).where(
                    HtsLineRow.eff_from <= e, HtsLineRow.eff_until > e,
                    HtsLineRow.known_from <= k, HtsLineRow.known_until > k,
                    HtsLineRow.rec_from <= r, HtsLineRow.rec_until > r)).scalars())
            assert codes == expected


class TestTheBundledSchedule:
    def test_a_japanese_car_line_pays_2_5_percent_mfn(self, loaded_once: TariffTimeline
                                                       ) -> None:
        answer = loaded_once.hts_line("8703.23.01", "2025-05-01")
        assert answer.rates.general == "2.5%" and answer.rates.general_ad_valorem == 2.5
        assert answer.path[0].code == "8703" and answer.children

    def test_sql_and_the_fold_find_the_same_lines_for_simple_words(
            self, loaded_once: TariffTimeline) -> None:
        fold = TariffTimeline(loaded_once.store, loaded_once.read_model, QueryPath.FOLD)
        for words in ("roasted coffee", "live horses", "passenger motor vehicles"):
            found = loaded_once.hts_search(words, "2025-12-10", limit=1000)
            expected = fold.hts_search(words, "2025-12-10", limit=1000)
            assert found.total == expected.total < 1000, words
            assert [h.code for h in found.hits] == [h.code for h in expected.hits], words

    def test_a_search_gives_the_same_page_on_every_path_and_backend(
            self, loaded_once: TariffTimeline) -> None:
        # Given the bundled HTS, and words that find hundreds or thousands of lines
        fold = TariffTimeline(loaded_once.store, loaded_once.read_model, QueryPath.FOLD)
        for words in ("steel", "other", "of iron or steel", "motor vehicles"):
            for offset in (0, 40):
                # When the read model and the fold are asked for the same page
                found = loaded_once.hts_search(words, "2025-12-10", limit=20, offset=offset)
                expected = fold.hts_search(words, "2025-12-10", limit=20, offset=offset)
                # Then they give the same lines, scores and paths in the same order
                assert len(found.hits) == 20 and found.total > 60, words
                assert found.model_dump(mode="json") == expected.model_dump(mode="json"), (
                    words, offset)
                scores = [h.score for h in found.hits]
                assert scores == sorted(scores, reverse=True)

    def test_from_the_first_to_the_last_revision_hundreds_of_lines_changed(
            self, loaded_once: TariffTimeline) -> None:
        result = loaded_once.hts_diff("2025-06-01", "2026-03-01")
        assert result.before.revision.revision == "2025-rev-13"
        assert result.after.revision.revision == "2026-rev-04"
        assert 400 < result.counts.added < 480 and 500 < result.counts.removed < 600
        assert result.counts.rerated > 0 and result.counts.redescribed > 0
