"""The read model's tables (SQLAlchemy 2.0 declarative): recorded events, subject versions,
measure pieces and the origin and product keys that find them, each with its effective, known
and recorded intervals.

A key row names its piece or version by id without a foreign key: the writer deletes a row's
keys with it, and on PostgreSQL each key row's check read its parent's row, at random, from a
table larger than the server's buffers (a new store's first catch-up of 300,000 events took
273.8 s with them and 126.3 s without). SQLite never enforced them (its foreign keys are off
by default)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from threading import Lock
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    DDL,
    BigInteger,
    Index,
    Integer,
    String,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.ddl import ExecutableDDLElement
from sqlalchemy.sql.elements import ColumnElement

from tariff_timeline.domain.errors import ConflictingWrite, StoreError
from tariff_timeline.store.chain import ChainState
from tariff_timeline.store.opening import LOCK_NAMESPACE
from tariff_timeline.store.patience import DEFAULT_WRITE_DEADLINE
from tariff_timeline.store.urls import sqlalchemy_url

SCHEMA = 19
"""The read model's table layout; a read model of another layout is rebuilt from the log."""


_ROW_ID = BigInteger().with_variant(Integer(), "sqlite")
"""The type of a row id, and of a key row's piece or version id (64 bits; SQLite's INTEGER,
its rowid)."""


class Base(DeclarativeBase):
    """Tables of the read model (SQLAlchemy 2.0 declarative)."""


class RowsMoved(ConflictingWrite):
    """The read model changed under a question that reads it in several statements: another
    process made its tables again (a rebuild), or an append recorded at the question's own
    instant replaced rows it had listed. Nothing was answered; asked again, the question
    reads the tables as they are then."""

    reason = "another process rebuilt the read model, or replaced rows it had listed"


class SchemaRow(Base):
    """The layout the read model's tables were written in, and which making of them this is."""

    __tablename__ = "rm_schema"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Drawn anew whenever the tables are made again (a rebuild): a process that decoded rows
    # of the tables before learns from it to forget them. Their ids name no other row (the
    # counters carry over), but nothing will ask for them again.
    generation: Mapped[str] = mapped_column(String(32))


class IdRow(Base):
    """The next id to give a table's new rows. It only grows, so an id once given never names
    another row, even after the row that had it is removed (as `max(id) + 1` would): decoded
    rows are kept by id, by this process and by any other reading the same tables."""

    __tablename__ = "rm_ids"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)


class TrackingRow(Base):
    """How far into the notification log the read model has been brought."""

    __tablename__ = "rm_tracking"
    application_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigInteger)
    # The hash chain as verified up to that notification, so that the next catch-up checks
    # only what was appended since (see store.chain.ChainState).
    chain_events: Mapped[int] = mapped_column(BigInteger)
    chain_link: Mapped[str] = mapped_column(String(64))
    chain_heads: Mapped[int] = mapped_column(BigInteger)
    chain_head_events: Mapped[int] = mapped_column(BigInteger)
    chain_head_link: Mapped[str] = mapped_column(String(64))
    chain_signed_from: Mapped[int] = mapped_column(BigInteger)

    def chain(self) -> ChainState:
        """The chain state verified up to this position."""
        return ChainState(self.notification_id, self.chain_events, self.chain_link,
                          self.chain_heads, self.chain_head_events, self.chain_head_link,
                          self.chain_signed_from)


class EventRow(Base):
    """A recorded event, kept so that a subject can be re-folded without reading the log."""

    __tablename__ = "rm_events"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(120), index=True)
    subject: Mapped[str | None] = mapped_column(String(140), index=True)
    target_id: Mapped[str | None] = mapped_column(String(120), index=True)
    target_subject: Mapped[str | None] = mapped_column(String(140), index=True)
    known_us: Mapped[int] = mapped_column(BigInteger)
    recorded_us: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)


class EventOriginRow(Base):
    """An origin (code, group or ALL) that the scope an event carries names (a correction's,
    its replacement's): what finds every subject that may ever have covered a cell."""

    __tablename__ = "rm_event_origins"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(8), primary_key=True)
    __table_args__ = (Index("ix_rm_event_origins", "origin", "seq"),)


class EventProductRow(Base):
    """An HTS prefix (or ALL) that the scope an event carries names."""

    __tablename__ = "rm_event_products"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    __table_args__ = (Index("ix_rm_event_products", "product", "seq"),)


