"""Reports over a large book, as ratios to the plain SQL aggregate computing the same
totals (issue #7), on PostgreSQL.

    python bench/reports_bench.py [--postings 1000000] [--quick]

The book: creators earning from metered uses (3 postings each) and one licence sale a
month (4), a monthly holdback to reserve (2) and a month-end payout (2) per creator,
a few payouts reversed, over 2026 — posted through ``Ledger.post_batch`` so balance
rows, hashes and triggers are the real ones.  Then, each timed as the best of a few
runs, ours ÷ plain SQL (time; 1.00 = as fast as the hand-written query):

(a) trial balance as of a date: ``ledger.reports.trial_balance(before=…)`` ÷
    ``SELECT account_id, sum(amount) … WHERE effective_at < … GROUP BY account_id``
(a') trial balance now (maintained balance rows) ÷ the same SUM over every posting
(b) one creator's statement for one month: ``app.books.reports.creator_period`` (the
    per-creator period totals of the ``creators`` export) and (b') the full statement a
    creator reads, ``app.books.statements.creator_statement`` (every line, checked against
    the balance rows), each ÷ one conditional-aggregate query over that creator's postings
(c) a period's payouts per transfer group, net of reversals (ledger side of the
    reconciliation): ``app.books.reports.payout_groups`` ÷ one GROUP BY over the JSON
    ``transfer_group``
Every pair is checked to produce the same totals before it is timed.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.books import chart, recipes
from app.books.recipes import Owner
from app.books.reports import creator_period, payout_groups
from app.books.statements import creator_statement
from bench.common import Timer, scratch_database
from ledger import Ledger
from ledger.db import make_engine
from ledger.periods import Period
from ledger.reports import trial_balance

YEAR = 2026
BRANDS = 20
BATCH = 1000


def drafts_for(postings: int, creators: int):
    """The year's entries in time order, about ``postings`` postings in all."""
    per_creator_month = postings / (creators * 12)
    uses = max(1, round((per_creator_month - 8) / 3))
    for month in range(1, 13):
        start = datetime(YEAR, month, 1, tzinfo=UTC)
        span = (Period.containing(start).ends_at - start).total_seconds() - 7200
        earned: dict[int, int] = defaultdict(int)
        for c in range(1, creators + 1):
            when = start + timedelta(seconds=span * (c % 97) / 97)
            sale = recipes.licence_sale(
                key=f"sale:{month}:{c}",
                effective_at=when,
                currency="USD",
                gross=50_000,
                stripe_fee=1_480,
                commission_bps=2000,
                owners=[Owner(c, 1)],
            )
            earned[c] += 40_000
            yield sale
        for u in range(uses):
            for c in range(1, creators + 1):
                when = start + timedelta(seconds=span * (u * creators + c) / (uses * creators))
                price = 100 + (u * 7 + c) % 400
                yield recipes.derivative_use(
                    key=f"use:{month}:{c}:{u}",
                    effective_at=when,
                    currency="USD",
                    price=price,
                    commission_bps=2000,
                    brand_id=1 + c % BRANDS,
                    owners=[Owner(c, 1)],
                )
                earned[c] += price - recipes.commission(price, 2000)
        end = Period.containing(start).ends_at - timedelta(hours=1)
        for c in range(1, creators + 1):
            held = earned[c] // 10
            yield recipes.holdback_to_reserve(
                key=f"settlement:{start:%Y-%m}:reserve:{c}:USD",
                effective_at=end,
                currency="USD",
                amount=held,
                creator_id=c,
            )
            yield recipes.payout_transfer(
                key=f"payout:item:{month}:{c}",
                effective_at=end + timedelta(minutes=30),
                currency="USD",
                amount=earned[c] - held,
                creator_id=c,
                meta={
                    "period": f"{start:%Y-%m}",
                    "item_id": month * 100_000 + c,
                    "creator_id": c,
                    "transfer_group": f"settlement-{start:%Y-%m}",
                },
            )


