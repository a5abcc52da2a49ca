"""Nothing is answered from a broken log: every read checks the hash chain first (only what
was appended since the last check, for the read model), an import into a broken store is
refused, signed heads catch recomputed links and forged appends, and a checkpoint kept
elsewhere catches deleted newest events (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import TamperDetected
from tariff_timeline.store import Checkpoint
from tariff_timeline.store.chain import GENESIS, dumps, link
from tariff_timeline.store.keys import generate_keys
from tests.builders import imposed, rate_changed
from tests.conftest import FakeClock
from tests.integration.test_tamper_evidence import RawTable

QUESTION = {"origin": "BR", "hts": "0901.11.00", "entered": "2025-06-01"}


def baseline() -> list[Any]:
    return [imposed("baseline-10", "baseline", known="2025-04-02", start="2025-04-05",
                    percent=10)]


def later(n: int) -> list[Any]:
    return [rate_changed(f"later-{n}", "baseline", known="2025-05-01", start="2025-06-01",
                         percent=10 + n)]


@pytest.fixture
def raw(timeline: TariffTimeline, db_url: str) -> Iterator[RawTable]:
    timeline.record_events(baseline())
    table = RawTable(db_url, timeline.store.events_table)
    yield table
    table.close()


def rows(raw: RawTable) -> list[tuple[int, Any, int, str, bytes]]:
    return [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in raw.sql(
        f"SELECT {raw.key}, originator_id, originator_version, topic, state FROM {raw.table} "
        f"ORDER BY {raw.key}")]


def rewrite_rate(raw: RawTable, key: int, percent: int) -> None:
    """Edit an event's rate in place, keeping its stored chain link (a naive tampering)."""
    (state,) = raw.sql(f"SELECT state FROM {raw.table} WHERE {raw.key}=?", key)[0]
    data = json.loads(bytes(state))
    data["event"]["rate"]["percent"] = str(percent)
    raw.sql(f"UPDATE {raw.table} SET state=? WHERE {raw.key}=?", dumps(data), key)


def recompute_chain(raw: RawTable) -> None:
    """Recompute every link and head after the edits, as an attacker with database access
    (but without the signing key) would, dropping the signatures that no longer match."""
    previous, events = GENESIS, 0
    for key, _, version, topic, state in rows(raw):
        data = json.loads(state)
        if topic == "tariffs.ChainHead.v1":
            data.update(count=events, link=previous)
            data.pop("signature", None)
        else:
            previous = link(previous, topic, version, data["recorded_at"], dumps(data["event"]))
            data["chain"] = previous
            events = version
        raw.sql(f"UPDATE {raw.table} SET state=? WHERE {raw.key}=?", dumps(data), key)


