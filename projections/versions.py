"""A subject's versions over known time: what the read model stores for each subject (a measure
as a head per version and its pieces, see ``pieces``; the others as their whole folded state).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, cast

from pydantic import TypeAdapter

from tariff_timeline.domain.errors import StoreError
from tariff_timeline.domain.nomenclature import ChapterState, Nomenclature
from tariff_timeline.domain.paint import Paint
from tariff_timeline.domain.timeline import (
    DealState,
    ExemptionState,
    QuotaState,
    RuleState,
    Timeline,
    fold,
)
from tariff_timeline.events import ALL, EVERYWHERE, CourtRuled, Scope
from tariff_timeline.events.instants import fold_key, micros
from tariff_timeline.projections.pieces import (
    FOREVER,
    MeasureHead,
    MeasurePiece,
    PieceSpan,
    StatusSpan,
    known_groups,
    measure_tables,
)
from tariff_timeline.projections.replay import Corrected, known_order

STATE_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "measure": TypeAdapter(MeasureHead),
    "exemption": TypeAdapter(ExemptionState),
    "quota": TypeAdapter(QuotaState),
    "rule": TypeAdapter(RuleState),
    "deal": TypeAdapter(DealState),
    "ruling": TypeAdapter(CourtRuled),
    "chapter": TypeAdapter(ChapterState),
}
"""How each kind of subject's stored state is written and read (a measure: its head)."""


MARKED = ("exemption", "quota", "rule")
"""The kinds of subject whose versions keep their effective marks (`effective_marks`): those
that give rows of the schedule besides measures (a diff compares no other)."""


def effective_marks(kind: str, state: object) -> tuple[int, ...] | None:
    """The instants (microseconds) along the effective clock where one of the paints of a
    subject's state starts or ends, in order: between two instants with none between them,
    the state says the same. None for the kinds that do not keep them (a measure's head, its
    pieces being cut at these instants already; a deal or court ruling, which give no row of
    the schedule; an HTS chapter)."""
    if kind not in MARKED:
        return None
    marks: set[int] = set()
    for field in fields(cast(Any, state)):
        value = getattr(state, field.name)
        if isinstance(value, tuple):
            for paint in value:
                if isinstance(paint, Paint):
                    marks.add(micros(paint.start))
                    if paint.end is not None:
                        marks.add(micros(paint.end))
    return tuple(sorted(marks))


def _subject_state(timeline: Timeline, kind: str, ident: str) -> object | None:
    table: Mapping[str, object] = {
        "measure": timeline.measures, "exemption": timeline.exemptions,
        "quota": timeline.quotas, "rule": timeline.rules, "deal": timeline.deals,
        "ruling": timeline.rulings, "chapter": timeline.nomenclature.chapters,
    }[kind]
    return table.get(ident)


def _scopes(kind: str, state: object) -> list[Scope]:
    # Measures are found through their pieces' keys, not their versions'.
    if isinstance(state, ExemptionState | QuotaState):
        return [state.scope]
    if isinstance(state, DealState):
        return [state.partners]
    if isinstance(state, CourtRuled):
        # A ruling names measures, not goods, and changes collection only through other
        # events (an invalidation paints the measure): no question about goods reads it.
        return []
    # A stacking rule has no scope: it bears on every question whose layers it names.
    return [EVERYWHERE]


EVERY_PRODUCT = "ALL:"
"""The start of the product keys of a row that covers every product: one key per origin key
(`ALL:CN`, `ALL:EU`, `ALL:ALL`), see `every_product`."""


def every_product(origin: str) -> str:
    """The product key of a row that covers every product, found by a question about
    `origin` (an origin key: a code, a group or ALL)."""
    return EVERY_PRODUCT + origin


def _keys(origins: set[str], products: set[str]) -> tuple[set[str], set[str]]:
    """The keys of a row with these origins and products (see `every_product`)."""
    if ALL not in products:
        return origins, products
    # A single 'ALL' key held every such row of every origin (tens of thousands at a million
    # events), and a question about one origin ranged over all of them. A row that covers
    # every product matches a question of any code, so what decides is its origin: it is
    # keyed by that, and needs no other product key.
    return origins, {every_product(o) for o in origins} or {EVERY_PRODUCT}


def version_keys(kind: str, state: object) -> tuple[set[str], set[str]]:
    """Origins and products through which a question finds a version of a subject (an HTS
    chapter: every origin, and its two digits, so a question about one code finds only its
    chapter; a court ruling: none, so only a question about no goods in particular finds
    it). Every product is keyed by origin: see `every_product`."""
    if isinstance(state, ChapterState):
        return {ALL}, {state.chapter}
    origins: set[str] = set()
    products: set[str] = set()
    for scope in _scopes(kind, state):
        origins.update(scope.origins)
        products.update(scope.products)
    return _keys(origins, products)

@dataclass(frozen=True)
class SubjectVersion:
    """A subject's folded state over [known_from, known_until), and where it starts."""

    known_from: int
    known_until: int
    text: str
    state: object
    first_known: int
    first_seq: int


