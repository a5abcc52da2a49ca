"""The materialised, bitemporal read model: fast answers at any (effective, known, recorded).

For every subject (a measure, exemption, quota, stacking rule, deal or ruling) the read model
holds *versions*: the subject's folded state over a known-time interval and a recorded-time
interval. A measure's version holds only its *head*; its paints live in *pieces*, rows over an
effective interval x a known interval x a recorded interval (see ``tariffs.pieces``), so a
measure with a long history costs a question no more than a short one. A question at
(effective E, known K, recorded R) picks, by index, the pieces containing (E, K, R) whose
origin and product keys match the entry, the heads of their measures and the versions of the
other subjects, and evaluates them with the same rate engine as the pure fold.

It is kept up to date from the event store's notification log, exactly once: the rows it writes
for a group of notifications and its tracking position are committed in one transaction.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from threading import Event
from typing import Any, Generic, Literal, TypeVar, cast

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.projection import BaseProjectionRunner, Projection
from pydantic import TypeAdapter
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from domain.timeline import (
    DealState,
    ExemptionState,
    QuotaState,
    RuleState,
    Timeline,
    fold,
)
from events import (
    ORIGIN_GROUPS,
    TOPICS,
    AnyEvent,
    CourtRuled,
    EventCorrected,
    EventRetracted,
    PolicyEvent,
    Scope,
    known_instant,
)
from projections.replay import Corrected, Recorded, corrected_log, known_order
from tariffs.pieces import (
    EPOCH,
    FOREVER,
    MeasureHead,
    MeasurePiece,
    PieceRow,
    assemble,
    known_groups,
    measure_rows,
    micros,
)
from tariffs.store import TIMELINE_ID, EventStore, TimelineEntry, persistence_env

T = TypeVar("T")
Kind = Literal["measure", "exemption", "quota", "rule", "deal", "ruling"]
SCHEMA = 2
"""The read model's table layout; a read model of another layout is rebuilt from the log."""
APPLICATION_NAME = "TariffTimeline"
_EVENT: TypeAdapter[PolicyEvent] = TypeAdapter(AnyEvent)
_PIECE: TypeAdapter[MeasurePiece] = TypeAdapter(MeasurePiece)
_STATE: dict[str, TypeAdapter[Any]] = {
    "measure": TypeAdapter(MeasureHead),
    "exemption": TypeAdapter(ExemptionState),
    "quota": TypeAdapter(QuotaState),
    "rule": TypeAdapter(RuleState),
    "deal": TypeAdapter(DealState),
    "ruling": TypeAdapter(CourtRuled),
}
# Most specific first: a quota names its measure, an invalidation names its ruling.
_FIELD_KIND: tuple[tuple[str, Kind], ...] = (
    ("quota", "quota"), ("exemption", "exemption"), ("deal", "deal"), ("rule", "rule"),
    ("measure", "measure"), ("ruling", "ruling"),
)


def from_micros(value: int) -> datetime:
    """The instant a microsecond count names, in UTC."""
    return EPOCH + timedelta(microseconds=value)


def _recorded_at_is(at: datetime, item: tuple[int, TimelineEntry]) -> bool:
    return item[1].recorded_at == at


def subject_key(event: PolicyEvent) -> str | None:
    """'kind:id' of the subject an event is about (the replacement's, for a correction)."""
    if isinstance(event, EventCorrected):
        return subject_key(event.replacement)
    for field, kind in _FIELD_KIND:
        value = getattr(event, field, None)
        if isinstance(value, str):
            return f"{kind}:{value}"
    return None


class _Decoded(Generic[T]):
    """What was decoded from stored rows, by row id, the newest `size` kept: a stored row never
    changes, so its decoded value can be shared between questions."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[int, T] = OrderedDict()

    def get(self, key: int, text: str, adapter: TypeAdapter[Any]) -> T:
        """The value stored as `text` in row `key`, decoded once."""
        value = self._values.get(key)
        if value is None:
            value = self._values[key] = adapter.validate_json(text)
            if len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (the rows were dropped)."""
        self._values.clear()


class Base(DeclarativeBase):
    """Tables of the read model (SQLAlchemy 2.0 declarative)."""


class SchemaRow(Base):
    """The layout the read model's tables were written in."""

    __tablename__ = "rm_schema"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)


