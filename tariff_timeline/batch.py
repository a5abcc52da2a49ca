"""Batch answers: many rate questions read as rows (CSV, JSON Lines, a JSON array or Parquet),
answered with one store, and written back in order as flat rows, one per question.

A question row has the columns `origin`, `hts`, `entered`, optionally `known`, `recorded`,
`mfn`, an `id` echoed back, and one column per fact about the goods (`usmca_qualifying`,
`steel_content_share`, ...); an empty cell is a value not given. A bad row is answered by an
error row in its place, naming the row and the column at fault, and the batch goes on.

An answer row is flat (`ANSWER_COLUMNS`): the question as asked, `status` (`exact`,
`depends on facts`, `incomplete` or `refused`), `additional` and `total` as floats, every
applied measure and its rate, the alternatives (the answer under each assumption about a fact
not given) with their range, the notes, for a refused row the `error` and its `field`, and
with the HTS nomenclature the `line` used, its `description`, the `revision` and where `mfn`
came from (`mfn_source`: `given` or `hts`).
Nothing is held but the row at hand, so memory stays flat in the number of rows; both the
`tariffs rate --input` command and the HTTP batch endpoint use this module.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol

from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.domain.questions import RateQuestion
from tariff_timeline.events import FACTS
from tariff_timeline.projections.answers import RateAnswer

if TYPE_CHECKING:
    import pandas as pd


class Answerer(Protocol):
    """What answers a stream of rate questions in order (the service's `rate_many`)."""

    def rate_many(self, questions: Iterable[RateQuestion]
                  ) -> Iterator[RateAnswer | InvalidInput]:
        """Each question's answer, or the InvalidInput that names what is wrong with it."""


Format = Literal["csv", "jsonl", "json", "parquet"]
"""The formats of a batch, chosen by a file's suffix or a request's media type."""

QUESTION_COLUMNS = ("origin", "hts", "entered", "known", "recorded", "mfn")
"""The columns of a question row besides `id` and the facts."""

ANSWER_COLUMNS = (
    "row", "id", "origin", "hts", "entered", "known", "recorded", "mfn", "facts", "status",
    "additional", "total", "applied", "applied_rates", "alternatives", "additional_min",
    "additional_max", "notes", "error", "field", "line", "description", "revision",
    "mfn_source",
)
"""The columns of an answer row, in order (CSV and Parquet headers)."""

LIST_COLUMNS = ("applied", "applied_rates", "alternatives", "notes")
"""Answer columns that hold lists: JSON arrays in JSON Lines, JSON text in CSV and Parquet."""

FLOAT_COLUMNS = ("mfn", "additional", "total", "additional_min", "additional_max")
"""Answer columns that hold numbers (floats; empty where the answer has none)."""

MAX_ROWS = 100_000
"""The most rows one HTTP batch may hold."""

SUFFIXES: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
                               ".json": "json", ".parquet": "parquet"}

Row = dict[str, Any]
"""One flat answer row (ANSWER_COLUMNS as keys)."""


@dataclass(frozen=True)
class QuestionRow:
    """A row as read: its number (1 for the first data row), its cells, or why it could not be
    read at all (a line that is not JSON, a row that is not an object)."""

    number: int
    cells: Mapping[str, Any]
    unreadable: str | None = None


def format_of(path: Path) -> Format:
    """The batch format a file's suffix names."""
    found = SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise InvalidInput(f"{path.name}: name a .csv, .jsonl, .json or .parquet file",
                           field="file")
    return found


# ---------------------------------------------------------------- reading


def read_csv(stream: Iterable[str]) -> Iterator[QuestionRow]:
    """Question rows from CSV text with a header row."""
    for number, cells in enumerate(csv.DictReader(stream), start=1):
        if None in cells:
            yield QuestionRow(number, {}, "the row has more cells than the header")
        else:
            yield QuestionRow(number, cells)


def read_jsonl(lines: Iterable[str | bytes]) -> Iterator[QuestionRow]:
    """Question rows from JSON Lines (one object a line; blank lines are skipped)."""
    number = 0
    for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            cells = json.loads(line)
        except ValueError as exc:
            yield QuestionRow(number, {}, f"not JSON: {exc}")
            continue
        yield _object_row(number, cells)


def read_json_array(data: str | bytes) -> list[QuestionRow]:
    """Question rows from a JSON array of objects (read whole: a JSON array cannot stream)."""
    try:
        items = json.loads(data)
    except ValueError as exc:
        raise InvalidInput(f"not JSON: {exc}", field="body") from exc
    if not isinstance(items, list):
        raise InvalidInput("give a JSON array of question objects", field="body")
    return [_object_row(number, cells) for number, cells in enumerate(items, start=1)]


def read_parquet(path: Path) -> Iterator[QuestionRow]:
    """Question rows from a Parquet file, a record batch at a time (needs pyarrow)."""
    import pyarrow.parquet as pq  # optional (the `frames` extra): import only when asked

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=2048):
        for cells in batch.to_pylist():
            number += 1
            yield QuestionRow(number, cells)