class EventNameRow(Base):
    """A measure or ruling ('kind:id') that an event about another subject names, or that a
    correction's replacement names: what finds the subjects whose histories refer to one, when
    its own history changes."""

    __tablename__ = "rm_event_names"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(140), primary_key=True)
    __table_args__ = (Index("ix_rm_event_names", "name", "seq"),)


class VersionRow(Base):
    """A subject's folded state over [known_from, known_until) x [rec_from, rec_until)."""

    __tablename__ = "rm_versions"
    # SQLite numbers rows itself only for an INTEGER primary key.
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(140))
    kind: Mapped[str] = mapped_column(String(16))
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_from: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    first_known: Mapped[int] = mapped_column(BigInteger)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text)
    # The effective instants where a paint of the state starts or ends, as a JSON list
    # (`versions.effective_marks`): a diff leaves out a version the same on both sides with
    # none between its two instants without decoding it. NULL: not kept for the kind.
    eff_marks: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_rm_versions_subject_open", "subject", "rec_until"),
        Index("ix_rm_versions_coordinate", "rec_until", "known_until", "rec_from", "known_from"),
    )


class PieceRow(Base):
    """A measure's topmost paints over [eff_from, eff_until) x [known_from, known_until) x
    [rec_from, rec_until)."""

    __tablename__ = "rm_pieces"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(140))
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_from: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_rm_pieces_subject_open", "subject", "rec_until"),
        # A diff of two effective instants reads the pieces that start or end between them:
        # the others hold on both sides or on neither.
        Index("ix_rm_pieces_eff_from", "eff_from"),
        Index("ix_rm_pieces_eff_until", "eff_until"),
    )


class PieceOriginRow(Base):
    """An origin (code, group or ALL) that a piece's scope names, with the piece's intervals
    (so that one index range finds the pieces of an origin at a coordinate)."""

    __tablename__ = "rm_piece_origins"
    piece_id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(8), primary_key=True)
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    # The known end leads the ends: the recorded end is FOREVER for almost every key, so as
    # the first range it held every piece ever written for the origin. The known start is
    # in the index too: a key known only later is passed over there, not after reading its
    # piece (every piece known since a past instant has a known end after it).
    __table_args__ = (Index("ix_rm_piece_origins", "origin", "known_until", "eff_until",
                            "rec_until", "eff_from", "known_from", "piece_id"),)


class PieceProductRow(Base):
    """An HTS prefix (or ALL) that a piece's scope names, with the piece's intervals."""

    __tablename__ = "rm_piece_products"
    piece_id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=False)
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rm_piece_products", "product", "known_until", "eff_until",
                            "rec_until", "eff_from", "known_from", "piece_id"),)


class OriginKeyRow(Base):
    """An origin (code, group or ALL) that a version's scopes name."""

    __tablename__ = "rm_origin_keys"
    version_id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(8), primary_key=True)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rm_origin_keys_origin", "origin", "known_until", "rec_until",
                            "known_from", "version_id"),)


class ProductKeyRow(Base):
    """An HTS prefix (or ALL) that a version's scopes name."""

    __tablename__ = "rm_product_keys"
    version_id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=False)
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rm_product_keys_product", "product", "known_until",
                            "rec_until", "known_from", "version_id"),)


class MarkRow(Base):
    """An effective instant where a paint of a version's state starts or ends (one of its
    `eff_marks`), so that a diff finds the versions that may differ between two effective
    instants by an index range instead of reading every version and decoding its marks."""

    __tablename__ = "rm_version_marks"
    version_id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=False)
    mark: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rm_version_marks_mark", "mark", "known_until", "rec_until",
                            "known_from", "version_id"),)


class CitationRow(Base):
    """One source an event cites, over [rec_from, rec_until): a world event's as corrected
    (its replacement's sources, under its id and its place in the log; none once retracted),
    and a correction's or retraction's own, under its own id."""

    __tablename__ = "rm_citations"
    # The key is the order in which the answer meets the citations: world events (0) by
    # their first position in the log, then corrections and retractions (1) by theirs;
    # within one event, its sources in the order it lists them; and when recorded. No row
    # number: rows removed within their instant would make a chunked catch-up number the
    # rest otherwise than a whole one.
    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rec_from: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    instrument: Mapped[str | None] = mapped_column(Text)
    federal_register: Mapped[str | None] = mapped_column(Text)
    via: Mapped[str | None] = mapped_column(Text)
    rec_until: Mapped[int] = mapped_column(BigInteger)

    # Only the writer's look-up by event: an answer reads nearly every row, in a scan.
    __table_args__ = (Index("ix_rm_citations_event_open", "event_id", "rec_until"),)