class TrackingRow(Base):
    """How far into the notification log the read model has been brought."""

    __tablename__ = "rm_tracking"
    application_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    notification_id: Mapped[int] = mapped_column(BigInteger)


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


class VersionRow(Base):
    """A subject's folded state over [known_from, known_until) x [rec_from, rec_until)."""

    __tablename__ = "rm_versions"
    # SQLite numbers rows itself only for an INTEGER primary key.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(140))
    kind: Mapped[str] = mapped_column(String(16))
    known_from: Mapped[int] = mapped_column(BigInteger)
    known_until: Mapped[int] = mapped_column(BigInteger)
    rec_from: Mapped[int] = mapped_column(BigInteger)
    rec_until: Mapped[int] = mapped_column(BigInteger)
    first_known: Mapped[int] = mapped_column(BigInteger)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_rm_versions_subject_open", "subject", "rec_until"),
        Index("ix_rm_versions_coordinate", "rec_until", "known_until", "rec_from", "known_from"),
    )


class PieceTable(Base):
    """A measure's topmost paints over [eff_from, eff_until) x [known_from, known_until) x
    [rec_from, rec_until)."""

    __tablename__ = "rm_pieces"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"),
                                    primary_key=True, autoincrement=True)
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
    )


class PieceOrigin(Base):
    """An origin (code, group or ALL) that a piece's scope names, with the piece's intervals
    (so that one index range finds the pieces of an origin at a coordinate)."""

    __tablename__ = "rm_piece_origins"
    piece_id: Mapped[int] = mapped_column(
        ForeignKey("rm_pieces.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(8), primary_key=True)
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rm_piece_origins", "origin", "eff_until", "eff_from",
                            "piece_id"),)


class PieceProduct(Base):
    """An HTS prefix (or ALL) that a piece's scope names, with the piece's intervals."""

    __tablename__ = "rm_piece_products"
    piece_id: Mapped[int] = mapped_column(
        ForeignKey("rm_pieces.id", ondelete="CASCADE"), primary_key=True)
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    eff_from: Mapped[int] = mapped_column(BigInteger)
    eff_until: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_rm_piece_products", "product", "eff_until", "eff_from",
                            "piece_id"),)