class TestQuestionsRefuseABrokenLog:
    def test_a_rate_question_refuses_a_log_edited_before_the_read_model_read_it(
            self, timeline: TariffTimeline, raw: RawTable) -> None:
        # given the baseline's rate edited from 10 to 90 in the database
        rewrite_rate(raw, rows(raw)[0][0], 90)
        # when a rate is asked, by the read model and by the fold, then both refuse
        with pytest.raises(TamperDetected, match="chain link does not match"):
            timeline.rate_on(**QUESTION)
        with pytest.raises(TamperDetected):
            timeline.rate_on_by_fold(**QUESTION)

    def test_a_row_whose_state_became_text_is_a_break_not_a_crash(
            self, tmp_path: Path, clock: FakeClock) -> None:
        # SQLite lets a column hold a value of another type (PostgreSQL's bytea cannot).
        url = f"sqlite:///{tmp_path / 'typed.sqlite'}"
        timeline = TariffTimeline.open(url, clock=clock)
        raw: RawTable | None = None
        try:
            timeline.record_events(baseline())
            raw = RawTable(url, timeline.store.events_table)
            raw.sql(f"UPDATE {raw.table} SET state=CAST(state AS TEXT) WHERE {raw.key}=?",
                    rows(raw)[0][0])
            result = timeline.verify(raise_on_break=False)
            assert result.first_break is not None
            assert "stored as str" in result.first_break.problem
            with pytest.raises(TamperDetected):
                timeline.rate_on(**QUESTION)
            with pytest.raises(TamperDetected):
                timeline.record_events(later(1))
        finally:
            if raw is not None:
                raw.close()
            timeline.close()

    def test_an_import_into_a_broken_store_is_refused_and_writes_nothing(
            self, timeline: TariffTimeline, raw: RawTable) -> None:
        rewrite_rate(raw, rows(raw)[0][0], 90)
        before = len(rows(raw))
        with pytest.raises(TamperDetected):
            timeline.record_events(later(1))
        assert len(rows(raw)) == before

    def test_deleting_the_last_event_and_every_head_is_caught_by_the_next_import(
            self, timeline: TariffTimeline, raw: RawTable, clock: FakeClock) -> None:
        # given two appends, then the newest event and every chain head deleted
        clock.advance(hours=1)
        timeline.record_events(later(1))
        for key, _, _, topic, _ in rows(raw):
            if topic == "tariffs.ChainHead.v1":
                raw.sql(f"DELETE FROM {raw.table} WHERE {raw.key}=?", key)
        last = [r for r in rows(raw) if r[3] != "tariffs.ChainHead.v1"][-1]
        raw.sql(f"DELETE FROM {raw.table} WHERE {raw.key}=?", last[0])
        # when another import comes, then it is refused rather than hiding the truncation:
        # the row that its check (through the read model) verified last is gone
        with pytest.raises(TamperDetected, match="verified last is gone"):
            timeline.record_events(later(2))
        assert not timeline.verify(raise_on_break=False).intact

    def test_deleting_the_newest_append_after_a_question_is_caught_by_the_next_question(
            self, timeline: TariffTimeline, raw: RawTable, clock: FakeClock) -> None:
        clock.advance(hours=1)
        timeline.record_events(later(1))
        assert timeline.rate_on(**QUESTION).additional == 11  # the read model checked it all
        # the second append (its event and its head) deleted: the first head still matches
        for key, _, _, _, _ in rows(raw)[-2:]:
            raw.sql(f"DELETE FROM {raw.table} WHERE {raw.key}=?", key)
        assert timeline.verify(raise_on_break=False).intact  # a chain alone cannot tell
        with pytest.raises(TamperDetected, match="verified last is gone"):
            timeline.rate_on(**QUESTION)


def rewrite_last_head(raw: RawTable, **changes: Any) -> None:
    """Edit the newest chain head in place, keeping the canonical form the store writes."""
    key, _, _, topic, state = rows(raw)[-1]
    assert topic == "tariffs.ChainHead.v1"
    data = json.loads(state)
    data.update(changes)
    raw.sql(f"UPDATE {raw.table} SET state=? WHERE {raw.key}=?", dumps(data), key)


class TestTheRowCheckedLastIsCheckedWhole:
    """A question first makes sure the row it verified last is still there as it was: every
    field of that row (a chain head), not only its count and link."""

    @pytest.mark.parametrize("changes", [{"number": 7}, {"extra": 1}, {"signature": 12}],
                             ids=["number", "another field", "a signature not text"])
    def test_an_edit_of_the_head_checked_last_is_refused_by_the_next_question(
            self, timeline: TariffTimeline, raw: RawTable, changes: dict[str, Any]) -> None:
        # given a question that checked the whole log, the newest head last
        assert timeline.rate_on(**QUESTION).additional == 10
        # when that head is edited, its count and link left as they were
        rewrite_last_head(raw, **changes)
        # then verify finds the edit, and the next question refuses to answer
        assert not timeline.verify(raise_on_break=False).intact
        with pytest.raises(TamperDetected, match="verified last was changed"):
            timeline.rate_on(**QUESTION)

    def test_a_field_added_to_an_event_is_found_by_verify(
            self, timeline: TariffTimeline, raw: RawTable) -> None:
        # given the baseline's stored state with a field the store never writes
        key, _, _, _, state = rows(raw)[0]
        data = json.loads(state)
        data["note"] = "added"
        raw.sql(f"UPDATE {raw.table} SET state=? WHERE {raw.key}=?", dumps(data), key)
        # then verify names it, although the link covers nothing that changed
        found = timeline.verify(raise_on_break=False).first_break
        assert found is not None and "never writes there (note)" in found.problem
        with pytest.raises(TamperDetected, match="never writes there"):
            timeline.rate_on(**QUESTION)

    def test_an_untouched_head_checked_last_lets_the_next_question_answer(
            self, timeline: TariffTimeline, raw: RawTable, clock: FakeClock) -> None:
        assert timeline.rate_on(**QUESTION).additional == 10
        clock.advance(hours=1)
        timeline.record_events(later(1))
        assert timeline.rate_on(**QUESTION).additional == 11
        assert timeline.rate_on(**QUESTION).additional == 11


