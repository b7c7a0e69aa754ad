"""A payment that lands in a closed month is never stuck (issue #14.1).

A brand pays on 30 October 2025 but the webhooks arrive only after October was closed
(on 2 November).  The sale is booked at the first open moment — 1 November 00:00 — with
its own date kept in the entry's metadata; the licence becomes active; the entry is a
prior-period adjustment on November's close report and on the co-owners' November
statements; October's figures never change; November reconciles and closes without an
override.  The same for a refund and a dispute dated in the closed month.

Ben and Chloe co-own demo licence 3's cameo (70/30); commission 20 %; Stripe's fee is
2.9 % + 0.30: a 200.00 USD licence fee pays Ben 112.00 and Chloe 48.00 and leaves
193.90 on the platform's Stripe balance.
"""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlmodel import select

from app.db import Database
from app.kit.registry import provided
from app.people.actors import actor_for
from app.people.models import User
from app.settlement.planning import Period
from app.statements import exports
from app.statements import service as statements
from ledger.canonical import iso_utc
from tests.settlement.conftest import world

from .books import at
from .test_close import close
from .test_reconciliation_every_kind import reconciled

OCTOBER, NOVEMBER = Period.parse("2025-10"), Period.parse("2025-11")
SETTLED = Period.parse("2026-10")  # the settlement world's month


def entry_rows(app, key: str) -> list[tuple]:
    with provided(Database, app).engine.connect() as conn:
        sql = "SELECT seq, effective_at, metadata FROM ledger_entry WHERE idempotency_key = :key"
        return [tuple(r) for r in conn.execute(text(sql), {"key": key})]


def statement(books, creator: str, period: str):
    with provided(Database, books.app).unit_of_work() as uow:
        fay = actor_for(uow, uow.session.exec(select(User).where(User.email == "fay@books.example")).one())
        return statements.creator_statement(uow, fay, books.now(), books.users[creator], period, "USD")


def meta_of(raw) -> dict:
    return raw if isinstance(raw, dict) else json.loads(raw)


def test_a_payment_delivered_after_its_month_closed_is_booked_in_the_next_one(books_any_db):
    books = books_any_db
    books.at(at(2025, 10, 30))
    licence_id = books.sale(20_000, deliver=False)  # paid on 30 October; the webhooks are held up
    books.at(at(2025, 11, 2))
    row = close(books, reason="the 30 October sale's webhook has not arrived")
    assert row.reconciliation["summary"]["sales"]["missing_in_ledger"] == 1

    report = books.world.deliver(duplicate=True)  # every event twice
    assert report.failed == []
    assert all(e.processed_at is not None for e in books.world.events().values())
    assert books.world.licence(licence_id).status == "active"
    [(seq, effective_at, raw)] = entry_rows(books.app, f"licence-sale:{licence_id}")  # exactly once
    meta = meta_of(raw)
    assert str(effective_at).startswith("2025-11-01 00:00:00")
    assert meta["original_effective_at"] == iso_utc(at(2025, 10, 30)) and meta["late_from"] == "2025-10"
    assert books.world.payment(licence_id).paid_at.isoformat().startswith("2025-10-30T12:00")

    october, november = statement(books, "ben", "2025-10"), statement(books, "ben", "2025-11")
    assert october.statement.lines == () and october.statement.closing.payable == 0  # October never changes
    [adjustment] = [r for r in exports.rows(november) if r.section == "adjustments"]
    assert adjustment.net == 11_200 and adjustment.gross == 20_000 and adjustment.commission == 4_000
    assert "dated 2025-10-30, in 2025-10 (closed): booked 2025-11-01" in adjustment.description
    assert adjustment.section_title == "Prior-period adjustments"
    assert november.statement.sales == ()  # not summed with November's own sales
    assert any("Prior-period adjustments" in note for note in exports.notes(november))
    chloe = [r for r in exports.rows(statement(books, "chloe", "2025-11")) if r.section == "adjustments"]
    assert [r.net for r in chloe] == [4_800]

    books.at(at(2025, 12, 2))
    result = reconciled(books.world, NOVEMBER)
    assert result.unmatched_count == 0, result.uniform(unmatched_only=True).to_dict("records")
    assert reconciled(books.world, OCTOBER).unmatched_count == 0  # the late sale's cash is October's
    closed = close(books, period="2025-11")  # no override needed
    assert closed.override_reason is None and closed.unmatched_count == 0
    [listed] = closed.trial_balance["prior_period_adjustments"]
    assert (listed["seq"], listed["kind"], listed["late_from"]) == (seq, "licence.sale", "2025-10")
    assert listed["original_effective_at"] == iso_utc(at(2025, 10, 30))
    assert listed["booked_at"] == iso_utc(NOVEMBER.starts_at)
    assert (listed["cash"], listed["currency"]) == (19_390, "USD")