class OriginKey(Base):
    """An origin (code, group or ALL) that a version's scopes name."""

    __tablename__ = "rm_origin_keys"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("rm_versions.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(8), primary_key=True)
    __table_args__ = (Index("ix_rm_origin_keys_origin", "origin", "version_id"),)


class ProductKey(Base):
    """An HTS prefix (or ALL) that a version's scopes name."""

    __tablename__ = "rm_product_keys"
    version_id: Mapped[int] = mapped_column(
        ForeignKey("rm_versions.id", ondelete="CASCADE"), primary_key=True)
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    __table_args__ = (Index("ix_rm_product_keys_product", "product", "version_id"),)


def sqlalchemy_url(url: str) -> tuple[str, dict[str, Any]]:
    """The SQLAlchemy URL and connect arguments for a store URL (same database, same schema)."""
    env = persistence_env(url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return f"sqlite:///{env['SQLITE_DBNAME']}", {"timeout": 30}
    from sqlalchemy.engine import URL

    built = URL.create(
        "postgresql+psycopg", username=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None, host=env["POSTGRES_HOST"],
        port=int(env["POSTGRES_PORT"]), database=env["POSTGRES_DBNAME"],
    )
    args: dict[str, Any] = {}
    if env.get("POSTGRES_SCHEMA"):
        args["options"] = f"-csearch_path={env['POSTGRES_SCHEMA']}"
    return built.render_as_string(hide_password=False), args


def _subject_state(timeline: Timeline, kind: str, ident: str) -> object | None:
    table: Mapping[str, object] = {
        "measure": timeline.measures, "exemption": timeline.exemptions,
        "quota": timeline.quotas, "rule": timeline.rules, "deal": timeline.deals,
        "ruling": timeline.rulings,
    }[kind]
    return table.get(ident)


def _scopes(kind: str, state: object) -> list[Scope]:
    # Measures are found through their pieces' keys, not their versions'.
    if isinstance(state, ExemptionState | QuotaState):
        return [state.scope]
    return [Scope()]


def _keys(kind: str, state: object) -> tuple[set[str], set[str]]:
    origins: set[str] = set()
    products: set[str] = set()
    for scope in _scopes(kind, state):
        origins.update(scope.origins)
        products.update(scope.products)
    return origins, products


@dataclass(frozen=True)
class Version:
    """A subject's folded state over [known_from, known_until), and where it starts."""

    known_from: int
    known_until: int
    text: str
    state: object
    first_known: int
    first_seq: int


def _piece_keys(piece: MeasurePiece) -> tuple[set[str], set[str]]:
    """Origins and products a piece can match; a piece without a scope of its own falls back
    on the measure's first or last scope, so it is offered to every question (and decided by
    the rate engine)."""
    if piece.scope is None:
        return {"ALL"}, {"ALL"}
    scope = piece.scope[1].value
    return set(scope.origins), set(scope.products)


def subject_rows(entries: Sequence[Corrected], subject: str) -> tuple[list[Version],
                                                                      list[PieceRow]]:
    """The versions of a subject over known time and, for a measure, its pieces."""
    kind, ident = subject.split(":", 1)
    if kind != "measure":
        return versions_of(entries, subject), []
    ordered = known_order(entries)
    if not ordered:
        return [], []
    first_known, first_seq = micros(known_instant(ordered[0].event.known)), ordered[0].seq
    heads, pieces = measure_rows(ordered, ident)
    return [Version(h.known_from, h.known_until, _STATE[kind].dump_json(h.head).decode(),
                    h.head, first_known, first_seq) for h in heads], pieces


def versions_of(entries: Sequence[Corrected], subject: str) -> list[Version]:
    """The versions of a subject other than a measure: its state after each known instant of
    its events."""
    kind, ident = subject.split(":", 1)
    ordered = known_order(entries)
    if not ordered:
        return []
    first_known, first_seq = micros(known_instant(ordered[0].event.known)), ordered[0].seq
    groups = known_groups(ordered)
    state = Timeline()
    versions: list[Version] = []
    for index, (at, group) in enumerate(groups):
        state = fold((entry.event for entry in group), state, strict=False)
        until = groups[index + 1][0] if index + 1 < len(groups) else FOREVER
        found = _subject_state(state, kind, ident)
        if found is None:
            continue
        text = _STATE[kind].dump_json(found).decode()
        if versions and versions[-1].text == text and versions[-1].known_until == at:
            versions[-1] = replace(versions[-1], known_until=until)
        else:
            versions.append(Version(at, until, text, found, first_known, first_seq))
    return versions


class ReadModel(TrackingRecorder):
    """The read model's tables, its tracking position, and the queries that read them."""

    def __init__(self, url: str, cache_size: int = 20_000) -> None:
        sa_url, args = sqlalchemy_url(url)
        self.engine: Engine = create_engine(sa_url, connect_args=args, future=True)
        self._ensure_schema()
        self._states: _Decoded[object] = _Decoded(cache_size)
        self._pieces: _Decoded[MeasurePiece] = _Decoded(cache_size)
        self._events: _Decoded[PolicyEvent] = _Decoded(100_000)
        self.fault: Any = None
        """Called between writing rows and committing (tests simulate a crash there)."""

    def _ensure_schema(self) -> None:
        """Create the tables; a read model written in another layout is dropped (it is only
        ever a projection of the log, and the next catch-up rebuilds it)."""
        current = inspect(self.engine).has_table(SchemaRow.__tablename__) and (
            self._schema_version() == SCHEMA)
        if not current:
            Base.metadata.drop_all(self.engine)
            Base.metadata.create_all(self.engine)
            try:
                with Session(self.engine) as session, session.begin():
                    session.add(SchemaRow(version=SCHEMA))
            except IntegrityError:
                pass  # another process created the same tables at the same moment

    def _schema_version(self) -> int | None:
        with Session(self.engine) as session:
            return session.execute(select(func.max(SchemaRow.version))).scalar()

    def close(self) -> None:
        """Release connections."""
        self.engine.dispose()

    # ------------------------------------------------------------ tracking

    def insert_tracking(self, tracking: Tracking) -> None:
        """Record a position on its own (rows and position normally go together)."""
        with Session(self.engine) as session, session.begin():
            self._track(session, tracking.notification_id)

    def max_tracking_id(self, application_name: str) -> int | None:
        """The last notification the read model has applied."""
        with Session(self.engine) as session:
            row = session.get(TrackingRow, application_name)
            return None if row is None else row.notification_id

    def _track(self, session: Session, notification_id: int) -> None:
        row = session.get(TrackingRow, APPLICATION_NAME)
        if row is None:
            session.add(TrackingRow(application_name=APPLICATION_NAME,
                                    notification_id=notification_id))
        elif notification_id <= row.notification_id:
            raise RuntimeError(f"notification {notification_id} was already applied "
                               f"(tracking at {row.notification_id})")
        else:
            row.notification_id = notification_id

    # ------------------------------------------------------------ projecting

    def catch_up(self, store: EventStore, batch: int = 5000) -> int:
        """Apply every notification after the tracking position; return how many.

        Notifications go in transactions of about `batch`, never splitting the events recorded
        at one instant: an import is atomic, so a part of one is not a state that ever was.
        """
        done = 0
        while True:
            start = (self.max_tracking_id(APPLICATION_NAME) or 0) + 1
            entries, last_id, count = self._page(store, start, batch)
            if last_id is None:
                return done
            if not entries:
                # Only chain heads (the store's metadata) were left: move past them.
                self.insert_tracking(Tracking(APPLICATION_NAME, last_id))
                continue
            while count == batch and last_id is not None:
                more, last_id, count = self._page(store, last_id + 1, batch)
                same = list(itertools.takewhile(
                    partial(_recorded_at_is, entries[-1][1].recorded_at), more))
                entries += same
                if len(same) < len(more):
                    break
            self.apply(entries)
            done += len(entries)

    @staticmethod
    def _page(store: EventStore, start: int,
              limit: int) -> tuple[list[tuple[int, TimelineEntry]], int | None, int]:
        """Policy events among `limit` notifications from `start` on, the last notification
        id read, and how many were read (chain heads are the store's metadata: passed over)."""
        page = store.app.recorder.select_notifications(start, limit)
        entries = [(n.id, cast(TimelineEntry, store.app.mapper.to_domain_event(n)))
                   for n in page if n.originator_id == TIMELINE_ID]
        return entries, (page[-1].id if page else None), len(page)

    def apply(self, entries: Sequence[tuple[int, TimelineEntry]]) -> None:
        """Apply notifications (position, entry) and move the tracking position, in one
        transaction. Entries recorded at one instant are applied as one group."""
        if not entries:
            return
        with Session(self.engine) as session, session.begin():
            group: list[tuple[int, TimelineEntry]] = []
            for item in entries:
                if group and group[-1][1].recorded_at != item[1].recorded_at:
                    self._apply_group(session, group)
                    group = []
                group.append(item)
            self._apply_group(session, group)
            self._track(session, entries[-1][0])
            if self.fault is not None:
                self.fault(entries)

    def _apply_group(self, session: Session, group: list[tuple[int, TimelineEntry]]) -> None:
        recorded = micros(group[0][1].recorded_at)
        affected: dict[str, None] = {}
        rows: list[dict[str, Any]] = []
        subjects_of: dict[str, str | None] = {}
        in_group: dict[str, list[str]] = {}
        for seq, entry in group:
            event = entry.event
            subject = subject_key(event)
            target_id: str | None = None
            target_subject: str | None = None
            if isinstance(event, EventCorrected | EventRetracted):
                target_id = event.corrects if isinstance(event, EventCorrected) else (
                    event.retracts)
                if target_id in subjects_of:
                    target_subject = subjects_of[target_id]
                else:
                    target_subject = session.execute(
                        select(EventRow.subject).where(EventRow.event_id == target_id)
                        .order_by(EventRow.seq).limit(1)).scalar()
                # Earlier corrections may have moved the target to other subjects: every
                # subject it ever belonged to must be folded again.
                for (was,) in session.execute(select(EventRow.subject).where(or_(
                        EventRow.event_id == target_id, EventRow.target_id == target_id))):
                    if was is not None:
                        affected[was] = None
                affected.update(dict.fromkeys(in_group.get(target_id, ())))
            subjects_of.setdefault(event.id, subject)
            if subject is not None:
                # The subjects this group's rows give each event (a later correction in the
                # same group must fold them all again), without rescanning the rows.
                for key in (event.id, target_id):
                    if key is not None:
                        in_group.setdefault(key, []).append(subject)
            rows.append({
                "seq": seq, "event_id": event.id, "subject": subject, "target_id": target_id,
                "target_subject": target_subject,
                "known_us": micros(known_instant(event.known)),
                "recorded_us": micros(entry.recorded_at), "payload": event.model_dump_json(),
            })
            for key in (subject, target_subject):
                if key is not None:
                    affected[key] = None
        session.execute(insert(EventRow), rows)
        subjects = list(affected)
        for start in range(0, len(subjects), 500):
            self._refold(session, subjects[start:start + 500], recorded)

    def _subject_logs(self, session: Session,
                      subjects: Sequence[str]) -> dict[str, list[Recorded]]:
        """For each subject, every event that is or ever was about it, with all corrections."""
        ids: dict[str, set[str]] = {s: set() for s in subjects}
        for event_id, subject, target_id, target_subject in session.execute(select(
                EventRow.event_id, EventRow.subject, EventRow.target_id,
                EventRow.target_subject).where(or_(EventRow.subject.in_(subjects),
                                                   EventRow.target_subject.in_(subjects)))):
            if subject in ids:
                ids[subject].add(event_id)
            for owner in (subject, target_subject):
                if owner in ids and target_id is not None:
                    ids[owner].add(target_id)
        wanted = set().union(*ids.values())
        rows: list[tuple[int, int, str, str, str | None]] = []
        chunk = sorted(wanted)
        for start in range(0, len(chunk), 500):
            part = chunk[start:start + 500]
            rows += session.execute(select(
                EventRow.seq, EventRow.recorded_us, EventRow.payload, EventRow.event_id,
                EventRow.target_id).where(or_(EventRow.event_id.in_(part),
                                              EventRow.target_id.in_(part)))).all()
        # Rows by the event they are (or correct): each subject then takes its families'.
        by_event: dict[str, list[tuple[int, int, str]]] = {}
        for seq, at, payload, event_id, target_id in set(rows):
            for key in {event_id, target_id} - {None}:
                by_event.setdefault(cast(str, key), []).append((seq, at, payload))
        logs: dict[str, list[Recorded]] = {}
        for subject, family in ids.items():
            chosen = sorted({row for event_id in family for row in by_event.get(event_id, ())})
            logs[subject] = [Recorded(seq, from_micros(at), self._events.get(seq, payload, _EVENT))
                             for seq, at, payload in chosen]
        return logs

    def _refold(self, session: Session, subjects: Sequence[str], recorded: int) -> None:
        """Fold the subjects again and bring their open versions in line, in bulk."""
        logs = self._subject_logs(session, subjects)
        current = session.execute(select(
            VersionRow.subject, VersionRow.id, VersionRow.known_from, VersionRow.known_until,
            VersionRow.state, VersionRow.rec_from).where(
            VersionRow.subject.in_(subjects), VersionRow.rec_until == FOREVER)).all()
        existing: dict[str, dict[tuple[int, int, str], tuple[int, int]]] = {
            s: {} for s in subjects}
        for subject, vid, kf, ku, st, rf in current:
            existing[subject][(kf, ku, st)] = (vid, rf)
        open_pieces: dict[str, dict[tuple[int, int, int, int, str], tuple[int, int]]] = {
            s: {} for s in subjects}
        measures = [s for s in subjects if s.startswith("measure:")]
        for start in range(0, len(measures), 500):
            for subject, pid, ef, eu, kf, ku, st, rf in session.execute(select(
                    PieceTable.subject, PieceTable.id, PieceTable.eff_from, PieceTable.eff_until,
                    PieceTable.known_from, PieceTable.known_until, PieceTable.state,
                    PieceTable.rec_from).where(PieceTable.subject.in_(measures[start:start + 500]),
                                               PieceTable.rec_until == FOREVER)):
                open_pieces[subject][(ef, eu, kf, ku, st)] = (pid, rf)
        never_seen: list[int] = []
        closed: list[int] = []
        new: list[tuple[str, Version]] = []
        pieces_gone: list[int] = []
        pieces_closed: list[int] = []
        new_pieces: list[tuple[str, PieceRow, str]] = []
        for subject in subjects:
            entries = [e for e in corrected_log(logs[subject])
                       if subject_key(e.event) == subject]
            wanted, pieces = subject_rows(entries, subject)
            texts = [_PIECE.dump_json(p.piece).decode() for p in pieces]
            keep_pieces = {(p.eff_from, p.eff_until, p.known_from, p.known_until, text)
                           for p, text in zip(pieces, texts, strict=True)}
            for piece_key, (pid, rf) in open_pieces[subject].items():
                if piece_key not in keep_pieces:
                    (pieces_gone if rf == recorded else pieces_closed).append(pid)
            new_pieces += [(subject, p, text) for p, text in zip(pieces, texts, strict=True)
                           if (p.eff_from, p.eff_until, p.known_from, p.known_until, text)
                           not in open_pieces[subject]]
            keep = {(v.known_from, v.known_until, v.text) for v in wanted}
            for key, (vid, rf) in existing[subject].items():
                if key not in keep:
                    # Superseded within the instant it was recorded: never visible to any
                    # query, so it goes; otherwise it stays, closed at this recorded time.
                    (never_seen if rf == recorded else closed).append(vid)
            new += [(subject, v) for v in wanted
                    if (v.known_from, v.known_until, v.text) not in existing[subject]]
        if never_seen:
            session.execute(delete(OriginKey).where(OriginKey.version_id.in_(never_seen)))
            session.execute(delete(ProductKey).where(ProductKey.version_id.in_(never_seen)))
            session.execute(delete(VersionRow).where(VersionRow.id.in_(never_seen)))
        if closed:
            session.execute(update(VersionRow).where(VersionRow.id.in_(closed))
                            .values(rec_until=recorded))
        self._write_pieces(session, pieces_gone, pieces_closed, new_pieces, recorded)
        if not new:
            return
        ids = session.execute(
            insert(VersionRow).returning(VersionRow.id, sort_by_parameter_order=True),
            [{"subject": subject, "kind": subject.split(":", 1)[0],
              "known_from": v.known_from, "known_until": v.known_until, "rec_from": recorded,
              "rec_until": FOREVER, "first_known": v.first_known, "first_seq": v.first_seq,
              "state": v.text} for subject, v in new]).scalars().all()
        origin_rows: list[dict[str, Any]] = []
        product_rows: list[dict[str, Any]] = []
        for version_id, (subject, version) in zip(ids, new, strict=True):
            if subject.startswith("measure:"):
                continue  # a measure is found through its pieces
            origins, products = _keys(subject.split(":", 1)[0], version.state)
            origin_rows += [{"version_id": version_id, "origin": o} for o in origins]
            product_rows += [{"version_id": version_id, "product": p} for p in products]
        if origin_rows:
            session.execute(insert(OriginKey), origin_rows)
        if product_rows:
            session.execute(insert(ProductKey), product_rows)

    @staticmethod
    def _write_pieces(session: Session, gone: list[int], closed: list[int],
                      new: list[tuple[str, PieceRow, str]], recorded: int) -> None:
        """Remove pieces never visible, close superseded ones, insert new ones with keys."""
        for start in range(0, len(gone), 500):
            chunk = gone[start:start + 500]
            session.execute(delete(PieceOrigin).where(PieceOrigin.piece_id.in_(chunk)))
            session.execute(delete(PieceProduct).where(PieceProduct.piece_id.in_(chunk)))
            session.execute(delete(PieceTable).where(PieceTable.id.in_(chunk)))
        for start in range(0, len(closed), 500):
            session.execute(update(PieceTable).where(
                PieceTable.id.in_(closed[start:start + 500])).values(rec_until=recorded))
        if not new:
            return
        ids = session.execute(
            insert(PieceTable).returning(PieceTable.id, sort_by_parameter_order=True),
            [{"subject": subject, "eff_from": p.eff_from, "eff_until": p.eff_until,
              "known_from": p.known_from, "known_until": p.known_until, "rec_from": recorded,
              "rec_until": FOREVER, "state": text} for subject, p, text in new]).scalars().all()
        origin_rows: list[dict[str, Any]] = []
        product_rows: list[dict[str, Any]] = []
        for piece_id, (_, row, _) in zip(ids, new, strict=True):
            origins, products = _piece_keys(row.piece)
            span = {"piece_id": piece_id, "eff_from": row.eff_from, "eff_until": row.eff_until}
            origin_rows += [{**span, "origin": o} for o in origins]
            product_rows += [{**span, "product": p} for p in products]
        if origin_rows:
            session.execute(insert(PieceOrigin), origin_rows)
        if product_rows:
            session.execute(insert(PieceProduct), product_rows)

    def rebuild(self, store: EventStore) -> int:
        """Drop every row and project the whole log again; return how many events."""
        Base.metadata.drop_all(self.engine)
        self._ensure_schema()
        self._states.clear()
        self._pieces.clear()
        return self.catch_up(store)

    # ------------------------------------------------------------ reading

    def timeline_at(self, effective: datetime, known: datetime, recorded: datetime,
                    origin: str | None = None, hts: str | None = None) -> Timeline:
        """The subjects as known at `known` and recorded at `recorded`, with each measure as
        it stands at `effective`; only those whose scopes may cover the origin and HTS code
        when given, and only measures listed at `effective`."""
        e, k, r = micros(effective), micros(known), micros(recorded)
        names = {origin, "ALL"} | {g for g, members in ORIGIN_GROUPS.items()
                                   if origin in members} if origin is not None else set()
        prefixes = {hts[:n] for n in range(2, len(hts) + 1, 2)} | {"ALL"} if hts else set()
        pieces = select(PieceTable.subject, PieceTable.id, PieceTable.state).where(
            PieceTable.rec_until > r, PieceTable.known_until > k, PieceTable.eff_until > e,
            PieceTable.rec_from <= r, PieceTable.known_from <= k, PieceTable.eff_from <= e)
        if origin is not None:
            pieces = pieces.where(PieceTable.id.in_(select(PieceOrigin.piece_id).where(
                PieceOrigin.origin.in_(names), PieceOrigin.eff_until > e,
                PieceOrigin.eff_from <= e)))
        if hts is not None:
            pieces = pieces.where(PieceTable.id.in_(select(PieceProduct.piece_id).where(
                or_(PieceProduct.product.in_(prefixes),
                    and_(PieceProduct.product > hts, PieceProduct.product < hts + ";")),
                PieceProduct.eff_until > e, PieceProduct.eff_from <= e)))
        stmt = select(VersionRow.id, VersionRow.kind, VersionRow.subject, VersionRow.state).where(
            VersionRow.rec_until > r, VersionRow.known_until > k,
            VersionRow.rec_from <= r, VersionRow.known_from <= k, VersionRow.kind != "measure",
        )
        if origin is not None:
            stmt = stmt.where(VersionRow.id.in_(
                select(OriginKey.version_id).where(OriginKey.origin.in_(names))))
        if hts is not None:
            stmt = stmt.where(VersionRow.id.in_(select(ProductKey.version_id).where(or_(
                ProductKey.product.in_(prefixes),
                and_(ProductKey.product > hts, ProductKey.product < hts + ";"),
            ))))
        stmt = stmt.order_by(VersionRow.first_known, VersionRow.first_seq)
        tables: dict[str, dict[str, Any]] = {kind: {} for kind in _STATE}
        with Session(self.engine) as session:
            found = {subject: self._pieces.get(pid, text, _PIECE)
                     for subject, pid, text in session.execute(pieces)}
            subjects = list(found)
            rows: list[Any] = []
            for start in range(0, len(subjects), 500):
                rows += session.execute(select(
                    VersionRow.id, VersionRow.subject, VersionRow.state, VersionRow.first_known,
                    VersionRow.first_seq).where(
                    VersionRow.subject.in_(subjects[start:start + 500]),
                    VersionRow.rec_until > r, VersionRow.known_until > k,
                    VersionRow.rec_from <= r, VersionRow.known_from <= k)).all()
            # The fold meets measures in the order their first events became known.
            for version_id, subject, text, _, _ in sorted(rows, key=lambda row: (row[3], row[4])):
                head = cast(MeasureHead, self._states.get(version_id, text, _STATE["measure"]))
                tables["measure"][subject.split(":", 1)[1]] = assemble(head, found[subject])
            for version_id, kind, subject, text in session.execute(stmt):
                state = self._states.get(version_id, text, _STATE[kind])
                tables[kind][subject.split(":", 1)[1]] = state
        return Timeline(measures=tables["measure"], exemptions=tables["exemption"],
                        quotas=tables["quota"], rules=tables["rule"], deals=tables["deal"],
                        rulings=tables["ruling"])

    def entries(self, recorded: datetime) -> EventLookup:
        """Recorded events by id as of a recorded time, fetched when an answer cites them."""
        return EventLookup(self.engine, micros(recorded), self._events)

    def counts(self) -> dict[str, int]:
        """Rows per table (for reports and tests)."""
        with Session(self.engine) as session:
            return {table.__tablename__: session.execute(
                select(func.count()).select_from(table)).scalar_one()
                for table in (EventRow, VersionRow, OriginKey, ProductKey, PieceTable,
                              PieceOrigin, PieceProduct)}


class EventLookup(Mapping[str, Corrected]):
    """Events by id as of a recorded time, with the corrections recorded by then applied."""

    def __init__(self, engine: Engine, recorded: int,
                 parsed: _Decoded[PolicyEvent] | None = None) -> None:
        self.engine = engine
        self.recorded = recorded
        self._found: dict[str, Corrected | None] = {}
        self._parsed = parsed if parsed is not None else _Decoded(100_000)

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """Load many events (and their corrections) in one query."""
        wanted = [i for i in dict.fromkeys(event_ids) if i not in self._found]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            with Session(self.engine) as session:
                rows = list(session.execute(select(
                    EventRow.seq, EventRow.recorded_us, EventRow.payload).where(
                    or_(EventRow.event_id.in_(chunk), EventRow.target_id.in_(chunk)),
                    EventRow.recorded_us <= self.recorded).order_by(EventRow.seq)))
            log = [Recorded(seq, from_micros(at), self._parsed.get(seq, payload, _EVENT))
                   for seq, at, payload in rows]
            found = {e.event.id: e for e in corrected_log(log)}
            for event_id in chunk:
                self._found[event_id] = found.get(event_id)

    def _load(self, event_id: str) -> Corrected | None:
        if event_id not in self._found:
            self.prefetch([event_id])
        return self._found[event_id]

    def __getitem__(self, key: str) -> Corrected:
        found = self._load(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._load(key) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(k for k, v in self._found.items() if v is not None)

    def __len__(self) -> int:
        return sum(1 for v in self._found.values() if v is not None)


class TimelineProjection(Projection[ReadModel]):
    """eventsourcing projection: applies notifications to the read model as they arrive.

    The subscription hands over one event at a time, but the events recorded at one instant
    (one import) must be applied together; so the first event of a group brings in the rest
    of its group from the store, and the events already applied are passed over.
    """

    name = "TariffTimelineReadModel"
    topics = tuple(TOPICS)
    source: EventStore | None = None

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Apply the notification's whole group and its tracking position in one transaction."""
        done = self.view.max_tracking_id(APPLICATION_NAME) or 0
        if tracking.notification_id <= done or not isinstance(domain_event, TimelineEntry):
            return
        entry = domain_event
        group = [(tracking.notification_id, entry)]
        if self.source is not None:
            following, _, _ = ReadModel._page(self.source, tracking.notification_id + 1,
                                              100_000)
            group += itertools.takewhile(partial(_recorded_at_is, entry.recorded_at), following)
        self.view.apply(group)


def follow(url: str, read_model: ReadModel, store: EventStore, stop: Event,
           poll_seconds: float = 1.0) -> None:
    """Keep the read model up to date until `stop` is set: on PostgreSQL with eventsourcing's
    projection runner and its subscription (LISTEN/NOTIFY), elsewhere by pulling."""
    env = persistence_env(url)
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        while not stop.is_set():
            read_model.catch_up(store)
            stop.wait(poll_seconds)
        return
    projection = TimelineProjection(view=read_model)
    projection.source = store
    from tariffs.store import TimelineApplication

    with BaseProjectionRunner(projection=projection, application_class=TimelineApplication,
                              tracking_recorder=read_model, topics=projection.topics,
                              env=env) as runner:
        while not stop.is_set():
            runner.run_forever(timeout=poll_seconds)
