"""The one place that wires a store together: which database (a URL, `TARIFFS_DB`, or the
embedded default), its event store, its read model, and the bundled timeline."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs
from sqlalchemy.exc import SQLAlchemyError

from tariff_timeline.domain.clocks import Clock, system_clock
from tariff_timeline.domain.errors import ImportRejected, StoreError
from tariff_timeline.importing import Importer
from tariff_timeline.readmodel import ReadModel
from tariff_timeline.store import EventStore, Patience, redact, write_deadline_seconds
from tariff_timeline.store.keys import (
    ENV_PUBLIC_KEY,
    ENV_SIGNING_KEY,
    load_signer,
    load_verifier,
)

ENV_DB = "TARIFFS_DB"
"""The environment variable that names the store's URL."""


def default_folder() -> Path:
    """The folder of the embedded store: ours, in the user's data directory."""
    return Path(platformdirs.user_data_dir("tariff-timeline", appauthor=False))


def default_db_url() -> str:
    """The embedded SQLite store in the user's data directory."""
    return f"sqlite:///{default_folder() / 'timeline.sqlite'}"


def bundled_data() -> Path:
    """The folder of the curated timeline shipped with the package."""
    return Path(str(resources.files("tariff_timeline.data")))


def bundled_fingerprint() -> str:
    """SHA-256 over the bundled event files (names and contents): changes with the data."""
    digest = hashlib.sha256()
    folder = bundled_data()
    # Every event file the import reads, JSON included (data/nomenclature/ is JSON).
    for path in sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml", ".json")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Wiring:
    """A store opened at a URL, its read model (none for an in-memory store), and whether it
    is the embedded default (which loads the bundled timeline)."""

    store: EventStore
    read_model: ReadModel | None
    is_default: bool


def wire(url: str | None = None, clock: Clock = system_clock,
         write_deadline: float | None = None, *, signing_key: Path | None = None,
         public_key: Path | None = None) -> Wiring:
    """Open the store at a URL, or TARIFFS_DB, or the embedded default, with its read model;
    writers and openers wait for a busy store up to `write_deadline` seconds (default
    TARIFFS_WRITE_DEADLINE, else a minute); heads are signed with the signing key and checked
    with the public key given or named by the environment."""
    chosen = url or os.environ.get(ENV_DB) or None
    patience = Patience(write_deadline_seconds(write_deadline))
    if chosen is None:
        # Only the default store's folder is made: a folder named in a URL must exist.
        default_folder().mkdir(parents=True, exist_ok=True)
    signing = signing_key or _env_path(ENV_SIGNING_KEY)
    checking = public_key or _env_path(ENV_PUBLIC_KEY)
    store = EventStore(chosen or default_db_url(), clock, patience,
                       signer=load_signer(signing) if signing is not None else None,
                       signature_check=load_verifier(checking) if checking is not None else None)
    try:
        read_model = None if store.in_memory else _open_read_model(store, patience)
    except BaseException:
        store.close()
        raise
    return Wiring(store, read_model, chosen is None)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _open_read_model(store: EventStore, patience: Patience) -> ReadModel:
    """The store's read model, its tables created if need be (several processes may be
    creating them at once); StoreError says why it cannot be opened."""
    try:
        return patience.run(lambda: ReadModel.open(store.url, patience.lock_seconds),
                            f"open the read model at {store.target.shown}")
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)  # the driver's own error, without the SQL
        detail = str(orig if orig is not None else exc)
        lines = detail.strip().splitlines() or [type(exc).__name__]
        raise StoreError(f"cannot open the read model at {store.target.shown}: "
                         f"{store.target.hide(lines[0])}") from exc


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