def test_a_refund_and_a_dispute_dated_in_a_closed_month_are_booked_in_the_next_one(books):
    books.at(at(2025, 10, 15))
    refunded = books.sale(20_000)
    disputed = books.sale(10_000)
    books.at(at(2025, 10, 31, 12))
    books.world.gateway.refund(books.world.payment(refunded).payment_intent_id, idempotency_key="r1", amount=5_000)
    books.world.emulator.open_dispute(books.world.payment(disputed).payment_intent_id)
    books.at(at(2025, 11, 2))
    close(books, reason="a refund and a dispute of 31 October are not booked yet")

    books.world.deliver()
    books.world.retry_events()  # charge.refunded came before refund.created: it waited for it
    assert all(e.processed_at is not None for e in books.world.events().values())
    for kind in ("licence.refund", "licence.dispute"):
        [(_seq, effective_at, raw)] = books.rows(
            "SELECT seq, effective_at, metadata FROM ledger_entry WHERE kind = :kind", kind=kind
        )
        meta = meta_of(raw)
        assert str(effective_at).startswith("2025-11-01 00:00:00"), kind
        assert meta["late_from"] == "2025-10" and meta["original_effective_at"].startswith("2025-10-31T12:00"), kind
    november = statement(books, "ben", "2025-11")
    late = [line for line in november.statement.lines if line.late_from]
    assert sorted(line.kind for line in late) == ["licence.dispute", "licence.refund"]
    assert sum(line.net for line in late) == -(2_800 + 5_600)  # 70 % of 80 % of 50.00 and of 100.00
    books.at(at(2025, 12, 2))
    assert reconciled(books.world, NOVEMBER).unmatched_count == 0


def test_a_transfer_reversal_dated_in_a_closed_month_is_booked_in_the_next_one(world):
    """Stripe reverses a payout on 30 November; the webhook arrives after November closed."""
    w = world
    w.pay.forward()
    w.fund()
    ava = w.creator("ava")
    w.earn(ava, 80_00, at=at(2026, 10, 2), licence_id=w.licence(holdback_days=0))
    w.settle(SETTLED, now=at(2026, 11, 1, 6))
    [item] = w.items(SETTLED).values()
    w.at(at(2026, 11, 30, 12))
    w.pay.gateway.reverse_transfer(item.transfer_id, idempotency_key="reversal-1")
    w.at(at(2026, 12, 2))
    closed = w.app.test_cli_runner().invoke(
        args=["close-period", "--period", "2026-11", "--by", "fay@books.example", "--override-reason", "late reversal"]
    )
    assert closed.exit_code == 0, closed.output
    assert w.pay.deliver().failed == []
    assert all(e.processed_at is not None for e in w.pay.events().values())
    [(_seq, effective_at, raw)] = entry_rows(w.app, f"payout:item:{item.id}:reversed")
    meta = meta_of(raw)
    assert str(effective_at).startswith("2026-12-01 00:00:00")
    assert meta["late_from"] == "2026-11" and meta["original_effective_at"] == iso_utc(at(2026, 11, 30, 12))
    assert w.payable(ava) == 80_00 and w.items(SETTLED)[(ava, "USD")].status == "reversed"