def build(url: str, postings: int, creators: int) -> None:
    engine = make_engine(url)
    sessions = sessionmaker(engine, class_=Session, expire_on_commit=False)
    ledger = Ledger()
    codes = chart.house_accounts("USD") + [chart.brand_receivable(b, "USD") for b in range(1, BRANDS + 1)]
    codes += [f(c, "USD") for c in range(1, creators + 1) for f in (chart.creator_payable, chart.creator_reserve)]
    with sessions() as s:
        chart.open_accounts(ledger, s, codes)
        s.commit()
    batch, posted, now = [], 0, datetime(YEAR + 1, 1, 1, tzinfo=UTC)

    def flush():
        with sessions() as s:
            ledger.post_batch(s, batch, now=now)
            s.commit()

    with Timer() as t:
        for draft in drafts_for(postings, creators):
            batch.append(draft)
            posted += len(draft.lines)
            if len(batch) == BATCH:
                flush()
                batch = []
        if batch:
            flush()
        # a few transfers failed in June: reversed in July
        with sessions() as s:
            seqs = (
                s.connection()
                .execute(
                    text(
                        "SELECT seq FROM ledger_entry WHERE kind = 'payout.transfer' "
                        "AND idempotency_key LIKE 'payout:item:6:%' ORDER BY seq LIMIT 10"
                    )
                )
                .scalars()
                .all()
            )
            for seq in seqs:
                ledger.reverse(
                    s,
                    seq,
                    idempotency_key=f"reversal:{seq}",
                    now=now,
                    effective_at=datetime(YEAR, 7, 2, tzinfo=UTC),
                )
            s.commit()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        count = conn.execute(text("SELECT count(*) FROM ledger_posting")).scalar()
    print(f"  built {count:,} postings in {t.seconds:.0f} s (post_batch, {BATCH} entries a transaction)")
    engine.dispose()


def best(fn, runs: int) -> tuple[float, object]:
    result, seconds = None, float("inf")
    for _ in range(runs):
        with Timer() as t:
            result = fn()
        seconds = min(seconds, t.seconds)
    return seconds, result


def row(label: str, ours: float, raw: float) -> None:
    print(f"  {label:<58} ours {ours * 1000:9.1f} ms   plain SQL {raw * 1000:9.1f} ms   ratio {ours / raw:5.2f}")


RAW_TRIAL = text(
    "SELECT p.account_id, sum(p.amount) FROM ledger_posting p JOIN ledger_entry e ON e.seq = p.entry_seq "
    "WHERE e.effective_at < :before GROUP BY p.account_id"
)
RAW_TRIAL_NOW = text("SELECT account_id, sum(amount) FROM ledger_posting GROUP BY account_id")
RAW_CREATOR = text("""
    SELECT a.code,
      sum(CASE WHEN e.effective_at < :start THEN p.amount ELSE 0 END) AS opening,
      sum(CASE WHEN e.effective_at >= :start AND coalesce(o.kind, e.kind) IN ('licence.sale', 'usage.royalty')
               THEN p.amount ELSE 0 END) AS earned,
      sum(CASE WHEN e.effective_at >= :start AND coalesce(o.kind, e.kind) IN ('reserve.hold', 'reserve.release')
               THEN p.amount ELSE 0 END) AS reserve,
      sum(CASE WHEN e.effective_at >= :start AND coalesce(o.kind, e.kind) = 'payout.transfer'
               THEN p.amount ELSE 0 END) AS paid,
      sum(p.amount) AS closing
    FROM ledger_posting p JOIN ledger_entry e ON e.seq = p.entry_seq
      LEFT JOIN ledger_entry o ON o.seq = e.reverses_seq
      JOIN ledger_account a ON a.id = p.account_id
    WHERE a.code LIKE :pattern AND e.effective_at < :end
    GROUP BY a.code""")
