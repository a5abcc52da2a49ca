"""Keeping the read model current in the background: eventsourcing's projection runner and its
subscription (LISTEN/NOTIFY) on PostgreSQL, pulling elsewhere."""

from __future__ import annotations

import itertools
from functools import partial
from threading import Event
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import BaseProjectionRunner, Projection

from tariff_timeline.events import TOPICS
from tariff_timeline.readmodel.writer import APPLICATION_NAME, ReadModelWriter, recorded_at_is
from tariff_timeline.store import EventStore, TimelineApplication, TimelineEntry


class TimelineProjection(Projection[ReadModelWriter]):
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
            following, _, _ = self.source.policy_page(tracking.notification_id + 1, 100_000)
            group += itertools.takewhile(partial(recorded_at_is, entry.recorded_at), following)
        self.view.apply(group)


def follow(store: EventStore, writer: ReadModelWriter, stop: Event,
           poll_seconds: float = 1.0) -> None:
    """Keep the read model up to date until `stop` is set: on PostgreSQL with eventsourcing's
    projection runner and its subscription (LISTEN/NOTIFY), elsewhere by pulling."""
    env = store.persistence
    if env["PERSISTENCE_MODULE"] != "eventsourcing.postgres":
        while not stop.is_set():
            writer.catch_up(store)
            stop.wait(poll_seconds)
        return
    projection = TimelineProjection(view=writer)
    projection.source = store
    with BaseProjectionRunner(projection=projection, application_class=TimelineApplication,
                              tracking_recorder=writer, topics=projection.topics,
                              env=env) as runner:
        while not stop.is_set():
            runner.run_forever(timeout=poll_seconds)
