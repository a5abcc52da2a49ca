"""Step charts of a rate series over effective time (matplotlib, no display needed)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers and in tests

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from domain.errors import InvalidInput
from events import EASTERN
from projections.series import Series

SUFFIXES = (".png", ".svg")
COLOURS = ("#1f5fa8", "#d1495b", "#2a9d8f", "#e9a03b")
STYLES = ("-", "--", "-.", ":")
OFFSETS = (22, -26, 44, -48)
"""Vertical offsets of change labels, in points."""


def short_instrument(name: str) -> str:
    """A compact label for an instrument ('Executive Order 14266' -> 'EO 14266')."""
    text = re.sub(r"Executive Order", "EO", name)
    text = re.sub(r"Proclamation", "Procl.", text)
    return text.split(",")[0].strip()


def _label(step_instruments: list[str]) -> str:
    shown = list(dict.fromkeys(short_instrument(i) for i in step_instruments))
    return "\n".join(shown[:2]) + ("\n…" if len(shown) > 2 else "")


def _x(at: datetime) -> float:
    return float(mdates.date2num(at))  # type: ignore[no-untyped-call]


def _number(value: object) -> float | None:
    return None if value is None else float(str(value))


def plot_series(versions: Sequence[tuple[str, Series]], path: Path | str) -> Path:
    """Draw one or more versions of a series (e.g. as known at two dates) to PNG or SVG."""
    target = Path(path)
    if target.suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"--plot: {target.name} should end in .png or .svg")
    if not versions:
        raise InvalidInput("nothing to plot")
    first = versions[0][1]
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=110)
    top = 0.0
    annotated: set[tuple[float, float, str]] = set()
    for index, (label, series) in enumerate(versions):
        xs: list[float] = []
        ys: list[float] = []
        for step in series.steps:
            value = _number(step.additional)
            xs.append(_x(step.start))
            ys.append(value if value is not None else float("nan"))
        xs.append(_x(series.end))
        ys.append(ys[-1])
        top = max([top, *(y for y in ys if y == y)])
        colour = COLOURS[index % len(COLOURS)]
        ax.step(xs, ys, where="post", color=colour, linestyle=STYLES[index % len(STYLES)],
                linewidth=2.2 if index == 0 else 1.8, label=label)
        for step in series.change_points:
            value = _number(step.additional)
            if value is None:
                continue
            at = _x(step.start)
            ax.plot([at], [value], "o", color=colour, markersize=5)
            label = _label(step.instruments)
            if not label or (at, value, label) in annotated:
                continue  # the same change in an earlier version is labelled already
            annotated.add((at, value, label))
            # Cycle through offsets above and below, so close change points stay legible.
            dy = OFFSETS[len(annotated) % len(OFFSETS)]
            day = step.start.astimezone(EASTERN).strftime("%d %b").lstrip("0")
            ax.annotate(f"{day}: {label} → {value:g}%", (at, value), textcoords="offset points",
                        xytext=(8, dy), fontsize=8, color=colour,
                        va="bottom" if dy > 0 else "top",
                        arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6},
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour,
                              "alpha": 0.9, "lw": 0.6})
    ax.set_ylim(0, max(top * 1.25, 5))
    ax.set_xlim(_x(first.start), _x(first.end))
    ax.set_title(f"Additional US duty on HTS {first.hts} from {first.origin}", fontsize=13)
    ax.set_xlabel("Effective date (goods entered for consumption, US Eastern)")
    ax.set_ylabel("Additional duty (% ad valorem, on top of MFN)")
    locator = mdates.AutoDateLocator(tz=EASTERN, minticks=5, maxticks=12)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(
        mdates.DateFormatter("%Y-%m-%d", tz=EASTERN))  # type: ignore[no-untyped-call]
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=9, title="version of the timeline",
              title_fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target)
    plt.close(fig)
    return target