class TestChecksCostWhatWasAppended:
    def test_a_question_reads_only_the_rows_appended_since_the_last_check(
            self, timeline: TariffTimeline, clock: FakeClock,
            monkeypatch: pytest.MonkeyPatch) -> None:
        timeline.record_events(baseline())
        for n in range(1, 30):
            clock.advance(hours=1)
            timeline.record_events(later(n))
        timeline.rate_on(**QUESTION)
        assert timeline.read_model is not None
        checked = timeline.read_model.writer.chain_state().notification_id
        clock.advance(hours=1)
        timeline.record_events(later(30))
        recorder = timeline.store.app.recorder
        original = recorder.select_notifications
        read: list[int] = []

        def counted(start: int, limit: int, *args: Any, **kwargs: Any) -> Any:
            found = original(start, limit, *args, **kwargs)
            read.extend(notification.id for notification in found)
            return found

        monkeypatch.setattr(recorder, "select_notifications", counted)
        # when the next question comes, then it reads the row checked last (still there as it
        # was) and checks the one new append (event and head), and nothing before them
        assert timeline.rate_on(**QUESTION).additional == 40
        assert min(read) == checked and len(set(read) - {checked}) == 2


class Reads:
    """What questions read of the log (notifications) and of the tracking row, and how many
    statements they ran on the commit watch's connection (`trips`)."""

    def __init__(self, timeline: TariffTimeline, monkeypatch: pytest.MonkeyPatch) -> None:
        self.notifications: list[int] = []
        self.tracking = 0
        self.trips = 0
        recorder = timeline.store.app.recorder
        original = recorder.select_notifications

        def counted(start: int, limit: int, *args: Any, **kwargs: Any) -> Any:
            found = original(start, limit, *args, **kwargs)
            self.notifications.extend(notification.id for notification in found)
            return found

        monkeypatch.setattr(recorder, "select_notifications", counted)
        assert timeline.read_model is not None
        self.engine = timeline.read_model.engine
        event.listen(self.engine, "before_cursor_execute", self._statement)
        # The tracking row is read through the driver, on the commit watch's connection.
        watch = timeline.read_model.writer._watch
        first = watch.first

        def watched(statement: str) -> Any:
            self.trips += 1
            self._statement(None, None, statement)
            return first(statement)

        monkeypatch.setattr(watch, "first", watched)

    def _statement(self, *args: Any) -> None:
        if "rm_tracking" in args[2]:
            self.tracking += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)


@pytest.fixture
def reads(timeline: TariffTimeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reads]:
    counted = Reads(timeline, monkeypatch)
    yield counted
    counted.close()


def asked_again_quietly(timeline: TariffTimeline, reads: Reads,
                        additional: int = 10) -> tuple[list[int], int, int]:
    """Ask QUESTION twice more, and return what the second read of the log, how many
    statements it ran on the commit watch's connection and how many read the tracking row,
    once the database's commit mark
    stood still from before the first to after the second: nothing was committed anywhere
    meanwhile. (A PostgreSQL server's mark is its snapshot, which autovacuum's work moves
    too: that is not the test's to stop, so the pair is asked again, at most five times.)"""
    assert timeline.read_model is not None
    watch = timeline.read_model.writer._watch
    for _ in range(5):
        before = watch.version()
        assert timeline.rate_on(**QUESTION).additional == additional
        reads.notifications.clear()
        reads.trips = reads.tracking = 0
        assert timeline.rate_on(**QUESTION).additional == additional
        found = list(reads.notifications), reads.trips, reads.tracking
        if watch.version() == before:
            return found
    raise AssertionError("the commit mark moved during each of five pairs of questions")


def postgres(timeline: TariffTimeline) -> bool:
    """Whether the store's read model is on PostgreSQL."""
    assert timeline.read_model is not None
    return timeline.read_model.engine.dialect.name == "postgresql"


def quiet_tracking(timeline: TariffTimeline) -> int:
    """How many times a question asked with nothing committed reads the tracking row: never
    on SQLite, once on PostgreSQL (in the statement that reads the mark)."""
    return 1 if postgres(timeline) else 0