def _object_row(number: int, cells: object) -> QuestionRow:
    if not isinstance(cells, dict):
        return QuestionRow(number, {}, "a question row is a JSON object")
    return QuestionRow(number, cells)


def read_file(path: Path) -> Iterator[QuestionRow]:
    """Question rows from a file, by its suffix, streamed (a .json array is read whole)."""
    kind = format_of(path)
    if kind == "parquet":
        yield from read_parquet(path)
        return
    if kind == "json":
        yield from read_json_array(path.read_bytes())
        return
    with path.open(encoding="utf-8", newline="") as handle:
        yield from (read_csv(handle) if kind == "csv" else read_jsonl(handle))


# ---------------------------------------------------------------- answering


def _given(value: Any) -> bool:
    return value is not None and value != "" and value == value  # NaN != NaN: not given


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def question_of(row: QuestionRow) -> RateQuestion:
    """The rate question a row asks; InvalidInput names the column at fault."""
    if row.unreadable is not None:
        raise InvalidInput(row.unreadable)
    cells = {str(k).strip(): v for k, v in row.cells.items()}
    unknown = sorted(k for k in cells if k not in (*QUESTION_COLUMNS, "id", *FACTS))
    if unknown:
        raise InvalidInput(f"unknown column(s) {', '.join(unknown)}; columns are "
                           f"{', '.join(QUESTION_COLUMNS)}, id and the facts "
                           f"{', '.join(FACTS)}", field=unknown[0])
    for required in ("origin", "hts", "entered"):
        if not _given(cells.get(required)):
            raise InvalidInput("required", field=required)
    facts = {k: _text(v) if not isinstance(v, bool) else v
             for k, v in cells.items() if k in FACTS and _given(v)}
    return RateQuestion(
        origin=_text(cells["origin"]), hts=_text(cells["hts"]), entered=_text(cells["entered"]),
        known=_text(cells["known"]) if _given(cells.get("known")) else None,
        recorded=_text(cells["recorded"]) if _given(cells.get("recorded")) else None,
        mfn=_text(cells["mfn"]) if _given(cells.get("mfn")) else None, facts=facts)


COLUMN_OF: dict[str, str] = {"origins": "origin", "start": "entered"}
"""The column that gives each field the service names (facts: the fact column, if known)."""


def _column(problem: InvalidInput, facts: Iterable[str]) -> str | None:
    if problem.field == "facts":
        # The service names the field `facts`; the row names the fact as its own column.
        return next((f for f in facts if repr(f) in problem.message), "facts")
    return COLUMN_OF.get(problem.field or "", problem.field)


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))


def flatten(number: int, cells: Mapping[str, Any], answer: RateAnswer) -> Row:
    """One answer as a flat row: floats for numbers, lists for measures and alternatives."""
    if answer.additional is not None:
        status = "exact"
    elif answer.alternatives:
        status = "depends on facts"
    else:
        status = "incomplete"
    applied = [layer for layer in answer.layers if layer.applied]
    options = [_number(a.additional) for a in answer.alternatives]
    amounts = [o for o in options if o is not None]
    return {
        "row": number, "id": _id(cells), "origin": answer.origin, "hts": answer.hts,
        "entered": answer.entered.isoformat(), "known": answer.known.isoformat(),
        "recorded": answer.recorded.isoformat(), "mfn": _number(answer.mfn),
        "facts": {k: (v if isinstance(v, bool | str) else float(v))
                  for k, v in answer.facts.items()},
        "status": status, "additional": _number(answer.additional),
        "total": _number(answer.total),
        "applied": [layer.measure for layer in applied],
        "applied_rates": [_number(layer.rate) for layer in applied],
        "alternatives": [{"assumptions": a.assumptions, "additional": o}
                         for a, o in zip(answer.alternatives, options, strict=True)],
        "additional_min": min(amounts) if amounts else None,
        "additional_max": max(amounts) if amounts else None,
        "notes": list(answer.notes), "error": None, "field": None, "line": answer.line,
        "description": answer.description, "revision": answer.revision,
        "mfn_source": answer.mfn_source,
    }


def refused(number: int, cells: Mapping[str, Any], problem: InvalidInput) -> Row:
    """The error row standing in for a question that could not be asked."""
    row: Row = dict.fromkeys(ANSWER_COLUMNS)
    for name in QUESTION_COLUMNS:
        value = cells.get(name)
        row[name] = (_number(value) if name == "mfn" and _numeric(value)
                     else None if name == "mfn" or not _given(value) else _text(value))
    row.update(row=number, id=_id(cells), facts={}, status="refused", applied=[],
               applied_rates=[], alternatives=[], notes=[], error=problem.message,
               field=_column(problem, cells))
    return row


