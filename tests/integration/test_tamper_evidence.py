"""The stored log is hash-chained: edits made directly in the database are found (both DBs)."""

from __future__ import annotations

import os
import random
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from tariff_timeline import TariffTimeline
from tariff_timeline.domain.errors import TamperDetected
from tariff_timeline.events import EASTERN, TOPICS
from tariff_timeline.readmodel.tables import create_tables
from tests.builders import rate_changed
from tests.conftest import POLICY_DATA, FakeClock

# Random single-row edits a backend: 200 in CI (each is a whole verify and a rate question that
# checks the chain from its start: 0.3-0.4 s), `make tamper` runs 1,000.
TAMPERINGS = int(os.environ.get("TARIFFS_TAMPERINGS", "200"))
KINDS = ("state", "topic", "delete", "insert", "insert-foreign", "swap")


class RawTable:
    """The eventsourcing table, edited behind the application's back with plain SQL."""

    def __init__(self, url: str, table: str) -> None:
        parsed = urlparse(url)
        if parsed.scheme == "sqlite":
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"))
            self.key, self.table, self.mark = "rowid", table, "?"
            self.uuid: Any = lambda u: u.hex
            self.backup = "backup"
        else:
            import psycopg

            schema = parse_qs(parsed.query)["schema"][0]
            self.conn = psycopg.connect(url.split("?")[0])
            self.key, self.table, self.mark = "notification_id", f'"{schema}"."{table}"', "%s"
            self.uuid = lambda u: u
            self.backup = f'"{schema}".backup'
        self.sql(f"CREATE TABLE {self.backup} AS SELECT {self.key} AS k, originator_id, "
                 f"originator_version, topic, state FROM {self.table}")

    def sql(self, statement: str, *params: Any) -> list[Any]:
        cursor = self.conn.cursor()
        cursor.execute(statement.replace("?", self.mark), params)
        rows = cursor.fetchall() if cursor.description else []
        self.conn.commit()
        return list(rows)

    def rows(self) -> list[tuple[int, Any, int]]:
        return [tuple(r) for r in self.sql(  # type: ignore[misc]
            f"SELECT {self.key}, originator_id, originator_version FROM {self.table} "
            f"ORDER BY {self.key}")]

    def restore(self) -> None:
        cursor = self.conn.cursor()
        cursor.execute(f"DELETE FROM {self.table}")
        cursor.execute(f"INSERT INTO {self.table} ({self.key}, originator_id, "
                       "originator_version, topic, state) SELECT k, originator_id, "
                       f"originator_version, topic, state FROM {self.backup}")
        self.conn.commit()

    def tamper(self, kind: str, rng: random.Random) -> str:
        """One single-row change made directly in the database; says what it did."""
        rows = self.rows()
        key, owner, version = rng.choice(rows)
        table, k = self.table, self.key
        if kind == "state":
            (state,) = self.sql(f"SELECT state FROM {table} WHERE {k}=?", key)[0]
            data = bytearray(bytes(state))
            at = rng.randrange(len(data))
            data[at] = (data[at] + rng.randrange(1, 256)) % 256
            self.sql(f"UPDATE {table} SET state=? WHERE {k}=?", bytes(data), key)
            return f"byte {at} of row {key} changed"
        if kind == "topic":
            (topic,) = self.sql(f"SELECT topic FROM {table} WHERE {k}=?", key)[0]
            other = rng.choice([t for t in TOPICS if t != topic] + [topic + "x"])
            self.sql(f"UPDATE {table} SET topic=? WHERE {k}=?", other, key)
            return f"topic of row {key} set to {other}"
        if kind == "delete":
            self.sql(f"DELETE FROM {table} WHERE {k}=?", key)
            return f"row {key} deleted"
        if kind in ("insert", "insert-foreign"):
            if kind == "insert":
                target = owner
                (top,) = self.sql(f"SELECT MAX(originator_version) FROM {table} "
                                  "WHERE originator_id=?", owner)[0]
                new_version = top + 1
            else:
                target, new_version = self.uuid(uuid.uuid4()), 1
            self.sql(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                     f"SELECT ?, ?, topic, state FROM {table} WHERE {k}=?",
                     target, new_version, key)
            return f"copy of row {key} inserted as version {new_version}"
        same = [r for r in rows if r[1] == owner and r[0] != key]
        if not same:
            return self.tamper("delete", rng)
        other_key, _, other_version = rng.choice(same)
        cursor = self.conn.cursor()
        # Through a free version, so the primary key never sees two rows at once.
        for row, value in ((key, -1), (other_key, version), (key, other_version)):
            cursor.execute(f"UPDATE {table} SET originator_version={self.mark} "
                           f"WHERE {k}={self.mark}", (value, row))
        self.conn.commit()
        return f"versions of rows {key} and {other_key} swapped"

    def close(self) -> None:
        self.conn.close()


