"""How much of an import file is read before it is refused: input that cannot be trusted is
bounded before it can cost memory or time (issue 13).

Each limit is far above what the bundled data and the benchmark's generated histories need,
and each refusal names the limit it hit, with the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest event file, in bytes (64 MiB). A file is decoded whole and its events are held
while they are checked: importing a 50 MB file peaks at 584 MB (benchmarks/bad_tail.py), so
this keeps one file under 1 GB. The benchmark writes 10,000 events a file (3.6 MB), the
largest bundled file is 69 KB; a larger history is a folder of files."""

MAX_DEPTH = 32
"""Deepest nesting of lists and mappings, counted from the top of the file. The import format
needs 7 (a condition's list inside a correction's replacement); Python's own recursion stops
near 1,000, where a parser would fail with a traceback instead of a message."""

MAX_ALIASES = 10_000
"""Most YAML aliases (`*name`) one file may use. The bundled data use 139 in all, mostly to
share a `sources` list between events."""

MAX_ALIAS_NODES = 250_000
"""Most values one YAML file may reach through its aliases, counting a list or mapping and
everything in it again at each alias that names it. Nine anchors nesting nine aliases each
name 387 million values in a 1 KB file; 250,000 still lets a 4,000-code product list be
reused sixty times."""


@dataclass(frozen=True)
class Limits:
    """The limits one read of import files works within (the defaults above; tests shrink
    them to reach them cheaply)."""

    file_bytes: int = MAX_FILE_BYTES
    depth: int = MAX_DEPTH
    aliases: int = MAX_ALIASES
    alias_nodes: int = MAX_ALIAS_NODES


DEFAULT_LIMITS = Limits()
"""The limits every import uses."""
