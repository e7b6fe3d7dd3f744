"""Charts of the rendered reports, as inline SVG text (matplotlib, Agg, no pyplot state).

Deterministic: the same data give the same bytes. The SVG writer's ids are hashed with a
fixed ``svg.hashsalt``, the metadata carries no date, and text stays text
(``svg.fonttype = "none"``) so that it can be searched and extracted from the PDF.
Labels are given by the caller (French, from the catalogue); numbers on axes use a decimal
comma.

Drawing a curve costs tens of milliseconds (most of a portal page's time), and the portal
draws the same ones again and again (a closed campaign's curves do not move): ``km_svg``
keeps the last ``KEEP_DRAWN`` charts it drew, keyed by everything they are drawn from (the
labels, every step of every curve written with ``repr``, the axis labels): the same data give
the same bytes, so a kept chart is the one it would draw.
"""

from __future__ import annotations

import io
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reports.survival import KaplanMeier

__all__ = ["histogram_svg", "km_svg"]

_RC: dict[str, Any] = {
    "svg.hashsalt": "temoin-report",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_COLOURS = ("#1f4e79", "#c0504d", "#4f8f3a", "#8064a2", "#d99426")
KEEP_DRAWN = 64
_drawn: OrderedDict[str, str] = OrderedDict()
_drawn_lock = threading.Lock()  # reports may be drawn from worker threads
_HEADER = re.compile(r"\A(?:<\?xml[^>]*>\s*)?(?:<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    # inline in HTML: no XML declaration nor DOCTYPE
    return _HEADER.sub("", buffer.getvalue())


def _comma(value: float, _pos: int | None = None) -> str:
    text = f"{value:g}"
    return text.replace(".", ",").replace("-", "−")


def _percent(value: float, _pos: int | None = None) -> str:
    return f"{round(value * 100):d}\u202f%"


def km_svg(
    curves: Sequence[tuple[str, KaplanMeier]],
    *,
    xlabel: str,
    ylabel: str,
    horizon: float | None = None,
) -> str:
    """Step curves of the share answered (``1 - S(t)``) with their 95 % band.

    Censored times are marked with a small vertical tick on the curve, as is usual. The last
    charts drawn are kept (module docstring).
    """
    key = repr(([(label, km.steps) for label, km in curves], xlabel, ylabel, horizon))
    with _drawn_lock:
        found = _drawn.get(key)
        if found is not None:
            _drawn.move_to_end(key)
            return found
    drawn = _draw_km(curves, xlabel=xlabel, ylabel=ylabel, horizon=horizon)
    with _drawn_lock:
        _drawn[key] = drawn
        while len(_drawn) > KEEP_DRAWN:
            _drawn.popitem(last=False)
    return drawn


def _draw_km(
    curves: Sequence[tuple[str, KaplanMeier]],
    *,
    xlabel: str,
    ylabel: str,
    horizon: float | None,
) -> str:
    with rc_context(cast(Any, _RC)):
        figure = Figure(figsize=(6.4, 3.4))
        axes = figure.add_subplot()
        top = 0.0
        for index, (label, km) in enumerate(curves):
            colour = _COLOURS[index % len(_COLOURS)]
            times = [0.0]
            share = [0.0]
            low = [0.0]
            high = [0.0]
            censored_t: list[float] = []
            censored_y: list[float] = []
            for step in km.steps:
                times.append(step.time)
                share.append(1.0 - step.survival)
                low.append(1.0 - step.high)
                high.append(1.0 - step.low)
                if step.censored:
                    censored_t.append(step.time)
                    censored_y.append(1.0 - step.survival)
            end = max(times[-1], horizon or 0.0)
            times.append(end)
            share.append(share[-1])
            low.append(low[-1])
            high.append(high[-1])
            top = max(top, end)
            axes.step(times, share, where="post", color=colour, label=label, linewidth=1.6)
            axes.fill_between(times, low, high, step="post", color=colour, alpha=0.15)
            if censored_t:
                axes.plot(censored_t, censored_y, "|", color=colour, markersize=7)
        axes.set_ylim(0.0, 1.0)
        axes.set_xlim(0.0, max(top, 1.0))
        axes.yaxis.set_major_formatter(FuncFormatter(_percent))
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.xaxis.set_major_formatter(FuncFormatter(_comma))
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.grid(True, color="#dddddd", linewidth=0.6)
        if curves:
            axes.legend(loc="lower right", frameon=False)
        figure.tight_layout()
        return _svg(figure)


def histogram_svg(
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    xlabel: str,
    ylabel: str,
) -> str:
    """Side-by-side bars of whole business-day delays (0, 1, 2, …), one colour per series."""
    with rc_context(cast(Any, _RC)):
        figure = Figure(figsize=(6.4, 3.0))
        axes = figure.add_subplot()
        longest = max((int(max(values)) for _, values in series if len(values)), default=0)
        days = list(range(longest + 1))
        width = 0.8 / max(len(series), 1)
        for index, (label, values) in enumerate(series):
            counts = [0] * (longest + 1)
            for value in values:
                counts[int(value)] += 1
            offsets = [d - 0.4 + width * (index + 0.5) for d in days]
            axes.bar(
                offsets, counts, width=width, label=label, color=_COLOURS[index % len(_COLOURS)]
            )
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.xaxis.set_major_formatter(FuncFormatter(_comma))
        axes.yaxis.set_major_formatter(FuncFormatter(_comma))
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.grid(True, axis="y", color="#dddddd", linewidth=0.6)
        if series:
            axes.legend(frameon=False)
        figure.tight_layout()
        return _svg(figure)