def synthetic(count: int, offset: int = 0) -> list[Any]:
    start = datetime(2025, 6, 1, tzinfo=EASTERN)
    return [rate_changed(f"synthetic-rate-{offset + i:04d}", "ieepa-recip-cn",
                         known="2025-05-20",
                         start=(start + timedelta(hours=offset + i)).isoformat(),
                         percent=10 + (offset + i) % 40, kind="replacement",
                         replaces=("ieepa-recip-baseline",))
            for i in range(count)]


@pytest.fixture
def busy(loaded: TariffTimeline, clock: FakeClock) -> TariffTimeline:
    """The bundled tariff policy and 250 more events, appended in six transactions, that no
    question has checked yet."""
    timeline = loaded
    for batch in range(5):
        clock.advance(hours=1)
        timeline.record_events(synthetic(50, offset=batch * 50))
    # Each append checked the chain up to the append before it, through the read model; an
    # empty read model makes the next question check the whole chain, so that every edit
    # below is an edit of history no question has checked (history that was checked is
    # covered by test_an_edit_of_checked_history_is_found_by_verify_and_refused_by_a_rebuild).
    assert timeline.read_model is not None
    create_tables(timeline.read_model.engine)
    timeline.read_model.writer.cache.clear()
    return timeline


@pytest.fixture
def raw(busy: TariffTimeline) -> Iterator[RawTable]:
    table = RawTable(busy.store.url, busy.store.events_table)
    yield table
    table.close()


class TestAnUntouchedStore:
    def test_a_store_written_only_by_the_application_verifies_intact(
            self, busy: TariffTimeline) -> None:
        result = busy.verify()
        assert result.intact and result.events == busy.store.count() and result.heads == 6

    def test_corrections_and_later_imports_keep_the_chain_intact(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        timeline.import_paths(POLICY_DATA)
        clock.advance(days=1)
        timeline.correct("recip-cn-84", rate_changed(
            "recip-cn-84", "ieepa-recip-cn", known="2025-04-08", start="2025-04-09",
            percent=85, kind="replacement", replaces=("ieepa-recip-baseline",)),
            reason="a test correction")
        assert timeline.verify().intact


class TestDirectEditsAreDetected:
    @pytest.mark.parametrize("kind", KINDS)
    def test_each_kind_of_single_row_edit_is_reported_with_where_it_breaks(
            self, busy: TariffTimeline, raw: RawTable, kind: str) -> None:
        # given an intact store, when one row is edited directly in the database
        what = raw.tamper(kind, random.Random(5))
        # then verify raises, naming the first break
        with pytest.raises(TamperDetected) as caught:
            busy.verify()
        assert "changed outside the application" in str(caught.value), what
        raw.restore()
        assert busy.verify().intact

    def test_random_single_row_edits_are_all_detected_and_refused_by_rate(
            self, busy: TariffTimeline, raw: RawTable) -> None:
        rng = random.Random(20250731)
        missed: list[str] = []
        answered: list[str] = []  # a question answered from the edited log
        kinds: dict[str, int] = dict.fromkeys(KINDS, 0)
        for attempt in range(TAMPERINGS):
            kind = rng.choice(KINDS)
            what = raw.tamper(kind, rng)
            kinds[kind] += 1
            if busy.store.verify().intact:
                missed.append(what)
            try:
                busy.rate_on(origin="CN", hts="9503.00.00", entered="2025-06-02")
                answered.append(what)
            except TamperDetected:
                pass
            raw.restore()
            if attempt % 100 == 0:
                assert busy.store.verify().intact, "restoring the table must undo the edit"
        # Shown with -s: how many edits of each kind were made (all of them detected).
        print(f"{TAMPERINGS - len(missed)}/{TAMPERINGS} detected on {busy.store.url.split(':')[0]}"
              f" by kind: {kinds}")
        assert missed == [], f"{len(missed)} of {TAMPERINGS} edits went unnoticed: {missed[:5]}"
        assert answered == [], f"{len(answered)} questions answered from an edited log"
        # Every kind drawn at least half as often as its share.
        assert all(count > TAMPERINGS // (2 * len(KINDS)) for count in kinds.values()), kinds
        assert busy.store.verify().intact

    def test_an_edit_of_checked_history_is_found_by_verify_and_refused_by_a_rebuild(
            self, busy: TariffTimeline, raw: RawTable) -> None:
        # given a log that a question checked whole (the read model keeps what it checked)
        busy.rate_on(origin="CN", hts="9503.00.00", entered="2025-06-02")
        # when a row of that history is edited
        what = raw.tamper("state", random.Random(7))
        # then verifying the chain finds it, and re-projecting refuses the log
        assert not busy.store.verify().intact, what
        assert busy.read_model is not None
        with pytest.raises(TamperDetected):
            busy.read_model.rebuild(busy.store)
