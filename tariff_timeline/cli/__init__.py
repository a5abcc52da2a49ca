"""The `tariffs` command line: options (``options``), rendering (``render``), commands
(``commands``) and charts (``chart``)."""

from __future__ import annotations

from tariff_timeline.cli.commands import app


def main() -> None:
    """Entry point of the `tariffs` console script."""
    app()


__all__ = ["app", "main"]
