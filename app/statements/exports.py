"""A statement laid out as rows — one layout for the page, the CSV and the PDF.

Rows, in order: the opening balance; licence sales (one per licence); derivative
uses (one per licence and brand, with their count); prior-period adjustments (late
money dated in a closed month, one row each); then every reserve move,
refund/dispute/reversal/recovery, payout and other entry on its own row; the closing
balance.  A payout made by this period's settlement run is on this period's statement,
dated the day it was made (``app.books.periods``).  Amounts stay integer minor units
until ``money_text`` formats them at the edge.  ``net`` is the change to the creator's payable (their own share on a
co-owned cameo); ``reserve`` and ``recoverable`` are the changes to those accounts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from app.books.statements import SECTION_TITLES, StatementLine, period_statements
from app.kit import csvfile
from ledger.money import format_minor
from ledger.periods import Period

from .service import CreatorStatement

_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
CSV_COLUMNS = (
    "section",
    "date",
    "description",
    "licence_id",
    "brand",
    "count",
    "gross",
    "commission",
    "net",
    "reserve",
    "recoverable",
    "currency",
)
CO_OWNED = "co-owned: gross and commission are the whole cameo's, net is your share"


@dataclass(frozen=True)
class Row:
    section: str  # "opening", a app.books.statements section, or "closing"
    date: str
    description: str
    licence_id: int | None = None
    brand: str = ""
    count: int | None = None
    gross: int | None = None
    commission: int | None = None
    net: int | None = None
    reserve: int | None = None
    recoverable: int | None = None

    @property
    def section_title(self) -> str:
        return {
            "opening": "Opening balance",
            "closing": "Closing balance",
            "adjustments": "Prior-period adjustments",
        }.get(self.section, SECTION_TITLES.get(self.section, ""))

    @property
    def is_balance(self) -> bool:
        return self.section in ("opening", "closing")


def money_text(minor: int | None, currency: str) -> str:
    return "" if minor is None else format_minor(minor, currency)


def _line_text(line: StatementLine, cs: CreatorStatement) -> str:
    licence = cs.licences.get(line.licence_id, "") if line.licence_id else ""
    meta = line.meta
    made = line.effective_at.strftime("%Y-%m-%d")
    by_run = f" by the {line.settles} settlement run" if line.settles else ""
    if line.kind == "reserve.hold":
        text = "Held in reserve" + by_run
    elif line.kind == "reserve.release":
        text = "Released from reserve" + by_run
    elif line.kind == "payout.transfer" and line.settles:
        text = f"Payout to your Stripe account for {line.settles}, made {made}"
    elif line.kind == "payout.transfer":
        text = "Payout to your Stripe account" + (f" (earnings to {meta['period']})" if meta.get("period") else "")
    elif line.kind == "reversal" and meta.get("reversed_kind") == "payout.transfer" and meta.get("transfer_failed"):
        text = "Payout not made (Stripe did not take the transfer): back to your balance"
    elif line.kind == "reversal" and meta.get("reversed_kind") == "payout.transfer":
        text = "Payout returned (the transfer failed or was reversed)"
    elif line.kind == "refund.recovered":
        refunded = str(meta.get("refund_effective_at", ""))[:10]
        text = "Recovered from earlier refund" + (f" of {refunded}" if refunded else "") + by_run
    elif line.kind == "advance.earned":
        text = "Unrecouped advance earned at the licence's end"
    elif line.kind == "reversal":
        text = f"Reversal of a {str(meta.get('reversed_kind', 'entry')).replace('.', ' ')}"
    elif line.kind in ("licence.refund", "licence.dispute"):
        text = "Refund" if line.kind == "licence.refund" else "Dispute"
        if line.change.recoverable:
            text += " (part already paid out: recovered from your next earnings)"
    else:
        text = line.memo or line.kind
    if line.late_from:
        original = str(meta.get("original_effective_at", ""))[:10]
        text += f" — dated {original}, in {line.late_from} (closed): booked {made}"
    text = " · ".join(filter(None, [text, licence]))
    return f"{text} ({CO_OWNED})" if line.co_owned else text


def _line_row(section: str, line: StatementLine, cs: CreatorStatement) -> Row:
    return Row(
        section,
        line.effective_at.strftime("%Y-%m-%d"),
        _line_text(line, cs),
        line.licence_id,
        brand=cs.brands.get(line.brand_id, "") if line.brand_id else "",
        gross=line.gross,
        commission=line.commission,
        net=line.change.payable,
        reserve=line.change.reserve,
        recoverable=line.change.recoverable,
    )


def rows(cs: CreatorStatement) -> list[Row]:
    st = cs.statement
    first_day = st.period_start.strftime("%Y-%m-%d")
    out = [
        Row(
            "opening",
            first_day,
            "Balance brought forward",
            net=st.opening.payable,
            reserve=st.opening.reserve,
            recoverable=st.opening.recoverable,
        )
    ]
    for sale in st.sales:
        name = cs.licences.get(sale.licence_id, "Licence fee") if sale.licence_id else "Licence fee"
        out.append(
            Row(
                "sales",
                "",
                name + (f" ({CO_OWNED})" if sale.co_owned else ""),
                sale.licence_id,
                count=sale.count,
                gross=sale.gross,
                commission=sale.commission,
                net=sale.net,
            )
        )
    for use in st.uses:
        name = cs.licences.get(use.licence_id, "Derivative uses") if use.licence_id else "Derivative uses"
        out.append(
            Row(
                "uses",
                "",
                name + (f" ({CO_OWNED})" if use.co_owned else ""),
                use.licence_id,
                brand=cs.brands.get(use.brand_id, "") if use.brand_id else "",
                count=use.count,
                gross=use.gross,
                commission=use.commission,
                net=use.net,
            )
        )
    for line in st.adjustments:
        if line.section in ("sales", "uses"):
            out.append(_line_row("adjustments", line, cs))
    for section in ("reserve", "refunds", "payouts", "other"):
        for line in st.section(section):
            out.append(_line_row(section, line, cs))
    last_day = (st.period_end - timedelta(days=1)).strftime("%Y-%m-%d")
    out.append(
        Row(
            "closing",
            last_day,
            "Balance at the end of the period",
            net=st.closing.payable,
            reserve=st.closing.reserve,
            recoverable=st.closing.recoverable,
        )
    )
    return out


def notes(cs: CreatorStatement) -> list[str]:
    """What the figures mean for the creator, in words."""
    st, cur = cs.statement, cs.statement.currency
    said = []
    if cs.open_period:
        said.append("This period has not ended yet: the figures can still change.")
    if cs.settlement:
        said.append(cs.settlement)
    if cs.carried_forward:
        said.append(
            f"{format_minor(cs.carried_forward, cur)} {cur} is carried forward to the next period: "
            "it is paid in a later payout run."
        )
        if not cs.payout.can_pay:
            said.append(f"Payouts are on hold: {cs.payout.hold_reason}")
    if st.closing.reserve:
        said.append(
            f"{format_minor(st.closing.reserve, cur)} {cur} is held in reserve and released under "
            "your contracts' holdback terms."
        )
    if st.closing.recoverable:
        said.append(
            f"You owe {format_minor(st.closing.recoverable, cur)} {cur} for refunds of money already "
            "paid out; it is recovered from your next earnings."
        )
    if st.adjustments:
        said.append(
            "Prior-period adjustments are payments or refunds dated in a month that was already closed: "
            "they are booked in this period and change no closed month."
        )
    if any(line.co_owned for line in st.lines):
        said.append("On co-owned cameos, gross and commission are the whole cameo's; net is your own share.")
    return said


def filename(cs: CreatorStatement, extension: str) -> str:
    return f"statement-{cs.creator_id}-{cs.period.name}-{cs.statement.currency}.{extension}"


def as_csv(cs: CreatorStatement) -> str:
    cur = cs.statement.currency
    return csvfile.text(
        CSV_COLUMNS,
        (
            [
                row.section,
                row.date,
                row.description,
                row.licence_id or "",
                row.brand,
                "" if row.count is None else row.count,
                money_text(row.gross, cur),
                money_text(row.commission, cur),
                money_text(row.net, cur),
                money_text(row.reserve, cur),
                money_text(row.recoverable, cur),
                cur,
            ]
            for row in rows(cs)
        ),
    )


def as_pdf(cs: CreatorStatement, *, now: datetime) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    st, cur = cs.statement, cs.statement.currency
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_creation_date(now.astimezone(UTC))
    title = f"Statement {cs.period.name} ({cur}) · {cs.creator_name}"
    pdf.set_title(title)
    # The closing figures as document metadata: readable by tools that do not parse page text.
    pdf.set_subject(
        f"Closing payable {money_text(st.closing.payable, cur)} {cur}; reserve "
        f"{money_text(st.closing.reserve, cur)}; recoverable {money_text(st.closing.recoverable, cur)}"
    )
    clean: Callable[[str], str]
    if _FONT.exists() and _BOLD.exists():
        pdf.add_font("body", fname=str(_FONT))
        pdf.add_font("body", style="B", fname=str(_BOLD))
        family, clean = "body", str
    else:  # core fonts are Latin-1 only
        family, clean = "Helvetica", (lambda s: s.encode("latin-1", "replace").decode("latin-1"))
    pdf.add_page()
    pdf.set_font(family, style="B", size=14)
    pdf.cell(text=clean(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    pdf.cell(
        text=clean(f"{st.period_start:%Y-%m-%d} to {st.period_end:%Y-%m-%d} (exclusive), UTC. Amounts in " + cur + "."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    headings = ("Section", "Date", "Description", "Count", "Gross", "Commission", "Net", "Reserve", "Recoverable")
    with pdf.table(
        col_widths=(26, 18, 90, 12, 22, 22, 22, 22, 22),
        headings_style=FontFace(emphasis="BOLD"),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=5,
    ) as table:
        heading = table.row()
        for text in headings:
            heading.cell(text)
        for row in rows(cs):
            description = row.description + (f" · {row.brand}" if row.brand else "")
            cells = (
                row.section_title,
                row.date,
                description,
                "" if row.count is None else str(row.count),
                *(money_text(v, cur) for v in (row.gross, row.commission, row.net, row.reserve, row.recoverable)),
            )
            line = table.row()
            for text in cells:
                line.cell(clean(text))
    pdf.ln(3)
    for note in notes(cs):
        pdf.multi_cell(0, 5, clean(note), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


STATEMENT_FRAME_COLUMNS = {
    "creator_id": "Int64",
    "currency": "string",
    "section": "string",
    "seq": "Int64",
    "effective_at": "string",
    "kind": "string",
    "licence_id": "Int64",
    "brand_id": "Int64",
    "gross": "Int64",
    "commission": "Int64",
    "net": "Int64",
    "reserve": "Int64",
    "recoverable": "Int64",
}


def period_frame(conn: Connection, period: Period | None) -> pd.DataFrame:
    """Every creator's statement for ``period`` as one table (the ``statements`` export):
    an opening and a closing row per creator and currency around their ledger lines,
    amounts in integer minor units."""
    if period is None:  # registered with needs_period, so the registry never asks for the whole book
        raise ValueError("statements need a period")
    records: list[dict] = []
    for st in period_statements(conn, period.starts_at, period.ends_at):
        base = {"creator_id": st.creator_id, "currency": st.currency}

        def balance_row(section: str, balances, at: datetime, base: dict = base) -> dict:
            return {
                **base,
                "section": section,
                "effective_at": at.isoformat(),
                "net": balances.payable,
                "reserve": balances.reserve,
                "recoverable": balances.recoverable,
            }

        records.append(balance_row("opening", st.opening, st.period_start))
        records += [
            {
                **base,
                "section": line.section,
                "seq": line.seq,
                "effective_at": line.effective_at.isoformat(),
                "kind": line.kind,
                "licence_id": line.licence_id,
                "brand_id": line.brand_id,
                "gross": line.gross,
                "commission": line.commission,
                "net": line.change.payable,
                "reserve": line.change.reserve,
                "recoverable": line.change.recoverable,
            }
            for line in st.lines
        ]
        records.append(balance_row("closing", st.closing, st.period_end))
    return pd.DataFrame.from_records(records, columns=list(STATEMENT_FRAME_COLUMNS)).astype(STATEMENT_FRAME_COLUMNS)