def _numeric(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return _given(value)


def _id(cells: Mapping[str, Any]) -> str | None:
    value = cells.get("id")
    return _text(value) if _given(value) else None


def answer_rows(timeline: Answerer, rows: Iterable[QuestionRow],
                guard: Callable[[Callable[[], Row]], Row] | None = None) -> Iterator[Row]:
    """Answer question rows in order, one flat row each (an error row for a bad one).

    `guard` wraps the step that asks the store (the HTTP layer passes its lock)."""
    waiting: list[RateQuestion] = []

    def feed() -> Iterator[RateQuestion]:
        # rate_many pulls one question, then yields its answer: hand it the row at hand.
        while True:
            yield waiting.pop()

    answers = timeline.rate_many(feed())
    for row in rows:
        try:
            question = question_of(row)
        except InvalidInput as problem:
            yield refused(row.number, row.cells, problem)
            continue
        waiting.append(question)

        def step(number: int = row.number, cells: Mapping[str, Any] = row.cells) -> Row:
            result = next(answers)
            if isinstance(result, InvalidInput):
                return refused(number, cells, result)
            return flatten(number, cells, result)

        yield guard(step) if guard is not None else step()


# ---------------------------------------------------------------- writing


def _cell(name: str, value: Any) -> Any:
    if name == "applied" and isinstance(value, list):
        return ";".join(value)
    if name in (*LIST_COLUMNS, "facts"):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def csv_header() -> str:
    """The header line of an answer CSV."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(ANSWER_COLUMNS)
    return out.getvalue()


def csv_line(row: Row) -> str:
    """One answer row as a CSV line (lists as JSON text; `applied` joined with ';')."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(
        "" if row[c] is None else _cell(c, row[c]) for c in ANSWER_COLUMNS)
    return out.getvalue()


def jsonl_line(row: Row) -> str:
    """One answer row as a JSON Lines line."""
    return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_rows(rows: Iterable[Row], path: Path,
               progress: Callable[[int], None] | None = None) -> int:
    """Write answer rows to a file by its suffix (CSV, JSON Lines or Parquet), streamed;
    return how many rows were written."""
    kind = format_of(path)
    if kind == "json":
        raise InvalidInput("write answers as .csv, .jsonl or .parquet (they stream)",
                           field="output")
    if kind == "parquet":
        return _write_parquet(rows, path, progress)
    with path.open("w", encoding="utf-8", newline="") as handle:
        return write_lines(rows, handle, kind, progress)


def write_lines(rows: Iterable[Row], handle: IO[str], kind: Literal["csv", "jsonl"],
                progress: Callable[[int], None] | None = None) -> int:
    """Write answer rows as CSV (with its header) or JSON Lines to an open text file."""
    if kind == "csv":
        handle.write(csv_header())
    count = 0
    for row in rows:
        handle.write(csv_line(row) if kind == "csv" else jsonl_line(row))
        count += 1
        if progress is not None:
            progress(count)
    return count


def _parquet_schema() -> Any:
    import pyarrow as pa

    return pa.schema([(c, pa.int64() if c == "row" else pa.float64() if c in FLOAT_COLUMNS
                       else pa.string()) for c in ANSWER_COLUMNS])


def _write_parquet(rows: Iterable[Row], path: Path,
                   progress: Callable[[int], None] | None) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq  # optional (the `frames` extra): import only when asked

    schema = _parquet_schema()
    count = 0
    chunk: list[Row] = []
    with pq.ParquetWriter(path, schema) as writer:
        def flush() -> None:
            columns = {c: [None if r[c] is None else (r[c] if c in FLOAT_COLUMNS or c == "row"
                                                       else str(_cell(c, r[c])))
                           for r in chunk] for c in ANSWER_COLUMNS}
            writer.write_table(pa.table(columns, schema=schema))
            chunk.clear()

        for row in rows:
            chunk.append(row)
            count += 1
            if len(chunk) == 2048:
                flush()
            if progress is not None:
                progress(count)
        if chunk or count == 0:
            flush()
    return count


# ---------------------------------------------------------------- frames


def answer_frame(timeline: Answerer, questions: pd.DataFrame) -> pd.DataFrame:
    """Answer a DataFrame of question rows: one flat row each, numbers as float columns."""
    import pandas as pd

    records = questions.to_dict(orient="records")
    rows = answer_rows(timeline, (QuestionRow(n, {str(k): v for k, v in cells.items()})
                                  for n, cells in enumerate(records, start=1)))
    frame = pd.DataFrame.from_records(list(rows), columns=list(ANSWER_COLUMNS))
    for column in FLOAT_COLUMNS:
        frame[column] = frame[column].astype("float64")
    frame["row"] = frame["row"].astype("int64")
    return frame


def count_rows(path: Path) -> int:
    """How many question rows a file holds (for a progress bar): Parquet's metadata, or a
    count of its lines (a CSV cell holding a line break makes it a little high)."""
    kind = format_of(path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if kind == "json":
        return len(read_json_array(path.read_bytes()))
    with path.open("rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    return max(0, lines - 1) if kind == "csv" else lines
