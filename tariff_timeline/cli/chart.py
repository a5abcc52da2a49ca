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
from matplotlib.axes import Axes

from tariff_timeline.domain.errors import InvalidInput
from tariff_timeline.events import EASTERN
from tariff_timeline.projections.series import Series

SUFFIXES = (".png", ".svg")
COLOURS = ("#1f5fa8", "#d1495b", "#2a9d8f", "#e9a03b")
STYLES = ("-", "--", "-.", ":")



def short_instrument(name: str) -> str:
    """A compact label for an instrument ('Executive Order 14266' -> 'EO 14266')."""
    text = re.sub(r"Executive Order", "EO", name)
    text = re.sub(r"Proclamation", "Procl.", text)
    return text.split(",")[0].strip()


def _label(step_instruments: list[str]) -> str:
    shown = list(dict.fromkeys(short_instrument(i) for i in step_instruments))
    # Sources without an instrument are cited by title: keep the label short.
    shown = [name if len(name) <= 30 else name[:28] + "…" for name in shown]
    return "\n".join(shown[:2]) + ("\n…" if len(shown) > 2 else "")


def _annotate(ax: Axes, labels: list[tuple[float, float, str, str]], left: float,
              right: float, ymax: float) -> None:
    """Place change labels inside the axes without overlapping: each takes the first of a few
    offsets (above or below, right or left of its point) whose box is still free."""
    scale = ax.figure.dpi / 72  # points to pixels
    placed: list[tuple[float, float, float, float]] = []
    x0, y0 = ax.transData.transform((left, 0))
    x1, y1 = ax.transData.transform((right, ymax))
    for at, value, text, colour in sorted(labels):
        lines = text.split("\n")
        w = (5.0 * max(len(line) for line in lines) + 8) * scale
        h = (11.0 * len(lines) + 4) * scale
        px, py = ax.transData.transform((at, value))
        choice = None
        for dy in (18, -18, 44, -44, 70, -70, 96, -96):
            for dx in (8, -8):
                bx = px + dx * scale - (w if dx < 0 else 0)
                by = py + dy * scale - (h if dy < 0 else 0)
                box = (bx, by, bx + w, by + h)
                inside = x0 <= box[0] and box[2] <= x1 and y0 <= box[1] and box[3] <= y1
                free = all(box[2] <= o[0] or o[2] <= box[0] or box[3] <= o[1] or o[3] <= box[1]
                           for o in placed)
                if inside and free:
                    choice = (dx, dy, box)
                    break
            if choice is not None:
                break
        if choice is None:  # crowded: fall back to above-right, overlapping if it must
            bx, by = px + 8 * scale, py + 18 * scale
            choice = (8, 18, (bx, by, bx + w, by + h))
        dx, dy, box = choice
        placed.append(box)
        ax.annotate(text, (at, value), textcoords="offset points", xytext=(dx, dy),
                    fontsize=8, color=colour, ha="left" if dx > 0 else "right",
                    va="bottom" if dy > 0 else "top",
                    arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6},
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": colour,
                          "alpha": 0.9, "lw": 0.6})


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
    seen: set[tuple[float, float, str]] = set()
    labels: list[tuple[float, float, str, str]] = []
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
            if label and (at, value, label) not in seen:
                seen.add((at, value, label))  # the same change in another version: once
                day = step.start.astimezone(EASTERN).strftime("%d %b").lstrip("0")
                labels.append((at, value, f"{day}: {label} → {value:g}%", colour))
    ymax = max(top * 1.3, 5)
    ax.set_ylim(0, ymax)
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
    # After the layout, so the data-to-pixel transform the placement uses is final.
    _annotate(ax, labels, _x(first.start), _x(first.end), ymax)
    target.parent.mkdir(parents=True, exist_ok=True)
    # SVG keeps its text as text: searchable, selectable, and checkable by tests.
    with plt.rc_context({"svg.fonttype": "none"}):
        fig.savefig(target)
    plt.close(fig)
    return target
