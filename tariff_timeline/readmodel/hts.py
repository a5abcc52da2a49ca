"""The HTS nomenclature in the read model: each line's versions as rows (written with the
chapters' versions, in the same transaction), the revisions, and ranked full-text search of
the descriptions (SQLite FTS5, PostgreSQL tsvector)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from tariff_timeline.domain.errors import StoreError
from tariff_timeline.domain.nomenclature import (
    ChapterState,
    Nomenclature,
    PathStep,
    RevisionInForce,
    revision_at,
    search_rank,
    search_terms,
    words_of,
)
from tariff_timeline.domain.paint import Cover, Paint, paint_at
from tariff_timeline.events.instants import effective_from_micros, from_micros, micros
from tariff_timeline.events.nomenclature import HtsLine
from tariff_timeline.projections.lines import revision_of
from tariff_timeline.projections.pieces import FOREVER
from tariff_timeline.projections.versions import SubjectVersion
from tariff_timeline.readmodel.bare import bare_rows
from tariff_timeline.readmodel.tables import (
    HTS_FTS,
    HtsLineRow,
    HtsRevisionRow,
    give_ids,
    seen_at,
)

CHUNK = 500

_LINE_KEY = ("code", "indent", "parent", "description", "context", "path", "units", "general",
             "special", "other", "revision", "event_id", "eff_from", "eff_until", "known_from",
             "known_until")
_REVISION_KEY = ("revision", "event_id", "eff_from", "starts", "known_from", "known_until")


# ---------------------------------------------------------------- what a chapter's versions hold


def _epochs(chapter: ChapterState) -> list[tuple[int, int]]:
    """The effective intervals between the starts of the chapter's revisions: within one,
    no line and no ancestor of a line changes."""
    starts = sorted({micros(p.start) for p in chapter.revisions})
    return [(start, starts[i + 1] if i + 1 < len(starts) else FOREVER)
            for i, start in enumerate(starts)]


def _lines_at(chapter: ChapterState, at: datetime) -> dict[str, Paint[HtsLine | None]]:
    found: dict[str, Paint[HtsLine | None]] = {}
    for code, versions in chapter.lines.items():
        paint = paint_at(versions, at)
        if paint is not None and paint.value is not None:
            found[code] = paint
    return found


Signature = tuple[object, ...]
"""A line's version and its ancestors' versions, as (parent's signature, code, event): two
equal signatures give the same row, so a row is built once however many epochs and known
versions repeat it."""


_JSON = json.JSONEncoder(ensure_ascii=False).encode


def _signatures(lines: Mapping[str, Paint[HtsLine | None]]) -> dict[str, Signature]:
    """Each line's signature, ancestors before their descendants."""
    signatures: dict[str, Signature] = {}
    for code in lines:
        pending: list[str] = []
        item: str | None = code
        while item is not None and item in lines and item not in signatures and (
                item not in pending):
            pending.append(item)
            found = lines[item].value
            item = None if found is None else found.parent
        for step in reversed(pending):
            line = lines[step].value
            above = None if line is None or line.parent is None else signatures.get(
                line.parent)
            signatures[step] = (above, step, lines[step].event_id)
    return signatures


def _path(lines: Mapping[str, Paint[HtsLine | None]], line: HtsLine) -> tuple[PathStep, ...]:
    """A line's path from the top down, as domain.nomenclature gives it."""
    chain = [line]
    seen = {line.code}
    parent = line.parent
    while parent is not None and parent not in seen and parent in lines:
        found = lines[parent].value
        if found is None:
            break
        chain.append(found)
        seen.add(parent)
        parent = found.parent
    steps: list[PathStep] = []
    for item in reversed(chain):
        steps += [PathStep(None, t) for t in item.superiors]
        steps.append(PathStep(item.code, item.description))
    return tuple(steps)


def _content(chapter: str, path: tuple[PathStep, ...], line: HtsLine, revision: str,
             event_id: str) -> dict[str, Any]:
    return {"chapter": chapter, "code": line.code, "indent": line.indent,
            "parent": line.parent, "description": line.description,
            "context": " ".join(step.description for step in path[:-1]),
            "path": _JSON([[s.code, s.description] for s in path]),
            "units": _JSON(line.units), "general": line.general,
            "special": line.special, "other": line.other, "revision": revision,
            "event_id": event_id}


def _goes_on(old: Sequence[object], new: Sequence[object]) -> bool:
    """Whether `new` starts with the very objects of `old`."""
    return len(new) >= len(old) and all(a is b for a, b in zip(old, new, strict=False))


class _EpochCache:
    """The lines in force at the start of each epoch, and their signatures, as the versions of
    one chapter over known time give them. A revision paints the lines it touches from its
    date on (`domain.nomenclature.revise`: new codes come last, other lines keep their
    paints), so an epoch where none of those paints shows keeps what was found for it:
    finding every epoch again for every version cost versions x epochs x lines, 3.5 s a
    chapter at a million realistic events."""

    def __init__(self) -> None:
        self.lines: Mapping[str, tuple[Paint[HtsLine | None], ...]] = {}
        self.codes: tuple[str, ...] = ()
        self.found: dict[int, tuple[dict[str, Paint[HtsLine | None]],
                                    dict[str, Signature]]] = {}

    def moved_to(self, chapter: ChapterState) -> None:
        """Forget the epochs whose lines differ in this version from the one before."""
        codes = tuple(chapter.lines)
        if codes[:len(self.codes)] != self.codes:
            # The codes known before are not first, in their order (which the rows
            # follow): find every epoch again.
            self.found = {}
        else:
            before = self.lines
            changed = [(before.get(code, ()), paints) for code, paints in chapter.lines.items()
                       if before.get(code) is not paints]
            # A code whose paints go on from those before (the same first) shows another
            # paint exactly where one it added covers, since the added ones lie on top:
            # asking each changed code at each epoch cost versions x epochs x codes.
            added = Cover(tuple(paint for old, new in changed if _goes_on(old, new)
                                for paint in new[len(old):]))
            others = [(old, new) for old, new in changed if not _goes_on(old, new)]
            for start in list(self.found) if changed else ():
                at = from_micros(start)
                if added.at(at) is not None or any(paint_at(new, at) is not paint_at(old, at)
                                                   for old, new in others):
                    del self.found[start]
        self.lines, self.codes = chapter.lines, codes

    def at(self, chapter: ChapterState, start: int) -> tuple[
            dict[str, Paint[HtsLine | None]], dict[str, Signature]]:
        """The lines in force at `start` (in the chapter's order of codes) and their
        signatures."""
        found = self.found.get(start)
        if found is None:
            at_lines = _lines_at(chapter, from_micros(start))
            found = self.found[start] = (at_lines, _signatures(at_lines))
        return found


def chapter_rows(versions: Sequence[SubjectVersion]) -> tuple[list[dict[str, Any]],
                                                                list[dict[str, Any]]]:
    """The line rows and revision rows of one chapter's versions over known time: a line's
    row spans the effective interval and the known interval over which it, and the text above
    it, stay the same."""
    lines: dict[tuple[object, ...], dict[str, Any]] = {}
    revisions: dict[tuple[object, ...], dict[str, Any]] = {}
    open_line: dict[tuple[object, ...], tuple[object, ...]] = {}
    open_revision: dict[tuple[object, ...], tuple[object, ...]] = {}
    built: dict[Signature, dict[str, Any]] = {}
    paths: dict[Signature, tuple[PathStep, ...]] = {}
    epochs = _EpochCache()
    before: list[_Epoch] = []
    spans: list[Span] = []
    for version in versions:
        chapter = version.state
        if not isinstance(chapter, ChapterState):
            continue
        epochs.moved_to(chapter)
        names = {p.event_id: p.value for p in chapter.revisions}
        now = [(start, until, epochs.at(chapter, start)) for start, until in _epochs(chapter)]
        # The epochs up to the first that differs from the version before's give the same
        # spans (cut at its start): going over every epoch of every version cost versions x
        # epochs x lines, 91 s of a million-event rebuild's chapters.
        same = _same_prefix(before, now)
        spans, last = _spans_before(spans, now[same][0] if same < len(now) else None)
        for start, until, (at_lines, signatures) in now[same:]:
            for code, signature in signatures.items():
                earlier = last.get(code)
                if earlier is not None and spans[earlier][0] == signature and (
                        spans[earlier][2] == start):
                    spans[earlier] = (signature, spans[earlier][1], until)
                    continue
                if signature not in built:
                    paint = at_lines[code]
                    line = paint.value
                    if line is None:
                        continue
                    # Ancestors come first, so a line's path extends its parent's.
                    above = paths.get(signature[0]) if isinstance(signature[0], tuple) else ()
                    path = _path(at_lines, line) if above is None else (
                        *above, *(PathStep(None, t) for t in line.superiors),
                        PathStep(line.code, line.description))
                    paths[signature] = path
                    built[signature] = _content(chapter.chapter, path, line,
                                                names.get(paint.event_id, ""), paint.event_id)
                last[code] = len(spans)
                spans.append((signature, start, until))
        before = now
        for span in spans:
            _extend(lines, open_line, span, partial(_line_row, built, span), version)
        for mark in chapter.revisions:
            _extend(revisions, open_revision, (mark.event_id, micros(mark.start)),
                    partial(_revision_row, chapter.chapter, mark), version)
    return list(lines.values()), list(revisions.values())


def _line_row(built: Mapping[Signature, dict[str, Any]], span: Span) -> dict[str, Any]:
    signature, start, until = span
    return {**built[signature], "eff_from": start, "eff_until": until}


def _revision_row(chapter: str, mark: Paint[str]) -> dict[str, Any]:
    return {"chapter": chapter, "revision": mark.value, "event_id": mark.event_id,
            "eff_from": micros(mark.start), "starts": mark.start.isoformat()}


Span = tuple[Signature, int, int]
"""A line's signature over the effective interval [start, until) of one or more epochs in a
row."""

_Epoch = tuple[int, int, tuple[dict[str, Paint[HtsLine | None]], dict[str, Signature]]]
"""An epoch's start and end, and its lines and their signatures as `_EpochCache.at` gave
them (the same objects while the epoch's lines stay the same)."""


def _same_prefix(before: Sequence[_Epoch], now: Sequence[_Epoch]) -> int:
    """How many epochs, from the first, a version shares with the version before: the same
    bounds and the same lines, by identity."""
    same = 0
    # Where one version has more epochs, those beyond the other's are not shared.
    for (start, until, found), (start_was, until_was, found_was) in zip(now, before,
                                                                        strict=False):
        if start != start_was or until != until_was or found is not found_was:
            break
        same += 1
    return same


def _spans_before(spans: Sequence[Span], cut: int | None) -> tuple[list[Span], dict[str, int]]:
    """The spans, in the order they were found, of the epochs before `cut` (an epoch's start;
    None: every epoch), those running past it ended there, and the index of each code's last
    one. Spans are found epoch by epoch, so those starting before `cut` come first."""
    kept: list[Span] = []
    last: dict[str, int] = {}
    for signature, start, until in spans:
        if cut is not None and start >= cut:
            break
        last[cast(str, signature[1])] = len(kept)
        kept.append((signature, start, until if cut is None or until <= cut else cut))
    return kept, last


def _extend(rows: dict[tuple[object, ...], dict[str, Any]],
            last: dict[tuple[object, ...], tuple[object, ...]], key: tuple[object, ...],
            row: Callable[[], dict[str, Any]], version: SubjectVersion) -> None:
    """Add a row over the version's known interval, or stretch the row it continues (`row`
    makes the new row's content only when one is added: most are stretched)."""
    previous = last.get(key)
    if previous is not None and rows[previous]["known_until"] == version.known_from:
        rows[previous]["known_until"] = version.known_until
        return
    ident = (*key, version.known_from)
    rows[ident] = {**row(), "known_from": version.known_from,
                   "known_until": version.known_until}
    last[key] = ident


# ---------------------------------------------------------------- writing


def write_chapters(session: Session, chapters: Mapping[str, Sequence[SubjectVersion]],
                   recorded: int, continued: bool = False) -> None:
    """Bring the line and revision rows of re-folded chapters in line with their versions:
    rows no query ever saw go, superseded ones are closed at `recorded`, new ones inserted
    (with their full-text entries).

    `continued`: each chapter's versions are its last one and those after it
    (`versions.versions_after`). Only the rows still open in known time, those of the last
    version, are compared then; one that goes on keeps the known start it was written with,
    and the rows of earlier versions stay as they are. Making every row of a chapter's whole
    history again cost versions x revisions x lines: 0.9 s for one revision appended to a
    chapter with 130 of them."""
    if not chapters:
        return
    wanted_lines: list[dict[str, Any]] = []
    wanted_revisions: list[dict[str, Any]] = []
    for versions in chapters.values():
        found_lines, found_revisions = chapter_rows(versions)
        wanted_lines += found_lines
        wanted_revisions += found_revisions
    codes = [subject.split(":", 1)[1] for subject in chapters]
    starts = {subject.split(":", 1)[1]: versions[0].known_from
              for subject, versions in chapters.items() if versions} if continued else None
    sqlite = session.get_bind().dialect.name == "sqlite"
    gone, new_ids, new_rows = _sync(session, HtsLineRow, _LINE_KEY, codes, wanted_lines,
                                    recorded, starts)
    if sqlite:
        for start in range(0, len(gone), CHUNK):
            session.execute(text(f"DELETE FROM {HTS_FTS} WHERE rowid IN "
                                 f"({','.join(str(i) for i in gone[start:start + CHUNK])})"))
        if new_rows:
            session.execute(text(f"INSERT INTO {HTS_FTS}(rowid, description, context) "
                                 "VALUES (:id, :description, :context)"),
                            [{"id": i, "description": r["description"], "context": r["context"]}
                             for i, r in zip(new_ids, new_rows, strict=True)])
    _sync(session, HtsRevisionRow, _REVISION_KEY, codes, wanted_revisions, recorded, starts)


def _sync(session: Session, table: type[HtsLineRow] | type[HtsRevisionRow],
          key: Sequence[str], chapters: Sequence[str], wanted: list[dict[str, Any]],
          recorded: int, starts: Mapping[str, int] | None = None
          ) -> tuple[list[int], list[int], list[dict[str, Any]]]:
    """Compare a table's open rows of some chapters with the rows wanted; return the ids of
    the rows deleted, and the ids and values of the rows inserted. With `starts` (each
    chapter's last version's known start, continued: see `write_chapters`), only the rows
    open in known time are compared, and a wanted row from that start on takes the known
    start of the open row it goes on from. The key ends with known_from, known_until."""
    columns = [getattr(table, k) for k in ("chapter", *key)]
    existing: dict[tuple[object, ...], tuple[int, int]] = {}
    for start in range(0, len(chapters), CHUNK):
        query = select(table.id, table.rec_from, *columns).where(
            table.chapter.in_(chapters[start:start + CHUNK]), table.rec_until == FOREVER)
        if starts is not None:
            query = query.where(table.known_until == FOREVER)
        for row in session.execute(query):
            existing[tuple(row[2:])] = (row[0], row[1])
    if starts is not None:
        _carry_known_starts(table, key, existing, wanted, starts)
    keep = {tuple(r[k] for k in ("chapter", *key)) for r in wanted}
    gone: list[int] = []
    closed: list[int] = []
    for ident, (row_id, rec_from) in existing.items():
        if ident not in keep:
            # Superseded within the instant it was recorded: never visible, so it goes.
            (gone if rec_from == recorded else closed).append(row_id)
    for start in range(0, len(gone), CHUNK):
        session.execute(delete(table).where(table.id.in_(gone[start:start + CHUNK])))
    for start in range(0, len(closed), CHUNK):
        session.execute(update(table).where(table.id.in_(closed[start:start + CHUNK]))
                        .values(rec_until=recorded))
    new = [{**r, "rec_from": recorded, "rec_until": FOREVER} for r in wanted
           if tuple(r[k] for k in ("chapter", *key)) not in existing]
    if not new:
        return gone, [], []
    ids = list(give_ids(session, table, len(new)))
    for row_id, item in zip(ids, new, strict=True):
        item["id"] = row_id
    session.connection().execute(insert(table), new)
    return gone, ids, new


def _carry_known_starts(table: type[HtsLineRow] | type[HtsRevisionRow], key: Sequence[str],
                        existing: Mapping[tuple[object, ...], tuple[int, int]],
                        wanted: list[dict[str, Any]], starts: Mapping[str, int]) -> None:
    """Give each wanted row that starts at its chapter's last version the known start of the
    open row with its content: the last version's rows are exactly the open ones."""
    content = ("chapter", *key[:-2])
    known_start = {ident[:-2]: ident[-2] for ident in existing}
    for row in wanted:
        if row["known_from"] != starts[row["chapter"]]:
            continue
        found = known_start.get(tuple(row[k] for k in content))
        if found is None:
            raise StoreError(f"{table.__tablename__}: chapter {row['chapter']}'s open rows do "
                             "not hold its last version; run `tariffs rebuild`")
        row["known_from"] = found


# ---------------------------------------------------------------- reading


def _seen_then(table: type[HtsLineRow] | type[HtsRevisionRow]) -> list[Any]:
    """`tables.seen_at` with the known and recorded instants as bound parameters."""
    return seen_at(table, bindparam("known"), bindparam("recorded"))


# Built once, with bound parameters: a question runs them a few times each, and building and
# compiling a statement in SQLAlchemy cost more than running it in SQLite.
_LINES_THEN = select(*HtsLineRow.__table__.columns).where(
    HtsLineRow.eff_from <= bindparam("at"), HtsLineRow.eff_until > bindparam("at"),
    *_seen_then(HtsLineRow))
_LINES_NAMED = _LINES_THEN.where(HtsLineRow.code.in_(bindparam("codes", expanding=True)))
_MARKS = select(HtsRevisionRow.chapter, HtsRevisionRow.revision, HtsRevisionRow.event_id,
                HtsRevisionRow.starts).where(*_seen_then(HtsRevisionRow)).order_by(
    HtsRevisionRow.known_from, HtsRevisionRow.id)
_CHAPTER_MARKS = _MARKS.where(HtsRevisionRow.chapter == bindparam("chapter"))


def _chapter_start(latest: bool) -> ScalarSelect[int]:
    """The first start of the chapter's revisions as known and recorded then, or the latest
    of those started by the effective instant `at`."""
    statement = select(func.min(HtsRevisionRow.eff_from)).where(
        HtsRevisionRow.chapter == bindparam("chapter"), *_seen_then(HtsRevisionRow))
    if latest:
        statement = statement.with_only_columns(func.max(HtsRevisionRow.eff_from)).where(
            HtsRevisionRow.eff_from <= bindparam("at"))
    return statement.scalar_subquery()


# Of a chapter's revisions (`_CHAPTER_MARKS`), those that `projections.lines.revision_of`
# may choose at the effective instant `at`: every one starting with the first, and every one
# starting with the last started by `at`, in the fold's order, so ties are broken as they
# would be among all of them. About a hundred revisions each at a million events, and a
# rate question classifies its code at one instant.
_CHAPTER_MARKS_AT = _CHAPTER_MARKS.where(or_(
    HtsRevisionRow.eff_from == _chapter_start(latest=False),
    HtsRevisionRow.eff_from == _chapter_start(latest=True)))


MarksAndLines = CompoundSelect[int, str, str | None, int | None, str | None, str | None,
                              str | None, str | None, str | None, str | None, str | None,
                              str, int | None, int | None, str | None, str | None, int, int]
"""A chapter's revisions and the lines around a code in one statement (`_marks_and_lines`)."""

@cache
def _lines_around(prefixes: int) -> Select[Any]:
    """The code, the lines under it (codes from `low` up to `high`) and those that are its
    `prefixes` prefixes (its ancestors, most often), at the effective instant `at`; the
    prefixes one parameter each (`prefix_0`..), not an expanding list, which SQLAlchemy
    renders into the statement's text again at every run. No condition on the chapter
    column: with one, SQLite's planner reads every open line of the chapter (thousands of
    rows) instead of the few the code index finds."""
    return _LINES_THEN.where(or_(
        and_(HtsLineRow.code >= bindparam("low"), HtsLineRow.code < bindparam("high")),
        HtsLineRow.code.in_([bindparam(f"prefix_{i}") for i in range(prefixes)])))


_LINE_COLUMNS = (HtsLineRow.chapter, HtsLineRow.code, HtsLineRow.indent, HtsLineRow.parent,
                 HtsLineRow.description, HtsLineRow.path, HtsLineRow.units, HtsLineRow.general,
                 HtsLineRow.special, HtsLineRow.other, HtsLineRow.event_id,
                 HtsLineRow.eff_from, HtsLineRow.eff_until)
"""What a line's row gives a question (`_stored_line`, and its place in effective time)."""


@cache
def _marks_and_lines(every_revision: bool, prefixes: int) -> MarksAndLines:
    """The statement of `chapter_for_code`'s first step as one (a statement costs SQLAlchemy
    more than SQLite, and a round trip on PostgreSQL): the chapter's revisions
    (`_CHAPTER_MARKS_AT`, or `_CHAPTER_MARKS` with `every_revision`), part 0, in the fold's
    order, then the lines `_lines_around` finds at the effective instant `at`, part 1. Those
    lines are the ones the revision in force reads whenever the instant is not before the
    chapter's first revision (`RevisionInForce.at`); otherwise they are read again."""
    marks = _CHAPTER_MARKS if every_revision else _CHAPTER_MARKS_AT
    no_text, no_code = cast_(null(), Text), cast_(null(), String)
    no_number = cast_(null(), BigInteger)
    return cast(MarksAndLines, union_all(
        marks.with_only_columns(
            literal_column("0", Integer).label("part"), HtsRevisionRow.chapter,
            no_code.label("code"), cast_(null(), Integer).label("indent"),
            no_code.label("parent"), no_text.label("description"), no_text.label("path"),
            no_text.label("units"), no_text.label("general"), no_text.label("special"),
            no_text.label("other"), HtsRevisionRow.event_id, no_number.label("eff_from"),
            no_number.label("eff_until"), HtsRevisionRow.revision, HtsRevisionRow.starts,
            HtsRevisionRow.known_from, HtsRevisionRow.id).order_by(None),
        _lines_around(prefixes).with_only_columns(
            literal_column("1", Integer), *_LINE_COLUMNS, no_code, no_code,
            HtsLineRow.known_from, HtsLineRow.id, maintain_column_froms=True)))


def revision_in_force(conn: Connection, effective: datetime, known: datetime,
                      recorded: datetime) -> RevisionInForce | None:
    """The revision in force at an effective instant as known and recorded then (the first
    one for an earlier instant), as `domain.nomenclature.revision_at` decides it, its start
    as its event wrote it."""
    marks = _revision_marks(conn, micros(known), micros(recorded))
    return revision_at(Nomenclature({c: ChapterState(c, {}, p) for c, p in marks.items()}),
                       effective)


@dataclass(frozen=True)
class FoundLine:
    """A line found by full-text search, with its relevance (higher is better)."""

    code: str
    description: str
    path: tuple[PathStep, ...]
    score: float


def search_lines(conn: Connection, words: str, at: datetime, known: datetime,
                 recorded: datetime, limit: int, offset: int = 0
                 ) -> tuple[int, list[FoundLine]]:
    """The lines in force at `at` (as known and recorded then) whose description or the text
    above it holds every word (as a word or the start of one), ranked as
    `domain.nomenclature.search_rank` ranks them: how many, and one page of them.

    The full-text index (FTS5 on SQLite, a tsvector on PostgreSQL) finds the lines that may
    hold the words; each is then ranked from its description and the text above it (its
    `context`), so both backends and the fold give the same page. Their own rankings (bm25,
    ts_rank) each ordered the lines their own way."""
    terms = search_terms(words)
    e, k, r = micros(at), micros(known), micros(recorded)
    if conn.dialect.name == "sqlite":
        match = " ".join(f'"{term}"*' for term in terms)
        rows = conn.execute(text(
            f"SELECT l.id, l.code, l.description, l.context, l.indent FROM {HTS_FTS} "
            f"JOIN rm_hts_lines AS l ON l.id = {HTS_FTS}.rowid "
            f"WHERE {HTS_FTS} MATCH :match AND l.eff_from <= :e AND l.eff_until > :e "
            "AND l.known_from <= :k AND l.known_until > :k AND l.rec_from <= :r "
            "AND l.rec_until > :r"), {"match": match, "e": e, "k": k, "r": r}).all()
    else:
        query = func.to_tsquery("simple", " & ".join(f"{term}:*" for term in terms))
        hit = literal_column("search").op("@@")(query)
        rows = conn.execute(select(
            HtsLineRow.id, HtsLineRow.code, HtsLineRow.description, HtsLineRow.context,
            HtsLineRow.indent).where(
            HtsLineRow.eff_from <= e, HtsLineRow.eff_until > e, *seen_at(HtsLineRow, k, r),
            hit)).all()
    # Descriptions ("Other") and the text above lines (shared by siblings) repeat: each
    # distinct text is split into words once. A line's context is the text above it, step
    # by step, so its words are those the fold finds above the line.
    split = cache(words_of)
    ranked = sorted((rank, line_id, description) for line_id, code, description, context, indent
                    in rows if (rank := search_rank(terms, split(description),
                                                   partial(split, context), indent, code))
                    is not None)
    page = ranked[offset:offset + limit]
    # Only the page's paths are read: "other" finds some 20,000 lines.
    paths = dict(conn.execute(select(HtsLineRow.id, HtsLineRow.path).where(
        HtsLineRow.id.in_([line_id for _, line_id, _ in page]))).all())
    return len(ranked), [FoundLine(code, description, _stored_path(paths[line_id]),
                                   float(-negative))
                         for (negative, _, _, code), line_id, description in page]


def _stored_path(stored: str) -> tuple[PathStep, ...]:
    return tuple(PathStep(code, description) for code, description in json.loads(stored))


def chapter_for_code(conn: Connection, digits: str, effective: datetime, known: datetime,
                     recorded: datetime, every_revision: bool = False) -> ChapterState | None:
    """The part of a code's chapter that classifying it at an effective instant reads, from
    the line and revision rows: the revisions that choosing its revision then reads (the
    first ones and the latest started, `_CHAPTER_MARKS_AT`; all of them with
    `every_revision`, for a reader that weighs them against other chapters'), and the lines
    in force then that are the code (or its `00` line), lie under it, or are its ancestors,
    each with the one version in force. `projections.lines.classify` answers from it as from
    the whole chapter, whose state is hundreds of KB to decode at a million events.

    None when the code is not a line then and no line lies under it (the answer is an error
    naming the nearest lines, which needs the whole chapter), or when the chapter has no
    revision as known and recorded then."""
    if len(digits) < 4 or not digits.isdigit():
        return None
    chapter = digits[:2]
    k, r, e = micros(known), micros(recorded), micros(effective)
    # The code, its `00` line and every line under it (the codes that start with its
    # digits), with its prefixes in the same statement: a code's ancestors are most often
    # its prefixes. A prefix that is not an ancestor is still a line of the chapter in force
    # then, as in the whole chapter.
    prefixes = [digits[:n] for n in range(2, len(digits), 2)]
    around = {"low": digits, "high": digits + ";",
              **{f"prefix_{i}": prefix for i, prefix in enumerate(prefixes)}}
    marks_then: list[Any] = []
    lines_then: list[Any] = []
    for row in bare_rows(conn, _marks_and_lines(every_revision, len(prefixes)), {
            "chapter": chapter, "known": k, "recorded": r, "at": e, **around}):
        (lines_then if row.part else marks_then).append(row)
    # In the fold's order; sorted here, a sort of the whole union cost SQLite more.
    marks = tuple(Paint(datetime.fromisoformat(row.starts), None, row.revision, row.event_id)
                  for row in sorted(marks_then, key=lambda row: (row.known_from, row.id)))
    if not marks:
        return None
    found_revision = revision_of(ChapterState(chapter, {}, marks), effective)
    if found_revision is None:
        return None
    values = {"at": micros(found_revision.at), "known": k, "recorded": r}
    lines: dict[str, tuple[Paint[HtsLine | None], ...]] = {}

    def add(rows: Iterable[Any]) -> list[HtsLine]:
        found = []
        for row in rows:
            if row.chapter != chapter:
                continue  # a parent named across chapters is not this chapter's line
            line = _stored_line(row)
            end = None if row.eff_until >= FOREVER else effective_from_micros(row.eff_until)
            lines[row.code] = (Paint(effective_from_micros(row.eff_from), end, line,
                                     row.event_id),)
            found.append(line)
        return found

    found = add(lines_then if values["at"] == e else conn.execute(
        _lines_around(len(prefixes)), {**values, **around}))
    if digits not in lines and not (len(digits) == 8 and digits + "00" in lines) and not (
            len(digits) in (4, 6) and any(len(code) == 10 for code in lines)):
        return None
    # The ancestors of what was found that are not among its prefixes, as USITC's indents
    # give them.
    pending = {line.parent for line in found if line.parent is not None} - set(lines)
    while pending:
        found = add(conn.execute(_LINES_NAMED, {**values, "codes": sorted(pending)}))
        pending = {line.parent for line in found if line.parent is not None} - set(lines)
    return ChapterState(chapter, lines, marks)


def nomenclature_under(conn: Connection, prefix: str, effective: datetime, known: datetime,
                       recorded: datetime) -> Nomenclature | None:
    """The part of the HTS that a diff under an HTS code reads at an effective instant, from
    the line and revision rows: every chapter's revisions (which decide the revision in force
    over the whole schedule) and, of the code's chapter, what `chapter_for_code` gives (the
    lines under the code, its own and its ancestors'). `projections.hts.compare` under the
    code and a rate question of it answer from this as from the whole nomenclature.

    None when the code is not a line and has none under it then (its refusal names the
    nearest lines, which needs the whole), or is shorter than a heading."""
    part = chapter_for_code(conn, prefix, effective, known, recorded, every_revision=True)
    if part is None:
        return None
    chapters = {chapter: ChapterState(chapter, {}, marks) for chapter, marks in
                _revision_marks(conn, micros(known), micros(recorded)).items()}
    chapters[part.chapter] = part
    return Nomenclature(chapters)


def _revision_marks(conn: Connection, known: int, recorded: int, chapter: str | None = None,
                    at: int | None = None) -> dict[str, tuple[Paint[str], ...]]:
    """Each chapter's revisions as known and recorded then (only `chapter`'s when given; of
    it, with an effective instant `at`, only those choosing its revision then may pick), in
    the order the fold met them, each start as its event wrote it (an answer shows its
    offset), not as an instant."""
    values: dict[str, Any] = {"known": known, "recorded": recorded}
    statement = _MARKS if chapter is None else (
        _CHAPTER_MARKS if at is None else _CHAPTER_MARKS_AT)
    if chapter is not None:
        values.update(chapter=chapter, at=at)
    marks: dict[str, list[Paint[str]]] = {}
    for found, revision, event_id, starts in conn.execute(statement, values):
        marks.setdefault(found, []).append(
            Paint(datetime.fromisoformat(starts), None, revision, event_id))
    return {found: tuple(paints) for found, paints in marks.items()}


def _stored_line(row: Any) -> HtsLine:
    """A line as its event gave it, from its row (an `HtsLineRow` or a row of its columns;
    its superior text is the unnumbered steps of its path just above it)."""
    path = _stored_path(row.path)
    superiors: list[str] = []
    for step in reversed(path[:-1]):
        if step.code is not None:
            break
        superiors.append(step.description)
    return HtsLine(code=row.code, indent=row.indent, parent=row.parent,
                   superiors=tuple(reversed(superiors)), description=row.description,
                   units=tuple(json.loads(row.units)), general=row.general,
                   special=row.special, other=row.other)