RAW_PAYOUTS = text("""
    SELECT coalesce(o.metadata ->> 'transfer_group', e.metadata ->> 'transfer_group', '') AS grp, p.currency,
           sum(CASE WHEN e.kind = 'payout.transfer' THEN p.amount ELSE -p.amount END)
    FROM ledger_posting p JOIN ledger_entry e ON e.seq = p.entry_seq
      LEFT JOIN ledger_entry o ON o.seq = e.reverses_seq
    WHERE e.effective_at >= :start AND e.effective_at < :end AND p.amount > 0
      AND coalesce(o.kind, e.kind) = 'payout.transfer' AND e.kind IN ('payout.transfer', 'reversal')
    GROUP BY 1, 2""")


def measure(url: str, runs: int) -> None:
    engine = make_engine(url)
    creator = 42
    june, july = Period.parse(f"{YEAR}-06"), Period.parse(f"{YEAR}-07")
    with engine.connect() as conn:
        # (a) trial balance as of a date
        before = july.starts_at
        ours_t, tb = best(lambda: trial_balance(conn, before=before), runs)
        raw_t, raw = best(lambda: conn.execute(RAW_TRIAL, {"before": before}).all(), runs)
        ids = dict(conn.execute(text("SELECT code, id FROM ledger_account")).all())
        raw_by_id = {aid: int(total) for aid, total in raw}
        assert {r.code: r.amount for r in tb.rows if r.amount} == {
            code: raw_by_id[aid] for code, aid in ids.items() if raw_by_id.get(aid)
        }
        row(f"(a) trial balance as of {before:%Y-%m-%d}", ours_t, raw_t)
        ours_t, tb_now = best(lambda: trial_balance(conn), runs)
        raw_t, raw_now = best(lambda: conn.execute(RAW_TRIAL_NOW).all(), runs)
        assert sum(r.amount for r in tb_now.rows if r.amount > 0) == sum(int(t) for _, t in raw_now if t > 0)
        row("(a') trial balance now (balance rows vs SUM of postings)", ours_t, raw_t)

        # (b) one creator's month
        ours_t, statement = best(lambda: creator_period(conn, june, creator_id=creator), runs)
        params = {"start": june.starts_at, "end": june.ends_at, "pattern": f"creator:{creator}:%"}
        raw_t, raw = best(lambda: conn.execute(RAW_CREATOR, params).all(), runs)
        by_code = {code: values for code, *values in raw}
        payable = by_code[f"creator:{creator}:payable:USD"]
        (ours,) = statement
        assert (ours.opening, ours.earned, ours.reserve, ours.paid_out, ours.closing) == (
            -payable[0],
            -payable[1],
            -payable[2],
            payable[3],
            -payable[4],
        )
        assert ours.reserve_closing == -by_code[f"creator:{creator}:reserve:USD"][4]
        row(f"(b) creator {creator} period totals for {june.name}", ours_t, raw_t)
        full_t, full = best(lambda: creator_statement(conn, creator, "USD", june.starts_at, june.ends_at), runs)
        assert (full.opening.payable, full.closing.payable) == (-payable[0], -payable[4])
        row(f"(b') creator {creator} full statement for {june.name}", full_t, raw_t)

        # (c) payouts per transfer group, June and July (July holds June's reversals)
        for period in (june, july):
            ours_t, groups = best(lambda period=period: payout_groups(conn, period), runs)
            raw_t, raw = best(
                lambda period=period: conn.execute(
                    RAW_PAYOUTS, {"start": period.starts_at, "end": period.ends_at}
                ).all(),
                runs,
            )
            assert {(g.transfer_group, g.currency): g.amount for g in groups} == {
                (grp, cur): int(total) for grp, cur, total in raw
            }
            row(f"(c) payouts per transfer group in {period.name}", ours_t, raw_t)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--creators", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100,000 postings, 3 runs: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.postings, args.creators, args.runs = 100_000, 100, 3
    print(f"PostgreSQL, ~{args.postings:,} postings, {args.creators} creators, best of {args.runs} runs")
    with scratch_database("postgresql") as url:
        build(url, args.postings, args.creators)
        measure(url, args.runs)


if __name__ == "__main__":
    main()
