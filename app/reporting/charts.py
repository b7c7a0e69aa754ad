"""Server-rendered SVG charts of the monthly activity, drawn with matplotlib.

matplotlib is used through its object-oriented API only: a ``Figure`` saved as SVG.
pyplot is never imported, so there is no global figure state and no GUI backend to
select (nothing to set at import; the SVG writer is chosen by ``format="svg"``).
matplotlib is not thread-safe and ``svg.fonttype`` is a process-wide setting, so
rendering is serialised by a lock; ``svg.fonttype = none`` keeps titles, legend and
axis labels as real ``<text>`` (readable, searchable, testable) instead of paths.
(pygal was tried first: it installs a legacy ``sys.meta_path`` hook that raises
ImportWarning on later imports and has been unfixed upstream since 2023.)

The sums are integer minor units from ``app.books.reports.monthly_activity``; they are
turned into major-unit floats here, for drawing only.
"""

from __future__ import annotations

import io
import threading
from decimal import Decimal

from app.books.reports import MonthActivity
from ledger.money import exponent

SERIES_LABELS = (
    ("gross_sales", "Gross sales"),
    ("commission", "Commission"),
    ("payouts", "Payouts"),
    ("outstanding_payables", "Outstanding payables"),
)
COLOURS = ("#1f6feb", "#8250df", "#1a7f37", "#bf3989")
_RENDERING = threading.Lock()


def _plotted(minor: int, currency: str) -> float:
    return float(Decimal(minor).scaleb(-exponent(currency)))  # drawing only: never summed or stored


def activity_svg(rows: list[MonthActivity], currency: str) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    shown = [r for r in rows if r.currency == currency]
    months = [r.month for r in shown]
    with (
        _RENDERING,
        matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "cameo", "font.family": "sans-serif"}),
    ):
        figure = Figure(figsize=(8.8, 4.2), dpi=100, layout="constrained")
        axes = figure.add_subplot()
        for (series, label), colour in zip(SERIES_LABELS, COLOURS, strict=True):
            axes.plot(
                months,
                [_plotted(getattr(r, series), currency) for r in shown],
                marker="o",
                markersize=3,
                color=colour,
                label=label,
            )
        axes.set_title(f"Monthly activity ({currency})")
        axes.set_ylabel(currency)
        axes.axhline(0, color="#888888", linewidth=0.6)
        axes.grid(True, axis="y", color="#e5e5e5")
        axes.tick_params(axis="x", labelrotation=30)
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=4, frameon=False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
