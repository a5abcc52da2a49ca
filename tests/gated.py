"""`tariffs` processes started together: each waits at a gate until all are loaded, so that
their work overlaps as much as the machine lets it (the stress tests' races)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

GATE = ("import sys\n"
        "from tariff_timeline.cli import main\n"
        "sys.stdin.read()  # the starting gun: everything is loaded, wait for the others\n"
        "sys.argv = ['tariffs', *sys.argv[1:]]\n"
        "main()\n")
"""A `tariffs` process that waits for its standard input to close before it runs."""

ROUNDS = int(os.environ.get("TARIFFS_STRESS_ROUNDS", "2"))
"""How many times a stress test runs each scenario (2 by default; `make stress` runs 20)."""


def start_at_once(commands: Sequence[Sequence[str]],
                  env: Mapping[str, str]) -> list[subprocess.Popen[str]]:
    """Start a `tariffs` process for each command's arguments, and let them all go at once
    (their output piped, as text)."""
    gate, gun = os.pipe()  # every process reads the gate; closing the gun lets all go at once
    try:
        return [subprocess.Popen([sys.executable, "-c", GATE, *arguments], env=dict(env),
                                 stdin=gate, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True) for arguments in commands]
    finally:
        os.close(gate)
        os.close(gun)