def piece_keys(piece: MeasurePiece) -> tuple[set[str], set[str]]:
    """Origins and products through which a question finds a piece: those of the scope the
    rate engine tests goods against over it (the piece's own, or the announcements', first or
    last scope it falls back on, see ``pieces.found_by``); every product keyed by origin, see
    `every_product`."""
    if piece.found_by is not None:
        return _keys(set(piece.found_by.origins), set(piece.found_by.products))
    if piece.scope is None:
        # Not written since the pieces know what they fall back on; kept exact all the same.
        return _keys({ALL}, {ALL})
    scope = piece.scope[1].value
    return _keys(set(scope.origins), set(scope.products))


def subject_rows(entries: Sequence[Corrected], subject: str) -> tuple[
        Iterable[SubjectVersion], list[PieceSpan], list[StatusSpan]]:
    """The versions of a subject over known time (given one at a time, as they are folded:
    see `versions_of`) and, for a measure, its pieces and its topmost statuses."""
    kind, ident = subject.split(":", 1)
    if kind != "measure":
        return versions_of(entries, subject), [], []
    ordered = known_order(entries)
    if not ordered:
        return [], [], []
    first_known, first_seq = fold_key(ordered[0].event.known), ordered[0].seq
    heads, pieces, statuses = measure_tables(ordered, ident)
    adapter = STATE_ADAPTERS[kind]
    return [SubjectVersion(h.known_from, h.known_until, adapter.dump_json(h.head).decode(),
                           h.head, first_known, first_seq) for h in heads], pieces, statuses


def versions_of(entries: Sequence[Corrected], subject: str) -> Iterator[SubjectVersion]:
    """The versions of a subject other than a measure: its state after each known instant of
    its events, given as they are folded (a stacking rule's state grows with its history, so
    all its versions together grow with the square of it)."""
    kind, ident = subject.split(":", 1)
    ordered = known_order(entries)
    if not ordered:
        return
    yield from _folded(Timeline(), known_groups(ordered), kind, ident, None,
                       (fold_key(ordered[0].event.known), ordered[0].seq))


def _folded(state: Timeline, groups: list[tuple[int, list[Corrected]]], kind: str, ident: str,
            last: SubjectVersion | None, first: tuple[int, int]) -> Iterator[SubjectVersion]:
    """The versions of a subject as each group of entries is folded onto `state`, after
    `last` (the version before the first group, if any), one for each known instant at
    which its state changes; `first`: the first known instant and log position of its
    history (what orders the subject in the fold)."""
    for index, (at, group) in enumerate(groups):
        state = fold((entry.event for entry in group), state, strict=False)
        until = groups[index + 1][0] if index + 1 < len(groups) else FOREVER
        found = _subject_state(state, kind, ident)
        if found is None:
            continue
        text = STATE_ADAPTERS[kind].dump_json(found).decode()
        if last is not None and last.text == text and last.known_until == at:
            last = replace(last, known_until=until)
            continue
        if last is not None:
            yield last
        last = SubjectVersion(at, until, text, found, *first)
    if last is not None:
        yield last


CONTINUED = ("exemption", "quota", "rule", "deal", "ruling", "chapter")
"""The kinds whose versions an append of later events continues from the last one
(`versions_after`) instead of folding the whole history again (a chapter's lines too, from
its last version's: `readmodel.hts.write_chapters`): a measure's pieces are made from every
version."""

RESUMED = tuple(kind for kind in CONTINUED if kind != "chapter")
"""The kinds whose versions an append that changes their history anywhere folds again from
the version before the first known instant it changes (`readmodel.writer`): a chapter's
lines are continued from its last version only."""

_HOLDERS = {"exemption": "exemptions", "quota": "quotas", "rule": "rules", "deal": "deals",
            "ruling": "rulings", "chapter": "chapters"}
"""Where a timeline holds each kind's states (a chapter's: in its nomenclature)."""


def holding(states: Mapping[str, object]) -> Timeline:
    """A timeline that knows these subjects (of kinds in CONTINUED) alone, each in its state."""
    holders: dict[str, dict[str, object]] = {}
    for subject, state in states.items():
        kind, ident = subject.split(":", 1)
        if kind not in CONTINUED:
            raise StoreError(f"{subject}: a {kind}'s stored versions do not hold its whole "
                             "state")
        holders.setdefault(_HOLDERS[kind], {})[ident] = state
    chapters = cast(dict[str, ChapterState], holders.pop("chapters", {}))
    return Timeline(**cast(dict[str, Any], holders), nomenclature=Nomenclature(chapters))


def versions_after(last: SubjectVersion, later: Sequence[Corrected],
                   subject: str) -> list[SubjectVersion]:
    """The versions of a subject (of a kind in CONTINUED) from its last one on, when `later`
    entries about it, all known after every event its last version holds, are added: that
    version's state folded further, group by group, as `versions_of` over the whole history
    would give them (the last version first, ended where the next starts or extended while
    the state stays the same). A stacking rule changed thousands of times was folded whole
    again, and every one of its versions encoded again, on every append about it."""
    kind, ident = subject.split(":", 1)
    groups = known_groups(later)
    if kind not in CONTINUED or not groups or groups[0][0] <= last.known_from:
        raise StoreError(f"{subject}: the events given do not continue its last version")
    state = holding({subject: last.state})
    return list(_folded(state, groups, kind, ident, replace(last, known_until=groups[0][0]),
                        (last.first_known, last.first_seq)))