class TestQuestionsAfterNothingWasCommitted:
    """A question asked when nothing was committed to the database since a catch-up that
    found nothing new needs no check of the log's tail: the database's commit mark says so
    (SQLite's PRAGMA data_version, PostgreSQL's current snapshot), and it reads nothing of
    the log. It runs one statement on the commit watch's connection before it reads the read
    model and one after: on SQLite a look at the mark each time, on PostgreSQL the mark with
    the tracking row, then the mark with the tables' generation. Anything committed since,
    through any connection, has the next question check again: on SQLite with one more
    statement there, the tracking row; on PostgreSQL with none more."""

    def test_a_question_asked_again_with_nothing_committed_reads_nothing_of_the_log(
            self, timeline: TariffTimeline, raw: RawTable, reads: Reads) -> None:
        # given a question that applied the import
        assert timeline.rate_on(**QUESTION).additional == 10
        # when the same question is asked twice more, nothing committed in between
        # then the last read nothing of the log, with one statement on the watch's
        # connection before its reads and one after; on SQLite it did not read the tracking
        # row, on PostgreSQL it read it with the mark
        assert asked_again_quietly(timeline, reads) == ([], 2, quiet_tracking(timeline))

    def test_an_edit_after_quiet_questions_is_refused_by_the_next_question(
            self, timeline: TariffTimeline, raw: RawTable, reads: Reads) -> None:
        # given questions, the last answered without a check of the log
        assert timeline.rate_on(**QUESTION).additional == 10
        assert asked_again_quietly(timeline, reads) == ([], 2, quiet_tracking(timeline))
        # when the head checked last is edited through another connection
        rewrite_last_head(raw, number=7)
        # then the next question checks the log again and refuses to answer
        reads.notifications.clear()
        with pytest.raises(TamperDetected, match="verified last was changed"):
            timeline.rate_on(**QUESTION)
        assert reads.notifications

    def test_deleting_the_newest_append_after_quiet_questions_is_refused_by_the_next_question(
            self, timeline: TariffTimeline, raw: RawTable, reads: Reads,
            clock: FakeClock) -> None:
        # given a second append, and questions answered from it, the last without a check
        # of the log
        clock.advance(hours=1)
        timeline.record_events(later(1))
        assert timeline.rate_on(**QUESTION).additional == 11
        assert asked_again_quietly(timeline, reads, additional=11) == (
            [], 2, quiet_tracking(timeline))
        # when the newest append (its event and its head) is deleted through another
        # connection, which leaves the log a valid chain one append shorter
        for key, _, _, _, _ in rows(raw)[-2:]:
            raw.sql(f"DELETE FROM {raw.table} WHERE {raw.key}=?", key)
        # then the next question notices that the row it verified last is gone
        with pytest.raises(TamperDetected, match="verified last is gone"):
            timeline.rate_on(**QUESTION)

    def test_a_commit_to_the_read_model_alone_has_the_next_question_check_again(
            self, timeline: TariffTimeline, raw: RawTable, reads: Reads) -> None:
        # given a quiet question
        assert timeline.rate_on(**QUESTION).additional == 10
        assert asked_again_quietly(timeline, reads) == ([], 2, quiet_tracking(timeline))
        # when another connection commits a change that touches no event (an empty table
        # created and dropped beside the read model's)
        scratch = f"{raw.backup}_scratch"
        raw.sql(f"CREATE TABLE {scratch} (x INTEGER)")
        raw.sql(f"DROP TABLE {scratch}")
        reads.tracking = 0
        reads.trips = 0
        reads.notifications.clear()
        # then the next question reads the tracking row and the log's tail again (in no
        # more statements on the watch's connection on PostgreSQL, one more on SQLite), and
        # one asked again with nothing committed reads nothing of the log
        assert timeline.rate_on(**QUESTION).additional == 10
        assert reads.tracking == 1 and reads.notifications
        assert reads.trips == (2 if postgres(timeline) else 3)
        assert asked_again_quietly(timeline, reads) == ([], 2, quiet_tracking(timeline))


class TestQuestionsAfterAnotherStoreAppended:
    def test_an_append_by_another_store_between_two_questions_is_checked_and_answered(
            self, timeline: TariffTimeline, raw: RawTable, reads: Reads, db_url: str,
            clock: FakeClock) -> None:
        # given two questions answered from the baseline
        assert timeline.rate_on(**QUESTION).additional == 10
        assert timeline.rate_on(**QUESTION).additional == 10
        # when another store on the same database records a rate change
        clock.advance(hours=1)
        other = TariffTimeline.open(db_url, clock=clock)
        try:
            other.record_events(later(1))
        finally:
            other.close()
        reads.notifications.clear()
        # then the next question checks what was appended and answers with it
        assert timeline.rate_on(**QUESTION).additional == 11
        assert len(reads.notifications) >= 2


