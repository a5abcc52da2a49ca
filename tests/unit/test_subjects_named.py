"""Which subjects an event names: what an append's check reads and the read model indexes."""

from __future__ import annotations

from tariff_timeline.events import PolicyEvent, Selector, subject_key, subjects_named
from tariff_timeline.events.policy import named_by_others
from tariff_timeline.importing.files import read_file
from tests.builders import court_ruled, exemption, quota, stacking
from tests.conftest import POLICY_DATA

# The fields that name subjects, by name (the import format's vocabulary).
NAMING = {"measure": "measure", "measures": "measure", "exemption": "exemption",
          "quota": "quota", "deal": "deal", "rule": "rule", "ruling": "ruling",
          "chapter": "chapter"}


def named_by_every_field(event: PolicyEvent) -> frozenset[str]:
    """The reference: every field of the event read, a selector's measures included."""
    event = getattr(event, "replacement", event)
    named: set[str] = set()
    for name, value in event:
        if name in NAMING:
            for ident in (value,) if isinstance(value, str) else value or ():
                named.add(f"{NAMING[name]}:{ident}")
        elif isinstance(value, Selector):
            named.update(f"measure:{ident}" for ident in value.measures)
    return frozenset(named)


def test_every_bundled_event_names_what_its_fields_name() -> None:
    # Given every event of the bundled timeline
    events = [located.event for path in POLICY_DATA for located in read_file(path)[0]]
    assert len(events) > 80
    # Then the subjects each names are those its fields name, read field by field
    for event in events:
        assert subjects_named(event) == named_by_every_field(event), event.id


def test_selectors_rulings_and_quotas_name_the_measures_they_pick() -> None:
    # Given an exemption, a stacking rule, a ruling and a quota that refer to measures
    events = [
        exemption("x", "books", known="2025-04-02", start="2025-04-05",
                  measures=("m1", "m2"), products=("4901",)),
        stacking("r", "order", known="2025-04-02", start="2025-04-05",
                 when={"measures": ["m3"]}, excludes={"measures": ["m4"]}),
        court_ruled("c", "ruling-1", known="2025-05-28", measures=("m5",)),
        quota("q", "steel-q", "m6", known="2025-04-02", start="2025-04-05", in_quota=0,
              origins=("CA",)),
    ]
    # Then each names itself and every measure it refers to
    assert [sorted(subjects_named(e)) for e in events] == [
        ["exemption:books", "measure:m1", "measure:m2"],
        ["measure:m3", "measure:m4", "rule:order"],
        ["measure:m5", "ruling:ruling-1"],
        ["measure:m6", "quota:steel-q"]]
    assert all(subjects_named(e) == named_by_every_field(e) for e in events)


def test_only_measures_and_rulings_are_named_by_events_about_other_subjects() -> None:
    # Given every bundled event, and the kinds each names beside its own subject's
    events = [located.event for path in POLICY_DATA for located in read_file(path)[0]]
    elsewhere = {key.split(":", 1)[0] for event in events
                 for key in subjects_named(event) - {subject_key(event)}}
    # Then they are among the kinds the check looks up by text, which the event types
    # allow for (an exemption, a quota, a deal, a rule or a chapter is named only by its own)
    assert elsewhere <= named_by_others() == {"measure", "ruling"}
