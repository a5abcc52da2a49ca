"""Importing: reading event files with their lines (``files``), the streamed check of an
import into a new store (``check``), the check of an append against the history of the
subjects it names (``subjects``), the spool of canonical bytes (``spool``) and recording it
all or nothing (``recording``)."""

from __future__ import annotations

from tariff_timeline.importing.files import (
    NO_FILES,
    Batch,
    Located,
    Progress,
    changes_in,
    event_files,
    file_batches,
    read_file,
    read_paths,
)
from tariff_timeline.importing.recording import Importer, ImportReport

__all__ = [
    "NO_FILES", "Batch", "ImportReport", "Importer", "Located", "Progress", "changes_in",
    "event_files", "file_batches", "read_file", "read_paths",
]