class StatusRow(Base):
    """A measure's topmost lifecycle status over [eff_from, eff_until) x
    [known_from, known_until) x [rec_from, rec_until), over all effective time (unlike its
    pieces, which are kept only while it is listed): what coverage reports at any instant,
    and the stretch a schedule row says what it shows (status, rate and scope) holds over,
    one row per such stretch (layout 19; until then, per stretch of one status). Where a
    measure has no row, it has no status."""

    __tablename__ = "rm_statuses"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(140))
    status: Mapped[str] = mapped_column(String(32))
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_from: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    bounded_by: Mapped[str] = mapped_column(Text)
    """The events bounding the stretch (`domain.paint.Stretch.bounded_by`), as a JSON list
    (layout 18)."""

    # Only the writer's look-up by measure: coverage reads a row of every measure, in a scan.
    __table_args__ = (Index("ix_rm_statuses_subject_open", "subject", "rec_until"),)


# ---------------------------------------------------------------- the HTS nomenclature


class HtsLineRow(Base):
    """One HTS line's version over [eff_from, eff_until) x [known_from, known_until) x
    [rec_from, rec_until): its fields as the revision printed them, the text above it
    (`context`: superior text and its ancestors' descriptions, for full-text search), its path
    from the heading down, and the event and revision that gave it."""

    __tablename__ = "rm_hts_lines"
    # Ids are given by the writer (one bulk insert, see readmodel.hts).
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=False)
    chapter: Mapped[str] = mapped_column(String(2))
    code: Mapped[str] = mapped_column(String(10))
    indent: Mapped[int] = mapped_column(Integer)
    parent: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(Text)
    context: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    units: Mapped[str] = mapped_column(Text)
    general: Mapped[str | None] = mapped_column(Text)
    special: Mapped[str | None] = mapped_column(Text)
    other: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[str] = mapped_column(String(120))
    event_id: Mapped[str] = mapped_column(String(120))
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_from: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        Index("ix_rm_hts_lines_code", "code", "rec_until", "known_until", "eff_until"),
        Index("ix_rm_hts_lines_chapter_open", "chapter", "rec_until"),
    )


class HtsRevisionRow(Base):
    """A USITC revision that changed one chapter from `eff_from`, as known over
    [known_from, known_until) and recorded over [rec_from, rec_until)."""

    __tablename__ = "rm_hts_revisions"
    id: Mapped[int] = mapped_column(_ROW_ID, primary_key=True, autoincrement=False)
    chapter: Mapped[str] = mapped_column(String(2))
    revision: Mapped[str] = mapped_column(String(120))
    event_id: Mapped[str] = mapped_column(String(120))
    eff_from: Mapped[int] = mapped_column(BigInteger)
    starts: Mapped[str] = mapped_column(String(40))
    """`eff_from` as the event wrote it, with its offset (what an answer shows)."""
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_from: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_rm_hts_revisions_chapter_open", "chapter", "rec_until"),)


HTS_FTS = "rm_hts_fts"
"""SQLite's FTS5 index of the lines' descriptions and the text above them (rowid: the line
row's id). Tokens as the pure search reads words: letters and digits, case folded, accents
kept."""

def _ddl(statement: str, dialect: str) -> ExecutableDDLElement:
    """DDL run only on one dialect."""
    return DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


# The full-text indexes are dialect-specific DDL, created and dropped with the line table.
event.listen(HtsLineRow.__table__, "after_create", _ddl(
    f"CREATE VIRTUAL TABLE {HTS_FTS} USING fts5(description, context, "
    "tokenize = 'unicode61 remove_diacritics 0')", "sqlite"))
event.listen(HtsLineRow.__table__, "before_drop", _ddl(
    f"DROP TABLE IF EXISTS {HTS_FTS}", "sqlite"))
