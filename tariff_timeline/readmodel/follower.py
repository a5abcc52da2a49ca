"""Keeping the read model current in the background: eventsourcing's projection runner and its
subscription (LISTEN/NOTIFY) on PostgreSQL, pulling elsewhere."""

from __future__ import annotations

from threading import Event
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import BaseProjectionRunner, Projection

from tariff_timeline.events import TOPICS
from tariff_timeline.readmodel.writer import APPLICATION_NAME, CatchUpProgress, ReadModelWriter
from tariff_timeline.store import EventStore, TimelineApplication


class TimelineProjection(Projection[ReadModelWriter]):
    """eventsourcing projection: applies notifications to the read model as they arrive.

    The subscription hands over one event at a time, but the events recorded at one instant
    (one import) must be applied together, and only after the hash chain was checked up to
    them; so an event is a signal to catch up, and the events already applied are passed
    over.
    """

    name = "TariffTimelineReadModel"
    topics = tuple(TOPICS)
    source: EventStore | None = None
    report: CatchUpProgress | None = None

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Bring the read model up to the end of the log: the notification is the signal,
        and the catch-up applies whole appends, checked against the hash chain."""
        done = self.view.max_tracking_id(APPLICATION_NAME) or 0
        if tracking.notification_id <= done or self.source is None:
            return
        _caught_up(self.view.catch_up(self.source), self.view, self.report)


def _caught_up(applied: int, writer: ReadModelWriter, report: CatchUpProgress | None) -> None:
    if applied and report is not None:
        report(applied, writer.chain_state().events)


def follow(store: EventStore, writer: ReadModelWriter, stop: Event,
           poll_seconds: float = 1.0, report: CatchUpProgress | None = None) -> None:
    """Keep the read model up to date until `stop` is set: on PostgreSQL with eventsourcing's
    projection runner and its subscription (LISTEN/NOTIFY), elsewhere by pulling. `report`
    hears (events applied now, events the read model holds) after each round that applied
    something."""
    env = store.persistence
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        while not stop.is_set():
            _caught_up(writer.catch_up(store), writer, report)
            stop.wait(poll_seconds)
        return
    projection = TimelineProjection(view=writer)
    projection.source = store
    projection.report = report
    with BaseProjectionRunner(projection=projection, application_class=TimelineApplication,
                              tracking_recorder=writer, topics=projection.topics,
                              env=env) as runner:
        while not stop.is_set():
            runner.run_forever(timeout=poll_seconds)
