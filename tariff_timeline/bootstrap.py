"""The one place that wires a store together: which database (a URL, `TARIFFS_DB`, or the
embedded default), its event store, its read model, and the bundled timeline."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

from tariff_timeline.domain.clocks import Clock, system_clock
from tariff_timeline.domain.errors import ImportRejected
from tariff_timeline.importing import Importer
from tariff_timeline.readmodel import ReadModel
from tariff_timeline.store import EventStore, redact
from tariff_timeline.store.keys import (
    ENV_PUBLIC_KEY,
    ENV_SIGNING_KEY,
    load_signer,
    load_verifier,
)

ENV_DB = "TARIFFS_DB"
"""The environment variable that names the store's URL."""


def default_db_url() -> str:
    """The embedded SQLite store in the user's data directory."""
    folder = Path(platformdirs.user_data_dir("tariff-timeline", appauthor=False))
    return f"sqlite:///{folder / 'timeline.sqlite'}"


def bundled_data() -> Path:
    """The folder of the curated timeline shipped with the package."""
    return Path(str(resources.files("tariff_timeline.data")))


def bundled_fingerprint() -> str:
    """SHA-256 over the bundled event files (names and contents): changes with the data."""
    digest = hashlib.sha256()
    folder = bundled_data()
    for path in sorted(folder.rglob("*.yaml")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Wiring:
    """A store opened at a URL, its read model (none for an in-memory store), and whether it
    is the embedded default (which loads the bundled timeline)."""

    store: EventStore
    read_model: ReadModel | None
    is_default: bool


def wire(url: str | None = None, clock: Clock = system_clock, *,
         signing_key: Path | None = None, public_key: Path | None = None) -> Wiring:
    """Open the store at a URL, or TARIFFS_DB, or the embedded default, with its read model;
    with the head-signing key and the public key given or named by the environment."""
    chosen = url or os.environ.get(ENV_DB) or None
    signing = signing_key or _env_path(ENV_SIGNING_KEY)
    checking = public_key or _env_path(ENV_PUBLIC_KEY)
    store = EventStore(chosen or default_db_url(), clock,
                       signer=load_signer(signing) if signing is not None else None,
                       signature_check=load_verifier(checking) if checking is not None else None)
    try:
        read_model = None if store.in_memory else ReadModel.open(store.url)
    except BaseException:
        store.close()
        raise
    return Wiring(store, read_model, chosen is None)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def sync_bundled(store: EventStore, importer: Importer) -> list[str]:
    """Import the bundled timeline if this store has not seen its current version; return
    warnings.

    Importing is idempotent, so only new events are appended; an event whose recorded content
    differs is refused (that needs an EventCorrected), which leaves the store as it was and is
    reported as a warning."""
    marker = Path(store.persistence.get("SQLITE_DBNAME", "") + ".bundled")
    fingerprint = bundled_fingerprint()
    if store.count() > 0 and marker.is_file() and (
            marker.read_text(encoding="utf-8").strip() == fingerprint):
        return []
    try:
        importer.import_paths([bundled_data()])
    except ImportRejected as exc:
        if store.count() == 0:
            raise
        return [f"the bundled timeline changed but could not be added to "
                f"{redact(store.url)}: {exc}"]
    if marker.parent.is_dir():
        marker.write_text(fingerprint + "\n", encoding="utf-8")
    return []