# PostgreSQL: a generated tsvector (the description weighted A, the text above it B) under a
# GIN index; the 'simple' configuration, without stemming, so that words match as the pure
# search matches them (as prefixes).
event.listen(HtsLineRow.__table__, "after_create", _ddl(
    "ALTER TABLE %(fullname)s ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', description), 'A') || "
    "setweight(to_tsvector('simple', context), 'B')) STORED", "postgresql"))
event.listen(HtsLineRow.__table__, "after_create", _ddl(
    "CREATE INDEX ix_rm_hts_lines_search ON %(fullname)s USING gin (search)", "postgresql"))


def open_engine(url: str, lock_seconds: float = DEFAULT_WRITE_DEADLINE) -> Engine:
    """An engine on the database (and schema) of a store URL, with the read model's tables in
    the current layout: a read model written in another layout is dropped, since it is only
    ever a projection of the log and the next catch-up rebuilds it. A wait for a lock may
    take up to `lock_seconds`."""
    sa_url, args = sqlalchemy_url(url, lock_seconds)
    engine = create_engine(sa_url, connect_args=args)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _freed_pages_left_as_they_are)
    try:
        if not _current(engine):
            # Several processes may open a new store at once: one creates the tables, under
            # the layout lock, and the others find them current once they get it.
            with _layout_lock(engine) as conn:
                if not _current(conn):
                    _recreate(conn)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _freed_pages_left_as_they_are(dbapi_connection: Any, _record: Any) -> None:
    """Each SQLite connection of the read model leaves the pages it frees as they are
    (`secure_delete = FAST`: deleted rows are still zeroed inside the pages a write touches
    anyway). SQLite as Debian and others build it overwrites every freed page with zeros:
    dropping a read model of a million events for a rebuild wrote 2.3 million pages to the
    log (about 9 GB) and took a minute, against under 4 s. The read model is a projection
    of a public log, rebuilt at will: none of it needs erasing beyond recovery."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA secure_delete = FAST")
    finally:
        cursor.close()


Bitemporal = (type[VersionRow] | type[PieceRow] | type[StatusRow] | type[HtsLineRow]
              | type[HtsRevisionRow])
"""The tables whose rows hold over a known interval and a recorded interval."""


def seen_at(table: Bitemporal, known: Any, recorded: Any) -> list[ColumnElement[bool]]:
    """The rows of `table` that a question known at `known` and recorded at `recorded` sees:
    both half-open intervals hold their instant (values or bound parameters). The reads of
    these tables take the rule from here; only the SQLite full-text search, written as SQL
    text, spells it out again."""
    return [table.rec_until > recorded, table.known_until > known,
            table.rec_from <= recorded, table.known_from <= known]


def read_only(engine: Engine) -> Engine:
    """The engine for statements that only read the read model: each runs outside a
    transaction and sees what was committed when it ran (what it would see at READ COMMITTED
    inside one), and giving its connection back to the pool rolls nothing back. On
    PostgreSQL that keeps the statements psycopg prepares after five runs: it forgets every
    prepared statement at a ROLLBACK, and the pool rolled one back after every question.

    SQLite's driver already reads outside a transaction (it begins one only before a write),
    so there the engine is left as it is: switching a connection to autocommit and back made
    SQLAlchemy set `PRAGMA read_uncommitted` at every return to the pool, and SQLite expires
    every prepared statement of a connection at such a PRAGMA, so each question prepared its
    statements anew (a quarter of a millisecond for a slice's)."""
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def hold_snapshot(session: Session) -> None:
    """Make every read of a session's transaction, from here to its end, see the database as
    the first one finds it, whatever other connections commit meanwhile: what an append's
    check needs, so that the states it reads of the read model are those of the log position
    it read. PostgreSQL: REPEATABLE READ (a read-only transaction there is never refused).
    SQLite: its driver begins no transaction before a read, so each read would see the last
    commit; an explicit deferred BEGIN holds the snapshot of the first read (the store is in
    WAL mode, so writers go on meanwhile). Call it before the transaction's first read."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.connection().exec_driver_sql("BEGIN")


CommitMark = int | str
"""A database's commit mark (`CommitWatch.version`): SQLite's data version, PostgreSQL's
snapshot as text."""


class CommitWatch:
    """Whether anything was committed to the database since an earlier look, and which making
    of the read model's tables is there now (`marked_first` with `GENERATION_NOW`), read on a
    connection of the watch's own.

    The commit mark (`version`) is SQLite's `PRAGMA data_version`, which changes whenever
    any other connection (of this process or another) commits, and on PostgreSQL the
    server's current snapshot (`pg_current_snapshot()`, as text), which changes whenever a
    transaction that wrote (one given a transaction id) ends on the server, committed or
    rolled back, and never comes back to a value it left. A question that finds the mark
    unchanged since a catch-up found the log had nothing new knows, without reading the
    log (nor, on SQLite, the tracking row), that it still has nothing new. On a PostgreSQL
    server busy with other work (other databases' writes, autovacuum's ANALYZE) the
    snapshot moves often, and a question checks as if something had been committed: the
    mark only ever spares a check."""

    def __init__(self, engine: Engine) -> None:
        self._lock = Lock()
        self._engine = engine
        self._conn: PoolProxiedConnection | None = self._connect()
        # The statement that reads the mark, and on PostgreSQL the column that reads it
        # inside the statement it marks (`marked_first`).
        self._mark, self._mark_column = _commit_mark(engine)

    def _connect(self) -> PoolProxiedConnection:
        conn = self._engine.raw_connection()
        if self._engine.dialect.name != "sqlite":
            # Each read its own transaction, ended at once: one left open would hold the
            # tables, and a rebuild's DROP would wait for it. (On PostgreSQL each read's
            # snapshot is then the server's at that read, which `version` relies on.)
            conn.rollback()
            conn.driver_connection.autocommit = True  # type: ignore[union-attr]
        # Out of the pool for good: a pooled connection would be lent to writers, and a
        # commit on the watching connection itself leaves SQLite's number as it was.
        conn.detach()
        return conn

    def version(self) -> CommitMark | None:
        """The database's commit mark as this watch sees it now: equal to an earlier one only
        if nothing was committed meanwhile (None: the database keeps none)."""
        if self._mark is None:
            return None
        row = self.first(self._mark)
        return None if row is None else row[0]

    def marked_first(self, statement: str, unless: CommitMark | None = None
                     ) -> tuple[CommitMark | None, tuple[Any, ...] | None]:
        """The commit mark now and the first row of `statement` (SQL text selecting at most
        one row, with no parameters), the mark read no later than the row.

        On SQLite the mark is read just before the statement, which is not run when the
        mark equals `unless` (nothing was committed since: the row would be as it was read
        then), and the row is None. On PostgreSQL both come in one statement, one round
        trip, the mark being that statement's own snapshot. The row is None, too, when the
        statement finds none."""
        if self._mark is None:
            return None, self.first(statement)
        if self._mark_column is None:
            mark = self.version()
            if mark is not None and mark == unless:
                return mark, None
            return mark, self.first(statement)
        row = self.first(f"SELECT {self._mark_column}, q.* FROM (SELECT 1) AS one LEFT JOIN "
                         f"(SELECT 1 AS found, s.* FROM ({statement}) AS s LIMIT 1) AS q "
                         "ON true")
        if row is None:  # pragma: no cover - the outer SELECT always yields one row
            return None, None
        return row[0], None if row[1] is None else tuple(row[2:])

    def first(self, statement: str) -> tuple[Any, ...] | None:
        """The first row of a statement (SQL text with no parameters) run on the watch's
        connection, outside any transaction. StoreError once the watch is closed."""
        with self._lock:
            if self._conn is None:
                raise StoreError("the read model was closed")
            try:
                return self._first(self._conn, statement)
            except self._engine.dialect.loaded_dbapi.Error:
                # Out of the pool, nothing replaces a connection the server dropped (a
                # restart): connect again, once.
                self._conn.invalidate()
                self._conn = self._connect()
                return self._first(self._conn, statement)

    @staticmethod
    def _first(conn: PoolProxiedConnection, statement: str) -> tuple[Any, ...] | None:
        cursor = conn.cursor()
        try:
            cursor.execute(statement)
            row: tuple[Any, ...] | None = cursor.fetchone()
        finally:
            cursor.close()
        return row

    def close(self) -> None:
        """Close the watching connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


GENERATION_NOW = f"SELECT generation FROM {SchemaRow.__tablename__}"
"""The generation of the read model's tables, as SQL text for `CommitWatch`."""


def _commit_mark(engine: Engine) -> tuple[str | None, str | None]:
    """The statement that reads the commit mark on this database (None: none is kept), and
    the column that reads it inside another statement where it is that statement's own
    (PostgreSQL's snapshot; None elsewhere)."""
    if engine.dialect.name == "sqlite":
        return "PRAGMA data_version", None
    if engine.dialect.name == "postgresql":
        # Named pg_current_snapshot from PostgreSQL 13; txid_current_snapshot before.
        server = engine.dialect.server_version_info or (0,)
        name = "pg_current_snapshot" if server >= (13,) else "txid_current_snapshot"
        return f"SELECT {name}()::text", f"{name}()::text"
    return None, None


def refresh_statistics(bind: Engine | Connection) -> None:
    """Have PostgreSQL sample the read model's tables again (ANALYZE), after a catch-up large
    enough to change what its planner should do. Without it, the tables that a rebuild or a
    large import filled have no statistics until autovacuum comes by (up to a minute, more on
    a busy server), and the planner guesses: at 100k events it scanned every event to find a
    question's twenty citations, 21 ms where the indexes take 0.05. SQLite's planner needs
    none to choose the indexes here, and is left as it is.

    Given an engine, it samples what is committed, at once; given a connection, it runs in
    that connection's transaction, whose rows not committed yet PostgreSQL samples too (so a
    rebuild can have the rows it is writing sampled before it reads them back)."""
    if bind.dialect.name != "postgresql":
        return
    if isinstance(bind, Engine):
        with read_only(bind).connect() as conn:
            refresh_statistics(conn)
        return
    preparer = bind.dialect.identifier_preparer
    bind.exec_driver_sql("ANALYZE " + ", ".join(
        preparer.format_table(table) for table in Base.metadata.sorted_tables))


GIVEN_IDS: tuple[type[Base], ...] = (VersionRow, PieceRow, StatusRow, HtsLineRow,
                                      HtsRevisionRow)
"""The tables whose ids the writer gives from `IdRow` (`give_ids`)."""

_GIVE_IDS = update(IdRow).where(IdRow.name == bindparam("table")).values(
    next_id=IdRow.next_id + bindparam("count")).returning(IdRow.next_id)
"""Take `count` ids from a table's counter (bound parameters table and count); the counter
after it."""


def give_ids(session: Session, table: type[Base], count: int) -> range:
    """Ids for `count` new rows of a table, never given before in this read model: not in this
    making of the tables, nor in those before it (`_recreate` carries the counters over).

    Given here rather than returned by the insert: an executemany with RETURNING costs
    SQLAlchemy far more than the insert itself (quadratic in the rows for 30,000 HTS lines).
    Not `max(id) + 1`: that gives a removed row's id again (a version replaced within the
    instant it was recorded), while a process still keeps what it decoded from that row. The
    counter's row stays locked until the transaction ends, so concurrent catch-ups take turns
    here; one rolled back gives its ids again, and forgets what it decoded."""
    given = session.execute(_GIVE_IDS, {"table": table.__tablename__, "count": count}
                            ).scalar_one()
    return range(given - count, given)


ANSWER_INDEXES = (
    "ix_rm_event_origins", "ix_rm_event_products", "ix_rm_event_names",
    "ix_rm_versions_coordinate", "ix_rm_pieces_eff_from", "ix_rm_pieces_eff_until",
    "ix_rm_piece_origins", "ix_rm_piece_products", "ix_rm_origin_keys_origin",
    "ix_rm_product_keys_product", "ix_rm_version_marks_mark", "ix_rm_hts_lines_code")
"""The indexes that questions and appends' checks read and no catch-up statement does: the
first catch-up of a large log into tables that hold no event (a new store's, or a rebuild's)
drops them (`defer_answer_indexes`) and makes each once the tables are full
(`make_answer_indexes`), since an index built from its rows costs less than one kept in
order row by row."""


def create_tables(engine: Engine) -> None:
    """Drop the read model's tables, if any, and create them empty in the current layout."""
    with _layout_lock(engine) as conn:
        _recreate(conn)


def make_answer_indexes(engine: Engine) -> list[str]:
    """Make those of the `ANSWER_INDEXES` the tables lack (a first catch-up left them out,
    and may have been stopped before its end); return their names. Checked first without the layout
    lock, so that a read model that has them all takes no lock."""
    if not _missing_indexes(engine):
        return []
    with _layout_lock(engine) as conn:
        missing = _missing_indexes(conn)
        for index in _answer_indexes():
            if index.name in missing:
                index.create(conn)
    return sorted(missing)


def defer_answer_indexes(engine: Engine) -> bool:
    """Drop the `ANSWER_INDEXES` the tables have while they hold no event, before a catch-up
    applies a large log into them; return whether any was dropped. Nothing is dropped once
    any event is applied: a catch-up makes them again only once it is caught up on tables
    that hold events (`make_answer_indexes`), so tables that hold events never lose them."""
    if not set(ANSWER_INDEXES) - _missing_indexes(engine):
        return False
    try:
        with _layout_lock(engine) as conn:
            present = set(ANSWER_INDEXES) - _missing_indexes(conn)
            for index in _answer_indexes():
                if index.name in present:
                    index.drop(conn)
            # Looked at once dropped: on PostgreSQL a drop waits for a catch-up writing the
            # table, and what that catch-up committed is seen only after it.
            if conn.execute(select(TrackingRow.application_name).where(
                    TrackingRow.chain_events > 0).limit(1)).first() is not None:
                raise _HoldsEvents
    except _HoldsEvents:
        return False
    return bool(present)


class _HoldsEvents(Exception):
    """The tables hold events: the indexes dropped are put back (the transaction rolls back)."""


def _answer_indexes() -> list[Index]:
    return [index for table in Base.metadata.sorted_tables for index in table.indexes
            if index.name in ANSWER_INDEXES]


def _missing_indexes(bind: Engine | Connection) -> set[str]:
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return _missing_indexes(conn)
    if bind.dialect.name == "postgresql":
        found = bind.execute(text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")).scalars()
    else:
        found = bind.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index'").scalars()
    return set(ANSWER_INDEXES) - set(found)


def _current(bind: Engine | Connection) -> bool:
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return _current(conn)
    return inspect(bind).has_table(SchemaRow.__tablename__) and (
        bind.execute(select(func.max(SchemaRow.version))).scalar() == SCHEMA)


def _recreate(conn: Connection) -> None:
    # The counters go on from where the tables made before left them: a process may have
    # checked the generation just before this commits and then read the new tables by ids
    # it decoded from the old ones (the generation is read apart from the rows).
    carried = _counters(conn)
    # Children before parents, by the order the tables are declared in: that drops a layout
    # 16 read model on PostgreSQL, whose key tables had foreign keys to their parents
    # (`tests/integration/test_layout_upgrade.py`).
    Base.metadata.drop_all(conn)
    Base.metadata.create_all(conn)
    conn.execute(insert(SchemaRow).values(version=SCHEMA, generation=uuid4().hex))
    conn.execute(insert(IdRow), [{"name": table.__tablename__,
                                  "next_id": carried.get(table.__tablename__, 1)}
                                 for table in GIVEN_IDS])


def _counters(conn: Connection) -> dict[str, int]:
    """The next id of each table with a counter, as the tables made before left them (none
    before there were counters)."""
    if not inspect(conn).has_table(IdRow.__tablename__):
        return {}
    return {name: next_id for name, next_id in conn.execute(select(IdRow.name, IdRow.next_id))}


@contextmanager
def _layout_lock(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the read model's layout lock: on PostgreSQL an advisory lock
    for the schema, on SQLite the database's write lock (BEGIN IMMEDIATE). DDL is
    transactional in both, so the tables appear all at once, when it commits."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(
                literal(f"{LOCK_NAMESPACE} read model ").op("||")(
                    func.coalesce(func.current_schema(), ""))))))
            yield conn
        return
    with engine.connect() as plain:
        # Autocommit leaves the transaction to us: pysqlite would begin a deferred one, which
        # lets two processes both read 'no tables' before either writes.
        conn = plain.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (for reports and tests)."""
    with Session(engine) as session:
        return {table.__tablename__: session.execute(
            select(func.count()).select_from(table)).scalar_one()
            for table in (EventRow, EventOriginRow, EventProductRow, EventNameRow, VersionRow,
                          OriginKeyRow, ProductKeyRow, MarkRow, PieceRow, PieceOriginRow,
                          PieceProductRow, CitationRow, StatusRow, HtsLineRow, HtsRevisionRow)}
