"""Server-rendered SVG charts of the monthly activity, drawn with pygal.

Why pygal: it is pure Python and writes SVG directly, with the series names and axis
labels as real ``<text>`` (readable, searchable, testable), and every chart is its
own object — there is no global figure state or backend to configure inside a
multi-threaded web worker, as there is with matplotlib's pyplot.  Its JavaScript
tooltips are switched off (``js=[]``): the page loads nothing from elsewhere.

The sums are integer minor units from ``ledger.exports.monthly_activity``; they are
turned into major-unit floats here, for drawing only.
"""
from __future__ import annotations

from decimal import Decimal

from ledger.exports import MonthActivity
from ledger.money import exponent, format_minor

SERIES_LABELS = (("gross_sales", "Gross sales"), ("commission", "Commission"), ("payouts", "Payouts"),
                 ("outstanding_payables", "Outstanding payables"))


def _plotted(minor: int, currency: str) -> float:
    return float(Decimal(minor).scaleb(-exponent(currency)))  # drawing only: never summed or stored


def activity_svg(rows: list[MonthActivity], currency: str) -> str:
    import pygal
    from pygal.style import Style

    style = Style(background="white", plot_background="white", font_family="system-ui, sans-serif",
                  colors=("#1f6feb", "#8250df", "#1a7f37", "#bf3989"))
    chart = pygal.Line(js=[], style=style, width=880, height=420, x_label_rotation=30, dots_size=3,
                       title=f"Monthly activity ({currency})", legend_at_bottom=True, truncate_legend=-1,
                       value_formatter=lambda value: f"{value:,.{exponent(currency)}f} {currency}",
                       disable_xml_declaration=True)
    shown = [r for r in rows if r.currency == currency]
    chart.x_labels = [r.month for r in shown]
    for series, label in SERIES_LABELS:
        chart.add(label, [{"value": _plotted(getattr(r, series), currency),
                           "label": format_minor(getattr(r, series), currency)} for r in shown])
    return chart.render(is_unicode=True)
