"""A piece or version that covers every product is keyed by its origins (`ALL:CN`,
`ALL:EU`, `ALL:ALL`), so a question about one origin ranges over that origin's rows, not
every such row of every origin. The questions find what they found before, as the fold
does."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from tariff_timeline import TariffTimeline
from tariff_timeline.readmodel import ReadModel
from tariff_timeline.service import QueryPath
from tests.builders import exemption, imposed
from tests.conftest import FakeClock

KEYED = (
    imposed("cn-1", "china-wide", known="2024-12-01", start="2025-01-01", percent=10,
            origins=("CN",)),
    imposed("eu-1", "eu-wide", known="2024-12-01", start="2025-01-01", percent=15,
            origins=("EU",)),
    imposed("all-1", "world-wide", known="2024-12-01", start="2025-01-01", percent=5),
    imposed("mx-1", "mexico-cars", known="2024-12-01", start="2025-01-01", percent=25,
            origins=("MX",), products=("8703",)),
    exemption("x-1", "cn-energy", known="2024-12-01", start="2025-02-01",
              measures=("china-wide",), origins=("CN",)),
    exemption("x-2", "de-parts", known="2024-12-01", start="2025-02-01",
              measures=("eu-wide",), origins=("DE",), products=("8708",)),
)
ENTERED = datetime(2025, 3, 1, tzinfo=UTC)


def _caught_up(timeline: TariffTimeline, clock: FakeClock) -> ReadModel:
    """The timeline's read model, caught up with KEYED recorded a day before now."""
    timeline.record_events(KEYED)
    clock.advance(days=1)
    timeline.catch_up()
    assert timeline.read_model is not None
    return timeline.read_model


class TestEveryProductIsKeyedByOrigin:
    def test_rows_of_every_product_carry_their_origins_in_their_product_key(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given measures and exemptions of every product for one origin, a group and all
        # when the read model catches up
        read_model = _caught_up(timeline, clock)
        with read_model.engine.connect() as db:
            pieces = {(subject, product) for subject, product in db.execute(text(
                "SELECT DISTINCT p.subject, k.product FROM rm_piece_products k"
                " JOIN rm_pieces p ON p.id = k.piece_id"))}
            versions = {(subject, product) for subject, product in db.execute(text(
                "SELECT DISTINCT v.subject, k.product FROM rm_product_keys k"
                " JOIN rm_versions v ON v.id = k.version_id"))}
        # then each is keyed by its origins, and no key stands for every product alone
        assert pieces == {("measure:china-wide", "ALL:CN"), ("measure:eu-wide", "ALL:EU"),
                          ("measure:world-wide", "ALL:ALL"),
                          ("measure:mexico-cars", "8703")}
        assert versions == {("exemption:cn-energy", "ALL:CN"), ("exemption:de-parts", "8708")}

    def test_a_question_about_an_origin_finds_what_covers_every_product_for_it_alone(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given the same
        reader = _caught_up(timeline, clock).reader
        now = clock.now
        found = {}
        # when slices are read for cells of China, Germany (in the EU) and Mexico
        for origin, hts in (("CN", "8703230110"), ("DE", "8708100000"), ("MX", "8703230110"),
                            ("BR", "0101210000")):
            cut = reader.slice_at(ENTERED, now, now, origin=origin, hts=hts)
            found[origin] = (set(cut.measures), set(cut.exemptions))
        # then each holds the measures of every product for its origin, its groups and all,
        # and nothing of the other origins
        assert found == {
            "CN": ({"china-wide", "world-wide"}, {"cn-energy"}),
            "DE": ({"eu-wide", "world-wide"}, {"de-parts"}),
            "MX": ({"world-wide", "mexico-cars"}, set()),
            "BR": ({"world-wide"}, set()),
        }

    def test_a_slice_of_a_code_without_an_origin_finds_every_origins_rows(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given the same
        reader = _caught_up(timeline, clock).reader
        now = clock.now
        # when a slice is read for a code, whatever the origin
        cut = reader.slice_at(ENTERED, now, now, hts="8708100000")
        # then it holds every measure and exemption that covers the code, of every origin
        assert set(cut.measures) == {"china-wide", "eu-wide", "world-wide"}
        assert set(cut.exemptions) == {"cn-energy", "de-parts"}

    def test_answers_and_diffs_from_the_read_model_equal_the_folds(
            self, timeline: TariffTimeline, clock: FakeClock) -> None:
        # given the same
        timeline.record_events(KEYED)
        clock.advance(days=1)
        by_fold = TariffTimeline(timeline.store, timeline.read_model, QueryPath.FOLD)
        # when rate questions, a diff under a code and a diff of an origin are asked both ways
        for origin, hts in (("CN", "8703230110"), ("DE", "8708100000"), ("MX", "8703230110"),
                            ("FR", "8708100000")):
            # then the answers are the same
            asked = {"origin": origin, "hts": hts, "entered": "2025-03-01"}
            assert timeline.rate_on(**asked) == by_fold.rate_on(**asked)
        for narrowed in ({"hts": ["8708"]}, {"origins": ["DE"]},
                         {"origins": ["CN"], "hts": ["8703"]}):
            asked_diff = {"entered": ("2024-12-15", "2025-03-01"), **narrowed}
            answer = timeline.diff(**asked_diff)  # type: ignore[arg-type]
            assert answer.changes
            assert answer == by_fold.diff(**asked_diff)  # type: ignore[arg-type]
