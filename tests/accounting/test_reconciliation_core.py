"""The pure matching core: frames in, frames out, Int64 money, one category per row."""

from __future__ import annotations

import pandas as pd

from app.accounting.periods import (
    month_of,
    parse_period,
    previous_month,
)
from app.accounting.reconciliation import (
    BALANCE_SIDE,
    TRANSFER_LEDGER,
    TRANSFER_STRIPE,
    Reconciliation,
    balance_frame,
    records,
    side_frame,
    transfers_frame,
)
from app.settlement.planning import transfer_group
from tests.accounting.books import at


def ledger(key, currency, amount, reversed_=0, seq=1):
    return dict(
        match_key=key, seq=seq, key=key, currency=currency, amount=amount, reversed=reversed_, net=amount - reversed_
    )


def stripe(key, tid, currency, amount, reversed_=0):
    return dict(match_key=key, id=tid, currency=currency, amount=amount, reversed=reversed_, net=amount - reversed_)


def categories(frame):
    return dict(zip(frame["match_key"], frame["category"], strict=True))


def test_every_category_and_the_zero_net_rule():
    left = side_frame(
        [
            ledger("a", "USD", 100),
            ledger("b", "USD", 50, seq=2),
            ledger("c", "USD", 70, seq=3),
            ledger("d", "USD", 30, seq=4),
            ledger("e", "USD", 10, 10, seq=5),
            ledger("f", "USD", 20, 20, seq=6),
        ],
        TRANSFER_LEDGER,
    )
    right = side_frame(
        [
            stripe("a", "tr_a", "USD", 100),
            stripe("c", "tr_c", "USD", 75),
            stripe("d", "tr_d", "EUR", 30),
            stripe("e", "tr_e", "USD", 10, 10),
            stripe("stripe:tr_x", "tr_x", "USD", 25),
            stripe("stripe:tr_y", "tr_y", "USD", 5, 5),
        ],
        TRANSFER_STRIPE,
    )
    out = transfers_frame(left, right)
    assert categories(out) == {
        "a": "matched",
        "b": "missing_in_stripe",
        "c": "amount_mismatch",
        "d": "currency_mismatch",
        "e": "matched",
        "f": "matched",
        "stripe:tr_x": "missing_in_ledger",
        "stripe:tr_y": "matched",
    }
    notes = dict(zip(out["match_key"], out["note"], strict=True))
    assert notes["f"] == "ledger only, nets to zero" and notes["stripe:tr_y"] == "Stripe only, nets to zero"
    by_key = out.set_index("match_key")
    assert by_key.loc["c", "difference"] == 5 and by_key.loc["b", "difference"] == -50
    for column in ("ledger_net", "stripe_net", "difference", "ledger_seq"):
        assert str(out[column].dtype) == "Int64", column
    assert not any(str(dtype).startswith("float") for dtype in out.dtypes)


def test_empty_sides_give_an_empty_frame_with_the_columns():
    out = transfers_frame(side_frame([], TRANSFER_LEDGER), side_frame([], TRANSFER_STRIPE))
    assert out.empty and {"category", "ledger_net", "stripe_net", "difference"} <= set(out.columns)


def test_balance_totals_per_type_and_currency():
    ledger_moves = side_frame(
        [
            dict(type="charge", currency="USD", net=9_680),
            dict(type="charge", currency="USD", net=320),
            dict(type="transfer", currency="USD", net=-500),
        ],
        ("type", "currency", "net"),
    )
    stripe_moves = side_frame(
        [
            dict(type="charge", currency="USD", net=10_000),
            dict(type="transfer", currency="USD", net=-400),
            dict(type="payout", currency="USD", net=-1),
        ],
        ("type", "currency", "net"),
    )
    out = balance_frame(ledger_moves, stripe_moves).set_index("match_key")
    assert out["category"].to_dict() == {
        "charge:USD": "matched",
        "payout:USD": "missing_in_ledger",
        "transfer:USD": "amount_mismatch",
    }
    assert out.loc["charge:USD", "ledger_count"] == 2 and out.loc["transfer:USD", "difference"] == 100
    assert set(side_frame([], BALANCE_SIDE).columns) == set(BALANCE_SIDE)


def test_records_are_plain_python():
    frame = pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "t": [pd.Timestamp("2025-10-01", tz="UTC"), None]})
    assert records(frame) == [{"a": 1, "t": "2025-10-01T00:00:00+00:00"}, {"a": None, "t": None}]
    assert type(records(frame)[0]["a"]) is int


def test_summary_counts_every_category():
    period = parse_period("2025-10")
    empty = transfers_frame(side_frame([], TRANSFER_LEDGER), side_frame([], TRANSFER_STRIPE))
    result = Reconciliation(period, {"transfers": empty, "sales": empty, "balance": empty})
    assert result.reconciled and result.totals()["matched"] == 0 and result.uniform().empty


def test_periods():
    october = parse_period(" 2025-10 ")
    assert (october.starts_at, october.ends_at) == (at(2025, 10, 1, 0), at(2025, 11, 1, 0))
    assert parse_period("2025-12").ends_at == at(2026, 1, 1, 0)
    assert october.contains(at(2025, 10, 31, 23, 59)) and not october.contains(at(2025, 11, 1, 0))
    assert month_of(at(2025, 11, 1, 0)).name == "2025-11" and previous_month(at(2026, 1, 5)).name == "2025-12"
    assert transfer_group(october) == "settlement-2025-10" and october.next().name == "2025-11"
