"""Answers from the read model: the slice of the timeline that bears on a question at (effective,
known, recorded), and the recorded events its answer cites."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, cast, get_args

from pydantic import TypeAdapter
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    Text,
    and_,
    any_,
    bindparam,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.selectable import SelectBase

from tariff_timeline.domain.nomenclature import ChapterState, RevisionInForce
from tariff_timeline.domain.paint import NOT_READ, Stretch
from tariff_timeline.domain.timeline import (
    ExemptionState,
    MeasureState,
    Nomenclature,
    RuleState,
    Timeline,
    fold,
)
from tariff_timeline.events import (
    ALL,
    ORIGIN_GROUPS,
    NomenclatureRevised,
    PolicyEvent,
    SubjectKind,
    subject_key,
)
from tariff_timeline.events.instants import effective_from_micros, from_micros, micros
from tariff_timeline.projections.answers import CoverageRow, SourceRow
from tariff_timeline.projections.citations import (
    cited_by,
    coverage_of,
    coverage_rows,
    exemption_coverage,
    measure_coverage,
)
from tariff_timeline.projections.history import (
    cell_subjects,
    family_log,
    history_subjects,
)
from tariff_timeline.projections.pieces import FOREVER, MeasureHead, MeasurePiece, assemble
from tariff_timeline.projections.replay import Corrected, Recorded, corrected_log, known_by
from tariff_timeline.projections.schedule import scheduled_from
from tariff_timeline.projections.versions import EVERY_PRODUCT, STATE_ADAPTERS, every_product
from tariff_timeline.readmodel.bare import bare_rows
from tariff_timeline.readmodel.codec import (
    EVENT_ADAPTER,
    EVENT_BUDGET,
    PIECE_ADAPTER,
    Decoded,
    Families,
    Family,
    Held,
    RowCache,
    StoredRule,
)
from tariff_timeline.readmodel.hts import (
    FoundLine,
    chapter_for_code,
    nomenclature_under,
    revision_in_force,
    search_lines,
)
from tariff_timeline.readmodel.tables import (
    CitationRow,
    EventOriginRow,
    EventProductRow,
    EventRow,
    MarkRow,
    OriginKeyRow,
    PieceOriginRow,
    PieceProductRow,
    PieceRow,
    ProductKeyRow,
    RowsMoved,
    StatusRow,
    VersionRow,
    row_counts,
    seen_at,
)

T = TypeVar("T")

HeadRow = tuple[int, str, str | None, int, int]
"""A measure's head as read: version id, subject, text (None when not read), and the instant
and sequence number of its first event (the fold's order)."""
PiecesOf = Select[str, int, str | None, int, str | None, int, int]
"""A slice's statement of pieces: subject, piece id and text, then its measure's head's
version id, text, first known instant and sequence number (texts None when not read)."""
SliceOf = CompoundSelect[int, str, int | None, str | None, int, str | None, int, int,
                         str | None, str | None]
"""A slice's pieces and versions in one statement (`_slice_statement`)."""


class ReadModelReader:
    """Reads the read model's tables: what bears on a question, and the events it cites."""

    def __init__(self, engine: Engine, cache: RowCache) -> None:
        self.engine = engine
        self.cache = cache

    def slice_at(self, effective: datetime, known: datetime, recorded: datetime,
                    origin: str | None = None, hts: str | None = None,
                    lines_of_code: bool = False, held: Held | None = None,
                    stretches: bool = True) -> Timeline:
        """The subjects as known at `known` and recorded at `recorded`, with each measure and
        stacking rule as it stands at `effective`; only those whose scopes may cover the
        origin and HTS code when given (of the HTS nomenclature, only the code's chapter), and
        only measures listed at `effective`. With `lines_of_code`, of the chapter only what
        classifying the code at `effective` reads (`hts.chapter_for_code`), when the code is a
        line then or has lines under it: a rate question needs no more. Rows decoded are kept
        in `held` when given, for a question that reads several slices. Unless not
        `stretches` (a question showing no since or until: a rate's), each measure and rule
        comes with the stretch its row or version holds over (`MeasureState.stretch`)."""
        k, r = micros(known), micros(recorded)
        with self.engine.connect() as conn:
            narrowed = chapter_for_code(conn, hts, effective, known, recorded) if (
                lines_of_code and hts is not None) else None
            listing = _listing(conn, micros(effective), k, r, origin, hts,
                               without_chapters=narrowed is not None, texts=True)
            tables = self._tables(conn, listing, effective, k, r, held, stretches)
            if narrowed is not None:
                tables["chapter"][narrowed.chapter] = narrowed
            elif hts is not None and hts.isdigit() and not tables["chapter"] and _holds_hts(
                    conn, k, r):
                # The code's chapter is not in the HTS the store holds: an empty chapter
                # says so, where no chapter at all would mean the store holds no HTS.
                tables["chapter"][hts[:2]] = ChapterState(hts[:2])
        return _timeline(tables)

    def slices_between(self, first: tuple[datetime, datetime, datetime],
                       second: tuple[datetime, datetime, datetime], origin: str | None = None,
                       hts: str | None = None, held: Held | None = None
                       ) -> tuple[Timeline, Timeline]:
        """The slices (`slice_at`) at two (effective, known, recorded) coordinates, each
        holding only the subjects whose rows of the schedule may differ between them, and
        every chapter of the HTS each holds: what comparing the two schedules reads.

        A measure's row at an instant is a function of its head and the piece containing
        the instant (`pieces.assemble`), so a measure with the same head and piece on both
        sides is left out. Another subject's row is a function of its state and of the
        paints holding at the instant, so one with the same version on both sides is left
        out when no paint of it starts or ends between the two effective instants (its
        version's `eff_marks`). Known or recorded at two times, a measure is also kept when
        its status row differs (`StatusRow`: the stretch its row's since and until show).
        Deals and court rulings give no rows: they are left out."""
        (e1, k1, r1), (e2, k2, r2) = ([micros(t) for t in side] for side in (first, second))
        with self.engine.connect() as conn:
            if (k1, r1) == (k2, r2):
                sides = _listings_at_one_known(conn, (e1, e2), k1, r1, origin, hts)
            else:
                sides = (_listing(conn, e1, k1, r1, origin, hts, False, False),
                         _listing(conn, e2, k2, r2, origin, hts, False, False))
            low, high = sorted((e1, e2))
            moved: set[str] = set()
            if (k1, r1) != (k2, r2):
                # Known or recorded at two times, a measure's piece may be the same row on
                # both sides while its row's stretch is not (a revocation from a later
                # date learned between them, a pause of a measure not yet in force): its
                # row's since and until may differ.
                alike = [subject for subject, (pid, _) in sides[0].pieces.items()
                         if sides[1].pieces.get(subject, (None, None))[0] == pid]
                keys = [_stretch_keys(conn, alike, e, k, r)
                        for e, k, r in ((e1, k1, r1), (e2, k2, r2))]
                moved = {subject for subject in alike
                         if keys[0].get(subject) != keys[1].get(subject)}
            before, after = _differing(sides[0], sides[1], low, high, moved)
            return (_timeline(self._tables(conn, before, first[0], k1, r1, held)),
                    _timeline(self._tables(conn, after, second[0], k2, r2, held)))

    def _tables(self, conn: Connection, listing: _Listing, effective: datetime, k: int, r: int,
                held: Held | None, stretches: bool = True) -> dict[str, dict[str, Any]]:
        """The states a listing at `effective` (known at `k`, recorded at `r`) names, by kind
        and id: each row decoded from the cache or `held` when kept there, else read and
        decoded now; a stacking rule as it stands at `effective` (`RuleState.standing_at`),
        as a measure is cut to its piece there, each with the stretch its row or version
        holds over unless not `stretches` (`NOT_READ`)."""
        pieces_held = held.pieces if held is not None else None
        states_held = held.states if held is not None else None
        tables: dict[str, dict[str, Any]] = {kind: {} for kind in STATE_ADAPTERS}
        # Those kept are taken before any is decoded: decoding the others may push them out
        # of the cache's budget.
        kept_pieces = {pid: self.cache.pieces.cached(pid, pieces_held)
                       for pid, text in listing.pieces.values() if text is None}
        piece_texts = _texts(conn, PieceRow.id, PieceRow.state,
                             [pid for pid, piece in kept_pieces.items() if piece is None])
        found: dict[str, MeasurePiece] = {}
        for subject, (pid, text) in listing.pieces.items():
            piece = kept_pieces.get(pid)
            found[subject] = piece if piece is not None else self.cache.pieces.get(
                pid, text if text is not None else piece_texts[pid], PIECE_ADAPTER,
                pieces_held)
        heads = {vid: self.cache.states.cached(vid, states_held)
                 for vid, _, text in listing.heads if text is None}
        # The states are read only for versions not decoded before: a chapter of the HTS
        # is hundreds of kilobytes of text, too much to read again for every question.
        kept = {vid: self.cache.states.cached(vid, states_held)
                for vid, kind, _, _ in listing.versions if kind != "rule"}
        rules = {vid: self._rule_kept(vid, states_held)
                 for vid, kind, _, _ in listing.versions if kind == "rule"}
        texts = _texts(conn, VersionRow.id, VersionRow.state, [
            *(vid for vid, state in heads.items() if state is None),
            *(vid for vid, state in kept.items() if state is None),
            *(vid for vid, rule in rules.items() if rule is None)])
        held_over = _stretches(conn, [subject for subject, (_, _) in listing.pieces.items()
                                      if found[subject].status is not None],
                               micros(effective), k, r) if stretches else {}
        for version_id, subject, text in listing.heads:
            head = heads.get(version_id)
            if head is None:
                head = self.cache.states.get(
                    version_id, text if text is not None else texts[version_id],
                    STATE_ADAPTERS["measure"], states_held)
            tables["measure"][subject.split(":", 1)[1]] = assemble(
                cast(MeasureHead, head), found[subject],
                held_over.get(subject) if stretches else NOT_READ)
        if stretches:
            self._scheduled_stretches(conn, tables["measure"], found, effective, k, r)
        for version_id, kind, subject, _ in listing.versions:
            if kind == "rule":
                rule = rules[version_id]
                if rule is None:
                    rule = self.cache.rules.parsed(version_id, texts[version_id], StoredRule)
                # Decoded whole or as stored, a rule answers the same question.
                tables[kind][subject.split(":", 1)[1]] = rule.standing_at(effective,
                                                                           stretches)
                continue
            state = kept[version_id]
            if state is None:
                state = self.cache.states.get(version_id, texts[version_id],
                                              STATE_ADAPTERS[kind], states_held)
            tables[kind][subject.split(":", 1)[1]] = state
        return tables

    @staticmethod
    def _scheduled_stretches(conn: Connection, measures: dict[str, MeasureState],
                             pieces: Mapping[str, MeasurePiece], effective: datetime,
                             k: int, r: int) -> None:
        """Give each measure not yet in force at `effective` the stretch its row will
        hold from its start, which its scheduled row shows (`schedule.scheduled_from`): one
        status row each, read at its own instant (a year's scheduled measures, a few)."""
        for ident, measure in measures.items():
            if pieces[f"measure:{ident}"].status is not None:
                continue
            first = scheduled_from(measure, effective)
            if first is None:
                continue
            row = _status_rows(conn, [f"measure:{ident}"], micros(first.start), k, r)
            if row:
                measures[ident] = replace(measure, stretch=_stretch_of(
                    row[f"measure:{ident}"]))

    def _rule_kept(self, version_id: int, held: dict[int, object] | None
                   ) -> RuleState | StoredRule | None:
        """A stacking rule's version as decoded before: whole (by the writer, or by a fold
        that needed it whole), or as questions read it; None when its text must be read."""
        whole = self.cache.states.cached(version_id, held)
        return cast(RuleState, whole) if whole is not None else self.cache.rules.cached(
            version_id)

    def cell_timeline(self, origin: str, hts: str, start: datetime, end: datetime,
                      known: datetime, recorded: datetime) -> Timeline:
        """What bears on one origin × HTS cell at any effective time in [start, end], as
        known at `known` and recorded at `recorded`: the whole states of the measures with a
        piece keyed to the cell somewhere in [start, end], of the other subjects keyed to it,
        and of the HTS only the code's chapter.

        Nothing that bears on the cell at an instant in [start, end] is missed: the subjects
        `slice_at` reads for the cell at any such instant are among these (a piece that holds
        at the instant overlaps [start, end]; the other subjects' keys do not depend on
        effective time), and each is folded whole from its own family of events
        (`fold_subjects`), as the fold of the whole log holds it. The rest of the timeline
        cannot bear on the cell then: a measure not listed with a scope that may cover the
        cell is not a layer of its answer, the other subjects reach it only through their
        scopes or the measures they name, and a question of a code reads only its chapter."""
        k, r = micros(known), micros(recorded)
        low, high = micros(start), micros(end)
        names = _origin_keys(origin)
        code = _code(hts, _row_products(hts, names))
        pieces = select(PieceRow.subject).where(
            *seen_at(PieceRow, k, r), PieceRow.eff_until > low, PieceRow.eff_from <= high,
            *_pieces_keyed(names, code, r, k, low, high),
        ).distinct()
        others = select(VersionRow.subject).where(
            *seen_at(VersionRow, k, r), VersionRow.kind.not_in(("measure", "chapter")),
            *_versions_keyed(names, code, r, k))
        with self.engine.connect() as conn:
            subjects = [*conn.execute(pieces).scalars(), *conn.execute(others).scalars()]
            holds_hts = _holds_hts(conn, k, r)
            own = conn.execute(select(VersionRow.id).where(
                VersionRow.subject == f"chapter:{hts[:2]}",
                *seen_at(VersionRow, k, r))).scalars().first()
            # A chapter's state is hundreds of kilobytes: read only when not decoded before.
            own_chapter = None if own is None else cast(ChapterState, _decoded(
                conn, self.cache.states, VersionRow.id, VersionRow.state, [own],
                lambda _: STATE_ADAPTERS["chapter"])[own])
        timeline = self.fold_subjects(subjects, known, recorded)
        chapter: dict[str, ChapterState] = {}
        if own_chapter is not None:
            chapter[hts[:2]] = own_chapter
        elif holds_hts:
            # As in `slice_at`: the code's chapter is not in the HTS the store holds.
            chapter[hts[:2]] = ChapterState(hts[:2])
        return replace(timeline, nomenclature=Nomenclature(chapters=chapter))

    def entries(self, recorded: datetime) -> EventLookup:
        """Recorded events by id as of a recorded time, fetched when an answer cites them."""
        return EventLookup(self.engine, micros(recorded), self.cache.events,
                           self.cache.families)

    # ------------------------------------------------------------ subjects folded again

    def _recorded(self, conn: Connection, where: ColumnElement[bool],
                  recorded: int) -> list[Recorded]:
        """The events matching a condition and recorded by `recorded`, in log order; the
        payloads are read only for events not decoded before."""
        found = conn.execute(select(EventRow.seq, EventRow.recorded_us).where(
            where, EventRow.recorded_us <= recorded).order_by(EventRow.seq)).all()
        events = _decoded(conn, self.cache.events, EventRow.seq, EventRow.payload,
                          [seq for seq, _ in found], lambda _: EVENT_ADAPTER)
        return [Recorded(seq, from_micros(at), events[seq]) for seq, at in found]

    def log(self, recorded: datetime) -> list[Recorded]:
        """The whole log as recorded by `recorded` (for the questions about every event),
        each event at its position in the log, as the event store numbers them."""
        with self.engine.connect() as conn:
            return self._positioned(
                conn, self._recorded(conn, EventRow.seq.is_not(None), micros(recorded)))

    @staticmethod
    def _positioned(conn: Connection, log: list[Recorded]) -> list[Recorded]:
        """The events numbered by their position in the log (1 for the first event), as the
        event store numbers them, not by notification id (the chain's heads take ids too)."""
        if not log:
            return log
        # Every event has a row, so an event's position is its rank among the rows.
        seqs = conn.execute(select(EventRow.seq).where(
            EventRow.seq <= log[-1].seq).order_by(EventRow.seq)).scalars().all()
        return [Recorded(bisect.bisect_left(seqs, entry.seq) + 1, entry.recorded_at,
                         entry.event) for entry in log]

    def subject_keys(self, kinds: Collection[SubjectKind], recorded: datetime) -> list[str]:
        """Every subject ('kind:id') of these kinds that some event recorded by `recorded` is
        or was about, in the order first recorded."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(EventRow.subject, EventRow.seq).where(
                or_(*(EventRow.subject.like(f"{kind}:%") for kind in kinds)),
                EventRow.recorded_us <= micros(recorded)).order_by(EventRow.seq)).all()
        return list(dict.fromkeys(cast(str, subject) for subject, _ in rows))

    def subject_log(self, subjects: Collection[str], recorded: datetime) -> list[Recorded]:
        """Every event recorded by `recorded` that is or ever was about one of the subjects
        ('kind:id'), with every correction and retraction of those events, in log order:
        all that the subjects' states depend on (a subject folds from its own events)."""
        wanted = list(dict.fromkeys(subjects))
        r = micros(recorded)
        ids: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                ids.update(*family_ids(conn, wanted[start:start + 500], r).values())
            family = sorted(ids)
            log: dict[int, Recorded] = {}
            for start in range(0, len(family), 500):
                part = family[start:start + 500]
                log.update((entry.seq, entry) for entry in self._recorded(conn, or_(
                    EventRow.event_id.in_(part), EventRow.target_id.in_(part)), r))
        return [log[seq] for seq in sorted(log)]

    def fold_subjects(self, subjects: Collection[str], known: datetime,
                      recorded: datetime) -> Timeline:
        """The whole states (every effective time) of the subjects ('kind:id') as known at
        `known` and recorded at `recorded`, folded again from their own events: what the
        fold of the whole log holds for them."""
        wanted = set(subjects)
        entries = [e for e in corrected_log(self.subject_log(wanted, recorded), recorded)
                   if subject_key(e.event) in wanted]
        # Not strict: references to subjects left out are checked when an event is imported.
        return fold((e.event for e in known_by(entries, known)), strict=False)

    def fold_policy(self, known: datetime, recorded: datetime) -> Timeline:
        """The timeline as known at `known` and recorded at `recorded` without the HTS
        nomenclature (the log's weight, which the questions asking this do not read), folded
        from the read model's copy of the log, events decoded once for all questions."""
        chapter = "chapter:%"
        # Events about a chapter and their corrections and retractions are left out whole;
        # a correction that turned an event of the HTS into a policy event, or the other way
        # round, would split them, and then the whole log is read.
        policy = and_(or_(EventRow.subject.is_(None), EventRow.subject.not_like(chapter)),
                      or_(EventRow.target_subject.is_(None),
                          EventRow.target_subject.not_like(chapter)))
        with self.engine.connect() as conn:
            crossing = conn.execute(select(EventRow.seq).where(
                EventRow.subject.is_not(None), EventRow.target_subject.is_not(None),
                EventRow.subject.like(chapter) != EventRow.target_subject.like(chapter))
                .limit(1)).first()
            log = self._recorded(conn, policy if crossing is None
                                 else EventRow.seq.is_not(None), micros(recorded))
        entries = corrected_log(log, recorded)
        return fold(e.event for e in known_by(entries, known)
                    if not isinstance(e.event, NomenclatureRevised))

    def sources(self, recorded: datetime) -> list[SourceRow]:
        """Every citation as recorded by `recorded` (corrections applied), with the events
        citing it, from the citations kept as events were applied: what `sources_of` gives
        over the corrected log and the corrections and retractions themselves."""
        r = micros(recorded)
        with self.engine.connect() as conn:
            rows = conn.execute(select(
                CitationRow.title, CitationRow.url, CitationRow.instrument,
                CitationRow.federal_register, CitationRow.via, CitationRow.event_id).where(
                CitationRow.rec_until > r, CitationRow.rec_from <= r).order_by(
                CitationRow.revision, CitationRow.seq, CitationRow.position)).all()
        return cited_by(((title, url, instrument, register, via), event_id)
                        for title, url, instrument, register, via, event_id in rows)

    def coverage(self, effective: datetime, known: datetime,
                 recorded: datetime) -> list[CoverageRow]:
        """Per measure and exemption as known at `known` and recorded at `recorded`: its
        product list and its status at `effective`, from the measures' heads and topmost
        statuses and the exemptions' versions: what `coverage_of` gives over the fold."""
        e, k, r = micros(effective), micros(known), micros(recorded)
        with self.engine.connect() as conn:
            versions = conn.execute(select(
                VersionRow.id, VersionRow.kind, VersionRow.subject).where(
                VersionRow.kind.in_(("measure", "exemption")), *seen_at(VersionRow, k, r))).all()
            statuses = {subject: status for subject, status in conn.execute(select(
                StatusRow.subject, StatusRow.status).where(
                *seen_at(StatusRow, k, r), StatusRow.eff_until > e, StatusRow.eff_from <= e))}
            kinds = {vid: kind for vid, kind, _ in versions}
            states = _decoded(conn, self.cache.states, VersionRow.id, VersionRow.state,
                              list(kinds), lambda vid: STATE_ADAPTERS[kinds[vid]])
        rows: list[CoverageRow] = []
        unlisted: list[str] = []
        for version_id, _, subject in versions:
            state = states[version_id]
            if isinstance(state, ExemptionState):
                rows.append(exemption_coverage(state, effective))
            elif isinstance(state, MeasureHead):
                if state.imposed and not state.scopes:
                    # A head keeps the announcements only of a measure never imposed: one
                    # imposed without a scope is folded again for them.
                    unlisted.append(subject)
                else:
                    rows.append(measure_coverage(state, statuses.get(subject), effective))
        if unlisted:
            folded = self.fold_subjects(unlisted, known, recorded)
            rows += coverage_of(replace(folded, exemptions={}), effective)
        return coverage_rows(rows)

    def nomenclature(self, known: datetime, recorded: datetime) -> Nomenclature:
        """Every chapter of the HTS nomenclature as known at `known` and recorded at
        `recorded` (each with all its revisions)."""
        k, r = micros(known), micros(recorded)
        with self.engine.connect() as conn:
            versions = conn.execute(select(VersionRow.id, VersionRow.subject).where(
                VersionRow.kind == "chapter", *seen_at(VersionRow, k, r)).order_by(
                VersionRow.first_known, VersionRow.first_seq)).all()
            # A chapter's state is hundreds of kilobytes: fewer of them at a time.
            states = _decoded(conn, self.cache.states, VersionRow.id, VersionRow.state,
                              [vid for vid, _ in versions], lambda _: STATE_ADAPTERS["chapter"],
                              chunk=100)
        chapters = {subject.split(":", 1)[1]: cast(ChapterState, states[vid])
                    for vid, subject in versions}
        return Nomenclature(chapters=chapters)

    def nomenclature_under(self, prefix: str, effective: datetime, known: datetime,
                           recorded: datetime) -> Nomenclature:
        """What a diff under an HTS code reads of the nomenclature at `effective`, as known at
        `known` and recorded at `recorded`: every chapter's revisions and, of the code's
        chapter, the lines under the code and its ancestors (`hts.nomenclature_under`);
        every chapter whole when the code is not a line then and has none under it."""
        with self.engine.connect() as conn:
            found = nomenclature_under(conn, prefix, effective, known, recorded)
        return found if found is not None else self.nomenclature(known, recorded)

    def history_log(self, subject: str, recorded: datetime) -> list[Recorded]:
        """The events a history of one subject (by id, of any kind) reads: those about it,
        those of every subject with an event that names it (an exemption's measures, a
        stacking rule's, a ruling's), and their corrections and retractions, each at its
        position in the log: the families of what `history_subjects` chooses from the whole
        log."""
        # Only subjects of the kinds that can name another (not measures, not chapters) are
        # read to find those that name it: `history_subjects` chooses from their events.
        others = self.subject_keys(
            [k for k in get_args(SubjectKind) if k not in ("measure", "chapter")], recorded)
        chosen = history_subjects(self.subject_log(others, recorded), subject)
        log = self.subject_log(sorted(chosen), recorded)
        with self.engine.connect() as conn:
            return self._positioned(conn, log)

    def cell_history_log(self, origin: str, hts: str, recorded: datetime) -> list[Recorded]:
        """The events a history of one origin × HTS cell reads (`cell_history`), recorded by
        `recorded`: the families of the subjects that may bear on the cell under some recorded
        version (`cell_subjects`) and of the code's chapter, each at its position in the log.

        The candidates are found by the scopes events carry (every measure, exemption and
        quota one of whose events, or replacements, named a scope that may cover the cell),
        with every stacking rule; `cell_subjects` over their families chooses the same
        subjects as over the whole log, since it reads only those families' events."""
        r = micros(recorded)
        names, prefixes = _cell_keys(origin, hts)
        with self.engine.connect() as conn:
            keyed = conn.execute(select(EventRow.subject).where(
                EventRow.recorded_us <= r, EventRow.subject.is_not(None),
                EventRow.seq.in_(select(EventOriginRow.seq).where(
                    EventOriginRow.origin.in_(names))),
                EventRow.seq.in_(select(EventProductRow.seq).where(
                    _under(EventProductRow.product, _code(hts, prefixes))))).distinct()).scalars()
            candidates = sorted({cast(str, subject) for subject in keyed})
        rules = self.subject_keys(["rule"], recorded)
        candidate_log = self.subject_log([*candidates, *rules], recorded)
        subjects = cell_subjects(candidate_log, origin, hts)
        # The chosen subjects' families are all in the candidates' (a family holds every
        # event its subject's corrections name): only the chapter's is read again.
        found = {entry.seq: entry for entry in (
            *family_log(candidate_log, subjects),
            *self.subject_log([f"chapter:{hts[:2]}"], recorded))}
        with self.engine.connect() as conn:
            return self._positioned(conn, [found[seq] for seq in sorted(found)])

    # ------------------------------------------------------------ the HTS itself

    def hts_revision(self, effective: datetime, known: datetime,
                     recorded: datetime) -> RevisionInForce | None:
        """The HTS revision in force at `effective` over the whole schedule, as known and
        recorded then (None: no nomenclature)."""
        with self.engine.connect() as conn:
            return revision_in_force(conn, effective, known, recorded)

    def hts_search(self, words: str, at: datetime, known: datetime, recorded: datetime,
                   limit: int, offset: int = 0) -> tuple[int, list[FoundLine]]:
        """Lines in force at `at` holding every word, ranked: how many, and one page."""
        with self.engine.connect() as conn:
            return search_lines(conn, words, at, known, recorded, limit, offset)

    def counts(self) -> dict[str, int]:
        """Rows per table (for reports and tests)."""
        return row_counts(self.engine)


class EventLookup(Mapping[str, Corrected]):
    """Events by id as of a recorded time, with the corrections recorded by then applied."""

    def __init__(self, engine: Engine, recorded: int,
                 parsed: Decoded[PolicyEvent] | None = None,
                 families: Families | None = None) -> None:
        self.engine = engine
        self.recorded = recorded
        self._found: dict[str, Corrected | None] = {}
        self._parsed = parsed if parsed is not None else Decoded(EVENT_BUDGET)
        self._families = families

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """Load many events (and their corrections) in one query, or none when the families
        read at the read model's position (`Families`) hold them all."""
        wanted = [i for i in dict.fromkeys(event_ids) if i not in self._found]
        kept = None if self._families is None else self._families.current()
        # Each family taken once (`get`): another question may clear the families meanwhile.
        read: dict[str, Family] = {}
        for event_id in wanted:
            family = None if kept is None else kept.get(event_id)
            if family is not None:
                read[event_id] = family
        missing = [i for i in wanted if i not in read]
        fetched: dict[str, Family] = {}
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            with self.engine.connect() as conn:
                dialect = conn.dialect.name
                rows = bare_rows(conn, _families_named(dialect),
                                 {"ids": _listed_value(dialect, chunk)})
            members: dict[str, list[Recorded]] = {i: [] for i in chunk}
            for seq, at, payload, event_id, target_id in rows:
                row = Recorded(seq, from_micros(at), self._parsed.get(seq, payload, EVENT_ADAPTER))
                for named in (event_id, target_id):
                    if named in members:
                        members[named].append(row)
            fetched.update((i, tuple(family)) for i, family in members.items())
        if kept is not None and self._families is not None:
            self._families.keep(kept, fetched)
        read.update(fetched)
        # Each row once (a correction of one event may name another asked for), in log order;
        # `corrected_log` leaves out what was recorded after the lookup's time.
        rows_by_seq = {row.seq: row for family in read.values() for row in family}
        found = {e.event.id: e for e in corrected_log(
            (rows_by_seq[seq] for seq in sorted(rows_by_seq)), from_micros(self.recorded))}
        for event_id in wanted:
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


@dataclass(frozen=True)
class _Listing:
    """The rows a slice reads, before any is decoded: each measure's piece (its id, and its
    text when read with it) by subject; the measures' heads in the fold's order (version id,
    subject, text when read); the other subjects' versions in the fold's order (version id,
    kind, subject, the effective instants where its paints start or end)."""

    pieces: dict[str, tuple[int, str | None]]
    heads: list[tuple[int, str, str | None]]
    versions: list[tuple[int, str, str, str | None]]


def _listing(conn: Connection, e: int, k: int, r: int, origin: str | None, hts: str | None,
             without_chapters: bool, texts: bool) -> _Listing:
    """The rows of the slice at (e, k, r), keyed to the origin and HTS code when given (see
    `ReadModelReader.slice_at`), with the pieces' and heads' texts when `texts`."""
    shape, values = _slice_values(e, k, r, origin, hts)
    pieces: dict[str, tuple[int, str | None]] = {}
    heads: list[HeadRow] = []
    versions: list[tuple[int, str, str, str | None]] = []
    for part, subject, pid, text, vid, head_text, first_known, first_seq, kind, marks in (
            bare_rows(conn, _slice_statement(*shape, without_chapters, texts), values)):
        # Part 0 has a piece id, part 1 a kind: the other is None (`_slice_statement`).
        if part == 0:
            pieces[subject] = (cast(int, pid), text)
            heads.append((vid, subject, head_text, first_known, first_seq))
        else:
            versions.append((vid, cast(str, kind), subject, marks))
    return _Listing(pieces, _in_fold_order(heads), versions)


def _joined(conn: Connection, pieces_of: PiecesOf, values: dict[str, Any]
            ) -> tuple[dict[str, tuple[int, str | None]], list[HeadRow]]:
    """The rows of a slice's pieces statement, split into the pieces by subject and the
    heads read with them."""
    pieces: dict[str, tuple[int, str | None]] = {}
    heads: list[HeadRow] = []
    for subject, pid, text, vid, head_text, first_known, first_seq in conn.execute(
            pieces_of, values):
        pieces[subject] = (pid, text)
        heads.append((vid, subject, head_text, first_known, first_seq))
    return pieces, heads


def _in_fold_order(heads: Iterable[HeadRow]) -> list[tuple[int, str, str | None]]:
    """Heads (version id, subject, text) in the order the fold meets them: that in which
    their first events became known."""
    return [(vid, subject, text) for vid, subject, text, _, _ in
            sorted(heads, key=lambda row: (row[3], row[4]))]


def _listings_at_one_known(conn: Connection, effective: tuple[int, int], k: int, r: int,
                           origin: str | None, hts: str | None) -> tuple[_Listing, _Listing]:
    """The rows of the slices at two effective instants, known at `k` and recorded at `r`,
    without texts: the heads and the other subjects' versions do not depend on the
    effective instant, so they are read once for both."""
    pieces: list[dict[str, tuple[int, str | None]]]
    if origin is None and hts is None:
        # Only the pieces that start or end between the instants, each on the side whose
        # instant it holds at: one that holds at both is the same row on both sides, and
        # there are tens of thousands of those in a schedule.
        pieces = [{}, {}]
        low, high = sorted(effective)
        for subject, pid, start, end in conn.execute(
                _PIECES_CROSSING, {"low": low, "high": high, "k": k, "r": r}):
            for side, e in zip(pieces, effective, strict=True):
                if start <= e < end:
                    side[subject] = (pid, None)
        heads = _heads(conn, list({**pieces[0], **pieces[1]}), k, r)
    else:
        # Both sides' heads come with their pieces: known at `k` and recorded at `r`, a
        # measure has one head, the same on both sides.
        pieces, by_subject = [], dict[str, HeadRow]()
        for e in effective:
            pieces_of, _, values = _slice(e, k, r, origin, hts, False, False)
            side, side_heads = _joined(conn, pieces_of, values)
            pieces.append(side)
            by_subject.update((row[1], row) for row in side_heads)
        heads = _in_fold_order(by_subject.values())
    if origin is None and hts is None:
        # Only the versions with a mark between the instants, and the chapters: every
        # other version is the same on both sides (`_differing`), and reading all of them
        # (60,000 at a million events) to decode their marks took a second.
        low, high = sorted(effective)
        versions = _versions(conn, _VERSIONS_MARKED,
                             {"low": low, "high": high, "k": k, "r": r})
    else:
        _, versions_of, values = _slice(effective[0], k, r, origin, hts, False, False)
        versions = _versions(conn, versions_of, values)
    first, second = ([row for row in heads if row[1] in side] for side in pieces)
    return _Listing(pieces[0], first, versions), _Listing(pieces[1], second, versions)


def _slice(e: int, k: int, r: int, origin: str | None, hts: str | None,
           without_chapters: bool, texts: bool
           ) -> tuple[PiecesOf, Select[int, str, str, str | None],
                      dict[str, Any]]:
    """The statements of `_slice_statements` for a question at (e, k, r) about an origin and
    a code (each optional), and their bound parameters (`_slice_values`)."""
    shape, values = _slice_values(e, k, r, origin, hts)
    return (*_slice_statements(*shape, without_chapters, texts), values)


def _slice_values(e: int, k: int, r: int, origin: str | None, hts: str | None
                  ) -> tuple[tuple[int | None, int | None], dict[str, Any]]:
    """The shape of a slice's statements for a question at (e, k, r) about an origin and a
    code (each optional), as `_slice_statements` takes it (how many origin keys and product
    keys, None for a side not asked), and their bound parameters: the origin's keys and the
    code's product keys one parameter each."""
    values: dict[str, Any] = {"e": e, "k": k, "r": r}
    names = sorted(_origin_keys(origin)) if origin is not None else None
    prefixes = None
    if names is not None:
        values.update((f"name_{i}", name) for i, name in enumerate(names))
    if hts is not None:
        prefixes = _row_products(hts, names)
        values.update(hts=hts, hts_end=hts + ";")
        values.update((f"prefix_{i}", prefix) for i, prefix in enumerate(prefixes))
    return (None if names is None else len(names),
            None if prefixes is None else len(prefixes)), values


def _heads(conn: Connection, subjects: list[str], k: int, r: int
           ) -> list[tuple[int, str, str | None]]:
    """The heads of these measures known at `k` and recorded at `r` (version id, subject,
    None for the text, which is not read), in the order the fold meets them."""
    rows: list[Any] = []
    for start in range(0, len(subjects), 500):
        rows += conn.execute(_HEAD_IDS, {
            "subjects": subjects[start:start + 500], "k": k, "r": r}).all()
    return _in_fold_order(rows)


def _versions(conn: Connection, versions_of: Select[int, str, str, str | None],
              values: dict[str, Any]) -> list[tuple[int, str, str, str | None]]:
    """The versions of the subjects other than measures in a slice, in the fold's order
    (version id, kind, subject, effective marks)."""
    return [(vid, kind, subject, marks)
            for vid, kind, subject, marks in conn.execute(versions_of, values)]


_WITHOUT_ROWS = ("deal", "ruling")
"""Kinds of subject that give no row of the schedule."""


def _differing(before: _Listing, after: _Listing, low: int, high: int,
               moved: Collection[str] = ()) -> tuple[_Listing, _Listing]:
    """The two sides' listings without the subjects whose rows of the schedule are the same
    on both (see `ReadModelReader.slices_between`; `low` and `high`: the two effective
    instants, in order; `moved`: measures whose row's stretch differs between them)."""
    heads = [{subject: vid for vid, subject, _ in side.heads} for side in (before, after)]
    same = {subject for subject, (pid, _) in before.pieces.items()
            if after.pieces.get(subject, (None, None))[0] == pid
            and heads[0].get(subject) == heads[1].get(subject) and subject not in moved}
    later = {subject: vid for vid, _, subject, _ in after.versions}
    same.update(subject for vid, kind, subject, marks in before.versions
                if kind != "chapter" and later.get(subject) == vid
                and (low == high or not _marked(marks, low, high)))

    def narrowed(side: _Listing) -> _Listing:
        return _Listing({s: row for s, row in side.pieces.items() if s not in same},
                        [row for row in side.heads if row[1] not in same],
                        [row for row in side.versions
                         if row[2] not in same and row[1] not in _WITHOUT_ROWS])

    return narrowed(before), narrowed(after)


def _marked(marks: str | None, low: int, high: int) -> bool:
    """Whether a paint of a version starts or ends in (low, high] (so what it says may differ
    between the two instants); always, for a version whose marks are not kept."""
    if marks is None:
        return True
    instants: list[int] = json.loads(marks)
    found = bisect.bisect_right(instants, low)
    return found < len(instants) and instants[found] <= high


def _timeline(tables: dict[str, dict[str, Any]]) -> Timeline:
    """A timeline of the states read, by kind and id."""
    return Timeline(measures=tables["measure"], exemptions=tables["exemption"],
                    quotas=tables["quota"], rules=tables["rule"], deals=tables["deal"],
                    rulings=tables["ruling"],
                    nomenclature=Nomenclature(chapters=tables["chapter"]))


def _status_rows(conn: Connection, subjects: Sequence[str], e: int, k: int, r: int
                 ) -> dict[str, tuple[int, int, int, str]]:
    """The status row holding at (e, k, r) of each of these measures that has a status at
    `e` (its id, its effective bounds, the events bounding it as stored)."""
    return {subject: (row_id, eff_from, eff_until, by)
            for subject, row_id, eff_from, eff_until, by in _listed_rows(
                conn, _status_rows_of(conn.dialect.name), subjects, e=e, k=k, r=r)}


@cache
def _status_rows_of(dialect: str) -> Select[str, int, int, int, str]:
    """The status rows of a list of measures (`_in_listed`) holding at (e, k, r): every
    question that lists a measure in force reads its row, to say since and until."""
    return select(StatusRow.subject, StatusRow.id, StatusRow.eff_from, StatusRow.eff_until,
                  StatusRow.bounded_by).where(
        _in_listed(StatusRow.subject, String, dialect),
        *seen_at(StatusRow, bindparam("k"), bindparam("r")),
        StatusRow.eff_from <= bindparam("e"), StatusRow.eff_until > bindparam("e"))


def _stretch_keys(conn: Connection, subjects: Sequence[str], e: int, k: int, r: int
                  ) -> dict[str, object]:
    """What decides each of these measures' row's since and until at (e, k, r): the id of
    its status row at `e`, or, with no status there (scheduled: its row shows the stretch
    its row will hold from its start), the ids of all its status rows after `e`."""
    later: dict[str, list[tuple[int, int]]] = {}
    for subject, row_id, eff_from in _listed_rows(
            conn, _status_rows_after_of(conn.dialect.name), subjects, e=e, k=k, r=r):
        later.setdefault(subject, []).append((eff_from, row_id))
    keys: dict[str, object] = {}
    for subject, rows in later.items():
        at = [row_id for eff_from, row_id in rows if eff_from <= e]
        keys[subject] = at[0] if at else frozenset(row_id for _, row_id in rows)
    return keys


@cache
def _status_rows_after_of(dialect: str) -> Select[str, int, int]:
    """The status rows of a list of measures (`_in_listed`) seen at (k, r) that end after
    `e`: the one holding at `e`, and those after it."""
    return select(StatusRow.subject, StatusRow.id, StatusRow.eff_from).where(
        _in_listed(StatusRow.subject, String, dialect),
        *seen_at(StatusRow, bindparam("k"), bindparam("r")),
        StatusRow.eff_until > bindparam("e"))


def _stretch_of(row: tuple[int, int, int, str]) -> Stretch:
    """The stretch a status row (`_status_rows`) holds."""
    _, eff_from, eff_until, by = row
    return Stretch(effective_from_micros(eff_from),
                   None if eff_until >= FOREVER else effective_from_micros(eff_until),
                   tuple(json.loads(by)))


def _stretches(conn: Connection, subjects: Sequence[str], e: int, k: int, r: int
               ) -> dict[str, Stretch]:
    """The stretch each of these measures' row holds over at (e, k, r), from its status
    rows: every one has a status at `e`, so each has a row, or the rows moved while read."""
    found = {subject: _stretch_of(row)
             for subject, row in _status_rows(conn, subjects, e, k, r).items()}
    _all_read(subjects, found, "measure(s) listed by this question had no status row",
              "first")
    return found


def _texts(conn: Connection, key: InstrumentedAttribute[int], text: InstrumentedAttribute[str],
           ids: Sequence[int], chunk: int = 500) -> dict[int, str]:
    """The stored text of each of these rows, read a chunk of ids at a time (for the rows
    not decoded before: a decoded row is never read again)."""
    statement = _texts_of(cast(type, key.class_), key.key, text.key, conn.dialect.name)
    found: dict[int, str] = dict(_listed_rows(conn, statement, ids, chunk))
    _all_read(ids, found, f"row(s) of {key.class_.__tablename__} listed by this question "
              "were gone", "first id")
    return found


def _listed_rows(conn: Connection, statement: SelectBase, ids: Sequence[Any], chunk: int = 500,
                 **values: Any) -> Iterator[Any]:
    """The rows of a statement listing `ids` in its one parameter (`_in_listed`), run bare
    a chunk of ids at a time, with its other parameters' `values`."""
    dialect = conn.dialect.name
    for start in range(0, len(ids), chunk):
        yield from bare_rows(conn, statement, {
            **values, "ids": _listed_value(dialect, ids[start:start + chunk])})


def _all_read(wanted: Sequence[Any], found: Mapping[Any, object], what: str,
              first: str) -> None:
    """RowsMoved when rows a question listed were not there when it read them."""
    if len(found) < len(set(wanted)):
        gone = sorted(set(wanted) - found.keys())
        raise RowsMoved(f"{len(gone)} {what} when it read them ({first} {gone[0]}): the "
                        "read model was rebuilt, or an append recorded at the question's "
                        "own instant replaced them, while it read; ask again")


def _decoded(conn: Connection, cache: Decoded[T], key: InstrumentedAttribute[int],
             text: InstrumentedAttribute[str], ids: Sequence[int],
             adapter: Callable[[int], TypeAdapter[Any]], chunk: int = 500) -> dict[int, T]:
    """The decoded value of each of these rows: those the cache holds, taken before any is
    decoded (decoding the others may push them out of its budget), and the others read and
    decoded now."""
    found: dict[int, T | None] = {row_id: cache.cached(row_id) for row_id in ids}
    texts = _texts(conn, key, text, [i for i, value in found.items() if value is None],
                   chunk)
    return {row_id: value if value is not None else cache.get(row_id, texts[row_id],
                                                               adapter(row_id))
            for row_id, value in found.items()}


Code = tuple[Any, Any, Any]
"""An HTS code as conditions take it: the code, the code + ';' (just after every code under
it) and the product keys that cover it (`_product_keys` of an event, `_row_products` of a
piece or version), as values or as bound parameters."""
Names = Any
"""Origin keys as conditions take them: a collection of names, or bound parameters (one each)."""


def _in_listed(column: InstrumentedAttribute[Any], element: type[Integer] | type[String],
               dialect: str) -> ColumnElement[bool]:
    """`column IN` the values listed in the one bound parameter `ids` (`_listed_value`): an
    array on PostgreSQL, a JSON array on SQLite. Unlike an IN list expanded at execution
    (rendered again by SQLAlchemy for each length), the statement's text is the same for any
    number of values: it runs on the driver's cursor (`bare_rows`), and PostgreSQL can keep
    it prepared."""
    ids: BindParameter[Any] = bindparam("ids")
    if dialect == "postgresql":
        return column == any_(cast_(ids, ARRAY(element)))
    listed = func.json_each(ids).table_valued("value")
    return column.in_(select(listed.c.value).scalar_subquery())


def _listed_value(dialect: str, values: Sequence[Any]) -> Any:
    """The value of the parameter `_in_listed` binds, for these values."""
    return list(values) if dialect == "postgresql" else json.dumps(list(values))


@cache
def _texts_of(mapped: type[Any], key: str, text: str, dialect: str
              ) -> Select[int, str]:
    """Rows' ids and texts by a list of ids (`_in_listed`), of a mapped table's columns."""
    id_column = getattr(mapped, key)
    return select(id_column, getattr(mapped, text)).where(
        _in_listed(id_column, Integer, dialect))


@cache
def _families_named(dialect: str) -> Select[int, int, str, str, str | None]:
    """The rows of events and of those correcting or retracting them, whenever recorded: the
    families (`codec.Family`) of the ids listed (`_in_listed`), in log order."""
    return select(EventRow.seq, EventRow.recorded_us, EventRow.payload, EventRow.event_id,
                  EventRow.target_id).where(
        or_(_in_listed(EventRow.event_id, String, dialect),
            _in_listed(EventRow.target_id, String, dialect))).order_by(EventRow.seq)


# The subjects of the HTS chapters ("chapter:01" ...), as a range the subject index serves.
_CHAPTER_SUBJECTS = (VersionRow.subject >= "chapter:", VersionRow.subject < "chapter;")

# The keys of every product keyed by an origin (`every_product`), as a range.
_EVERY_PRODUCT_END = EVERY_PRODUCT[:-1] + ";"


def _holds_hts(conn: Connection, k: int, r: int) -> bool:
    """Whether the store held some chapter of the HTS as known at `k` and recorded at `r`."""
    # By the subject index: there is none on the kind, and a scan of the versions took
    # 150 ms at a million events.
    return conn.execute(select(VersionRow.id).where(
        *_CHAPTER_SUBJECTS, *seen_at(VersionRow, k, r)).limit(1)).first() is not None


def _code(hts: str, prefixes: Collection[str]) -> Code:
    return hts, hts + ";", prefixes


# The heads of the measures whose pieces cross two effective instants, without their texts,
# built once with bound parameters (subjects, k, r): see `_listings_at_one_known`. A slice's
# own pieces bring their heads with them (`_slice_statements`).
_HEAD_IDS = select(VersionRow.id, VersionRow.subject, null(), VersionRow.first_known,
                   VersionRow.first_seq).where(
    VersionRow.subject.in_(bindparam("subjects", expanding=True)),
    *seen_at(VersionRow, bindparam("k"), bindparam("r")))


# The pieces known at `k` and recorded at `r` that start or end in (low, high], each by its
# own index: see `_listings_at_one_known`.
_PIECES_CROSSING = union(*(
    select(PieceRow.subject, PieceRow.id, PieceRow.eff_from, PieceRow.eff_until).where(
        bound > bindparam("low"), bound <= bindparam("high"),
        *seen_at(PieceRow, bindparam("k"), bindparam("r")))
    for bound in (PieceRow.eff_from, PieceRow.eff_until)))


# The versions known at `k` and recorded at `r` that `_differing` may keep between two
# effective instants `low` < `high`: those of the kinds that keep marks (`versions.MARKED`)
# with one in (low, high], found by the marks' index, and the HTS chapters, which keep none
# and are read whole. Measures are read through their pieces and heads; deals and court
# rulings give no rows. In the fold's order, as `_slice_statements`' versions.
_VERSIONS_MARKED = select(
    VersionRow.id, VersionRow.kind, VersionRow.subject, VersionRow.eff_marks).where(
    *seen_at(VersionRow, bindparam("k"), bindparam("r")),
    or_(VersionRow.id.in_(select(MarkRow.version_id).where(
            MarkRow.mark > bindparam("low"), MarkRow.mark <= bindparam("high"),
            MarkRow.known_until > bindparam("k"), MarkRow.rec_until > bindparam("r"),
            MarkRow.known_from <= bindparam("k"))),
        and_(*_CHAPTER_SUBJECTS)),
).order_by(VersionRow.first_known, VersionRow.first_seq)


@cache
def _slice_statements(names_count: int | None, prefixes_count: int | None,
                      without_chapters: bool, texts: bool
                      ) -> tuple[PiecesOf,
                                 Select[int, str, str, str | None]]:
    """The two statements of `ReadModelReader.slice_at` for one shape of question: the
    pieces in force, and the versions of the other subjects (not measures; not chapters
    either when `without_chapters`), keyed to the origin (by so many origin keys) and the
    code (by so many product keys) when asked. Built once, with bound parameters (e, k, r,
    name_0.., hts, hts_end, prefix_0..): a rate question runs each once, and building and
    compiling them took SQLAlchemy longer than SQLite took to run them. The keys are one
    parameter each, not an expanding list, which SQLAlchemy renders into the statement's
    text again at every run. Without `texts`, the pieces' texts are not read (None in their
    place)."""
    e: BindParameter[int] = bindparam("e")
    k: BindParameter[int] = bindparam("k")
    r: BindParameter[int] = bindparam("r")
    names: Names | None = None if names_count is None else [
        bindparam(f"name_{i}") for i in range(names_count)]
    code: Code | None = None if prefixes_count is None else (
        bindparam("hts"), bindparam("hts_end"),
        [bindparam(f"prefix_{i}") for i in range(prefixes_count)])
    # Each piece with its measure's head (one version known at `k` and recorded at `r`),
    # found by the subject index: one statement where two cost SQLAlchemy twice.
    pieces = select(PieceRow.subject, PieceRow.id, PieceRow.state if texts else null(),
                    VersionRow.id, VersionRow.state if texts else null(),
                    VersionRow.first_known, VersionRow.first_seq).join(
        VersionRow, and_(VersionRow.subject == PieceRow.subject,
                         *seen_at(VersionRow, k, r))).where(
        *seen_at(PieceRow, k, r), PieceRow.eff_until > e, PieceRow.eff_from <= e,
        *_pieces_keyed(names, code, r, k, e, e))
    versions = select(VersionRow.id, VersionRow.kind, VersionRow.subject,
                      VersionRow.eff_marks).where(
        *seen_at(VersionRow, k, r), VersionRow.kind != "measure",
        *_versions_keyed(names, code, r, k))
    if without_chapters:
        versions = versions.where(VersionRow.kind != "chapter")
    return pieces, versions.order_by(VersionRow.first_known, VersionRow.first_seq)


@cache
def _slice_statement(names_count: int | None, prefixes_count: int | None,
                     without_chapters: bool, texts: bool) -> SliceOf:
    """`_slice_statements`' two statements as one, for a reader of both at one instant (a
    statement costs a round trip, a quarter of a millisecond on PostgreSQL): each row is
    (part, subject, piece id, piece text, version id, version text, first known instant and
    sequence number, kind, marks), part 0 a piece with its measure's head (kind and marks
    None) and part 1 another subject's version (piece and texts None), the versions in the
    fold's order."""
    pieces, versions = _slice_statements(names_count, prefixes_count, without_chapters, texts)
    subject, pid, text, vid, head_text, first_known, first_seq = pieces.selected_columns
    none_text = cast_(null(), Text)
    return cast(SliceOf, union_all(
        pieces.with_only_columns(
            literal_column("0", Integer).label("part"), subject, pid.label("piece_id"),
            text.label("piece_text"), vid.label("version_id"),
            head_text.label("version_text"), first_known, first_seq,
            cast_(null(), String).label("kind"), none_text.label("marks"),
            maintain_column_froms=True),
        versions.with_only_columns(
            literal_column("1", Integer), VersionRow.subject, cast_(null(), Integer),
            none_text, VersionRow.id, none_text, VersionRow.first_known,
            VersionRow.first_seq, VersionRow.kind, VersionRow.eff_marks).order_by(None),
    ).order_by(literal_column("part"), literal_column("first_known"),
               literal_column("first_seq")))


def _cell_keys(origin: str, hts: str) -> tuple[set[str], set[str]]:
    """The origin keys (the origin, its groups, every origin) and product keys (every
    prefix of the code, every product) under which what may cover a cell is found."""
    return _origin_keys(origin), _product_keys(hts)


def _origin_keys(origin: str) -> set[str]:
    """The origin keys a measure that may cover an origin is found under: the origin, its
    groups and every origin."""
    return {origin, ALL} | {g for g, members in ORIGIN_GROUPS.items() if origin in members}


def _product_keys(hts: str) -> set[str]:
    """The product keys an event that may cover a code is found under: every prefix of the
    code and every product."""
    return {hts[:n] for n in range(2, len(hts) + 1, 2)} | {ALL}


def _row_products(hts: str, names: Collection[str] | None) -> list[str]:
    """The product keys a piece or version that may cover a code is found under: every
    prefix of the code and, for a question about an origin (its keys `names`), every product
    keyed by one of them (`every_product`); without an origin, `_under` ranges over all
    those."""
    keys = _product_keys(hts) - {ALL}
    if names is not None:
        keys |= {every_product(name) for name in names}
    return sorted(keys)


def _under(column: InstrumentedAttribute[str], code: Code, every_origin: bool = False
           ) -> ColumnElement[bool]:
    """A product key that may cover the code: one of its keys, or a code under it; with
    `every_origin`, also every product keyed by any origin (`every_product`)."""
    hts, end, prefixes = code
    found = [column.in_(prefixes), and_(column > hts, column < end)]
    if every_origin:
        found.append(and_(column >= EVERY_PRODUCT, column < _EVERY_PRODUCT_END))
    return or_(*found)


def _keyed(owner: InstrumentedAttribute[int],
           products: tuple[InstrumentedAttribute[int], InstrumentedAttribute[str]],
           origins: tuple[InstrumentedAttribute[int], InstrumentedAttribute[str]],
           names: Names | None, code: Code | None,
           in_force: Callable[[Any], list[ColumnElement[bool]]]) -> list[ColumnElement[bool]]:
    """Conditions on a row (a piece or a version, by its id `owner`): keyed to one of the
    origin `names` and to the HTS `code` (the code and its prefixes) by key rows that
    `in_force` keeps; None leaves that side out."""
    found: list[ColumnElement[bool]] = []
    origin_owner, origin = origins
    if code is not None:
        product_owner, product = products
        keys = select(product_owner).where(_under(product, code, every_origin=names is None),
                                           *in_force(product_owner.class_))
        if names is not None:
            # A key row carries its owner's intervals (written and closed with it), so with
            # the products chosen by them, the origin is one lookup of the key's primary key
            # per candidate: a busy origin holds hundreds of thousands of keys to range over.
            # Asked of the key, before the owner's row (a piece's holds its state) is read.
            keys = keys.where(exists().where(origin_owner == product_owner,
                                             origin.in_(names)))
        found.append(owner.in_(keys))
    elif names is not None:
        found.append(owner.in_(select(origin_owner).where(
            origin.in_(names), *in_force(origin_owner.class_))))
    return found


def _pieces_keyed(names: Names | None, code: Code | None,
                  r: Any, k: Any, low: Any, high: Any) -> list[ColumnElement[bool]]:
    """Conditions on a piece: keyed to one of the origin `names`, and to the HTS `code`, while
    it holds somewhere in [low, high], as known at `k` and recorded at `r`."""
    def in_force(keys: Any) -> list[ColumnElement[bool]]:
        return [keys.known_until > k, keys.eff_until > low, keys.rec_until > r,
                keys.eff_from <= high, keys.known_from <= k]

    return _keyed(PieceRow.id, (PieceProductRow.piece_id, PieceProductRow.product),
                  (PieceOriginRow.piece_id, PieceOriginRow.origin), names, code, in_force)


def _versions_keyed(names: Names | None, code: Code | None,
                    r: Any, k: Any) -> list[ColumnElement[bool]]:
    """Conditions on a version: keyed to one of the origin `names` and to the HTS `code`, as
    known at `k` and recorded at `r`."""
    def in_force(keys: Any) -> list[ColumnElement[bool]]:
        return [keys.known_until > k, keys.rec_until > r, keys.known_from <= k]

    return _keyed(VersionRow.id, (ProductKeyRow.version_id, ProductKeyRow.product),
                  (OriginKeyRow.version_id, OriginKeyRow.origin), names, code, in_force)


def family_ids(conn: Session | Connection, subjects: Sequence[str],
               recorded_us: int | None = None) -> dict[str, set[str]]:
    """For each subject ('kind:id'), the ids of the events that are or ever were about it and
    of the events those correct or retract: all that its state folds from (recorded by
    `recorded_us`, if given). The one rule the writer's re-fold, the questions and an
    append's check share."""
    conditions = [or_(EventRow.subject.in_(subjects), EventRow.target_subject.in_(subjects))]
    if recorded_us is not None:
        conditions.append(EventRow.recorded_us <= recorded_us)
    return families_in(conn.execute(select(
        EventRow.event_id, EventRow.subject, EventRow.target_id,
        EventRow.target_subject).where(*conditions)), subjects)


def families_in(rows: Iterable[tuple[str, str | None, str | None, str | None]],
                subjects: Iterable[str]) -> dict[str, set[str]]:
    """`family_ids` from the rows it reads (event id, subject, target id, target subject: the
    events about the subjects and those correcting or retracting them)."""
    ids: dict[str, set[str]] = {s: set() for s in subjects}
    for event_id, subject, target_id, target_subject in rows:
        if subject in ids:
            ids[subject].add(event_id)
        for owner in (subject, target_subject):
            if owner in ids and target_id is not None:
                ids[owner].add(target_id)
    return ids