class TestSignedHeads:
    @pytest.fixture
    def keys(self, tmp_path: Path) -> tuple[Path, Path]:
        private, public = tmp_path / "head.key", tmp_path / "head.pub"
        generate_keys(private, public)
        return private, public

    @pytest.fixture
    def signed(self, db_url: str, clock: FakeClock,
               keys: tuple[Path, Path]) -> Iterator[TariffTimeline]:
        opened = TariffTimeline.open(db_url, clock=clock, signing_key=keys[0])
        opened.record_events(baseline())
        clock.advance(hours=1)
        opened.record_events(later(1))
        yield opened
        opened.close()

    def test_the_private_key_is_readable_by_its_owner_only(
            self, keys: tuple[Path, Path]) -> None:
        assert keys[0].stat().st_mode & 0o777 == 0o600

    def test_a_signed_store_verifies_with_its_public_key(
            self, signed: TariffTimeline, keys: tuple[Path, Path]) -> None:
        result = signed.verify(public_key=keys[1])
        assert result.intact and result.signed_heads == result.heads == 2

    def test_recomputed_links_pass_the_chain_but_not_the_signatures(
            self, signed: TariffTimeline, keys: tuple[Path, Path], db_url: str) -> None:
        raw = RawTable(db_url, signed.store.events_table)
        try:
            rewrite_rate(raw, rows(raw)[0][0], 90)
            recompute_chain(raw)
        finally:
            raw.close()
        assert signed.verify(raise_on_break=False).intact
        with pytest.raises(TamperDetected, match="not signed"):
            signed.verify(public_key=keys[1])

    def test_a_forged_append_without_the_key_is_caught(
            self, signed: TariffTimeline, keys: tuple[Path, Path], db_url: str,
            clock: FakeClock) -> None:
        forger = TariffTimeline.open(db_url, clock=clock)  # database access, no signing key
        try:
            clock.advance(hours=1)
            forger.record_events(later(2))
        finally:
            forger.close()
        with pytest.raises(TamperDetected, match="head 3 is not signed"):
            signed.verify(public_key=keys[1])

    def test_a_signature_changed_on_the_head_checked_last_is_refused_by_the_next_question(
            self, signed: TariffTimeline, keys: tuple[Path, Path], db_url: str,
            clock: FakeClock) -> None:
        # given a reader that requires signatures and has checked the whole log
        strict = TariffTimeline.open(db_url, clock=clock, public_key=keys[1])
        raw = RawTable(db_url, signed.store.events_table)
        try:
            assert strict.rate_on(**QUESTION).additional == 11
            # when the newest head's signature is replaced by the first head's
            heads = [json.loads(r[4]) for r in rows(raw) if r[3] == "tariffs.ChainHead.v1"]
            rewrite_last_head(raw, signature=heads[0]["signature"])
            # then verify and the next question both refuse it
            with pytest.raises(TamperDetected, match="signature does not verify"):
                signed.verify(public_key=keys[1])
            with pytest.raises(TamperDetected, match="verified last was changed"):
                strict.rate_on(**QUESTION)
        finally:
            raw.close()
            strict.close()

    def test_a_store_that_requires_signatures_refuses_to_answer_from_unsigned_heads(
            self, db_url: str, clock: FakeClock, keys: tuple[Path, Path]) -> None:
        unsigned = TariffTimeline.open(db_url, clock=clock)
        unsigned.record_events(baseline())
        unsigned.close()
        strict = TariffTimeline.open(db_url, clock=clock, public_key=keys[1])
        try:
            with pytest.raises(TamperDetected, match="not signed"):
                strict.rate_on(**QUESTION)
        finally:
            strict.close()


class TestCheckpoints:
    def test_a_log_that_grew_still_extends_its_checkpoint(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        timeline.record_events(baseline())
        mark = timeline.checkpoint()
        clock.advance(hours=1)
        timeline.record_events(later(1))
        assert timeline.verify(since=str(mark)).intact
        assert Checkpoint.parse(str(mark)) == mark

    def test_deleting_the_newest_events_back_to_an_earlier_head_breaks_the_checkpoint(
            self, timeline: TariffTimeline, raw: RawTable, clock: FakeClock) -> None:
        clock.advance(hours=1)
        timeline.record_events(later(1))
        mark = timeline.checkpoint()
        for key, _, _, _, _ in rows(raw)[-2:]:
            raw.sql(f"DELETE FROM {raw.table} WHERE {raw.key}=?", key)
        assert timeline.verify(raise_on_break=False).intact
        with pytest.raises(TamperDetected, match="fewer than"):
            timeline.verify(since=mark)

    def test_a_malformed_checkpoint_is_refused_naming_the_parameter(
            self, timeline: TariffTimeline) -> None:
        with pytest.raises(Exception, match="since: 'abc' is not a checkpoint"):
            timeline.verify(since="abc")
