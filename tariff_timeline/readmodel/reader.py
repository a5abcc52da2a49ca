"""Answers from the read model: the slice of the timeline that bears on a question at (effective,
known, recorded), and the recorded events its answer cites."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tariff_timeline.domain.nomenclature import ChapterState, RevisionInForce
from tariff_timeline.domain.timeline import Nomenclature, Timeline
from tariff_timeline.events import ORIGIN_GROUPS, PolicyEvent
from tariff_timeline.events.instants import from_micros, micros
from tariff_timeline.projections.pieces import MeasureHead, assemble
from tariff_timeline.projections.replay import Corrected, Recorded, corrected_log
from tariff_timeline.projections.versions import STATE_ADAPTERS
from tariff_timeline.readmodel.codec import EVENT_ADAPTER, PIECE_ADAPTER, Decoded, RowCache
from tariff_timeline.readmodel.hts import FoundLine, revision_in_force, search_lines
from tariff_timeline.readmodel.tables import (
    EventRow,
    OriginKeyRow,
    PieceOriginRow,
    PieceProductRow,
    PieceRow,
    ProductKeyRow,
    VersionRow,
    row_counts,
)


class ReadModelReader:
    """Reads the read model's tables: what bears on a question, and the events it cites."""

    def __init__(self, engine: Engine, cache: RowCache) -> None:
        self.engine = engine
        self.cache = cache

    def slice_at(self, effective: datetime, known: datetime, recorded: datetime,
                    origin: str | None = None, hts: str | None = None) -> Timeline:
        """The subjects as known at `known` and recorded at `recorded`, with each measure as
        it stands at `effective`; only those whose scopes may cover the origin and HTS code
        when given (of the HTS nomenclature, only the code's chapter), and only measures listed
        at `effective`."""
        e, k, r = micros(effective), micros(known), micros(recorded)
        names = {origin, "ALL"} | {g for g, members in ORIGIN_GROUPS.items()
                                   if origin in members} if origin is not None else set()
        prefixes = {hts[:n] for n in range(2, len(hts) + 1, 2)} | {"ALL"} if hts else set()
        pieces = select(PieceRow.subject, PieceRow.id, PieceRow.state).where(
            PieceRow.rec_until > r, PieceRow.known_until > k, PieceRow.eff_until > e,
            PieceRow.rec_from <= r, PieceRow.known_from <= k, PieceRow.eff_from <= e)
        if origin is not None:
            pieces = pieces.where(PieceRow.id.in_(select(PieceOriginRow.piece_id).where(
                PieceOriginRow.origin.in_(names), PieceOriginRow.eff_until > e,
                PieceOriginRow.eff_from <= e)))
        if hts is not None:
            pieces = pieces.where(PieceRow.id.in_(select(PieceProductRow.piece_id).where(
                or_(PieceProductRow.product.in_(prefixes),
                    and_(PieceProductRow.product > hts, PieceProductRow.product < hts + ";")),
                PieceProductRow.eff_until > e, PieceProductRow.eff_from <= e)))
        # The states are read only for versions not decoded before: a chapter of the HTS is
        # hundreds of kilobytes of text, too much to read again for every question.
        stmt = select(VersionRow.id, VersionRow.kind, VersionRow.subject).where(
            VersionRow.rec_until > r, VersionRow.known_until > k,
            VersionRow.rec_from <= r, VersionRow.known_from <= k, VersionRow.kind != "measure",
        )
        if origin is not None:
            stmt = stmt.where(VersionRow.id.in_(
                select(OriginKeyRow.version_id).where(OriginKeyRow.origin.in_(names))))
        if hts is not None:
            stmt = stmt.where(VersionRow.id.in_(select(ProductKeyRow.version_id).where(or_(
                ProductKeyRow.product.in_(prefixes),
                and_(ProductKeyRow.product > hts, ProductKeyRow.product < hts + ";"),
            ))))
        stmt = stmt.order_by(VersionRow.first_known, VersionRow.first_seq)
        tables: dict[str, dict[str, Any]] = {kind: {} for kind in STATE_ADAPTERS}
        with Session(self.engine) as session:
            found = {subject: self.cache.pieces.get(pid, text, PIECE_ADAPTER)
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
                head = cast(MeasureHead, self.cache.states.get(
                    version_id, text, STATE_ADAPTERS["measure"]))
                tables["measure"][subject.split(":", 1)[1]] = assemble(head, found[subject])
            versions = session.execute(stmt).all()
            kept = {vid: self.cache.states.cached(vid) for vid, _, _ in versions}
            missing = [vid for vid, state in kept.items() if state is None]
            texts: dict[int, str] = {}
            for start in range(0, len(missing), 500):
                texts.update((vid, text) for vid, text in session.execute(select(
                    VersionRow.id, VersionRow.state).where(
                    VersionRow.id.in_(missing[start:start + 500]))))
            for version_id, kind, subject in versions:
                state = kept[version_id]
                if state is None:
                    state = self.cache.states.get(version_id, texts[version_id],
                                                  STATE_ADAPTERS[kind])
                tables[kind][subject.split(":", 1)[1]] = state
            if hts is not None and hts.isdigit() and not tables["chapter"] and session.execute(
                    select(VersionRow.id).where(
                        VersionRow.kind == "chapter", VersionRow.rec_until > r,
                        VersionRow.known_until > k, VersionRow.rec_from <= r,
                        VersionRow.known_from <= k).limit(1)).first() is not None:
                # The code's chapter is not in the HTS the store holds: an empty chapter
                # says so, where no chapter at all would mean the store holds no HTS.
                tables["chapter"][hts[:2]] = ChapterState(hts[:2])
        return Timeline(measures=tables["measure"], exemptions=tables["exemption"],
                        quotas=tables["quota"], rules=tables["rule"], deals=tables["deal"],
                        rulings=tables["ruling"],
                        nomenclature=Nomenclature(chapters=tables["chapter"]))

    def entries(self, recorded: datetime) -> EventLookup:
        """Recorded events by id as of a recorded time, fetched when an answer cites them."""
        return EventLookup(self.engine, micros(recorded), self.cache.events)

    # ------------------------------------------------------------ the HTS itself

    def hts_revision(self, effective: datetime, known: datetime,
                     recorded: datetime) -> RevisionInForce | None:
        """The HTS revision in force at `effective` over the whole schedule, as known and
        recorded then (None: no nomenclature)."""
        with Session(self.engine) as session:
            return revision_in_force(session, effective, known, recorded)

    def hts_search(self, words: str, at: datetime, known: datetime, recorded: datetime,
                   limit: int, offset: int = 0) -> tuple[int, list[FoundLine]]:
        """Lines in force at `at` holding every word, ranked: how many, and one page."""
        with Session(self.engine) as session:
            return search_lines(session, words, at, known, recorded, limit, offset)

    def counts(self) -> dict[str, int]:
        """Rows per table (for reports and tests)."""
        return row_counts(self.engine)


class EventLookup(Mapping[str, Corrected]):
    """Events by id as of a recorded time, with the corrections recorded by then applied."""

    def __init__(self, engine: Engine, recorded: int,
                 parsed: Decoded[PolicyEvent] | None = None) -> None:
        self.engine = engine
        self.recorded = recorded
        self._found: dict[str, Corrected | None] = {}
        self._parsed = parsed if parsed is not None else Decoded(100_000)

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
            log = [Recorded(seq, from_micros(at), self._parsed.get(seq, payload, EVENT_ADAPTER))
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
