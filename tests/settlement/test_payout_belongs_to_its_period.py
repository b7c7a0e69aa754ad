"""Statements that never contradict themselves (issue #14.4): a payout belongs to the
period it settles, across two consecutive months.

  Oct 10  Ava earns 700.56 USD          Nov  1  the 2026-10 run pays her 700.56
  Nov 12  Ava earns 300.00 USD          Dec  1  the 2026-11 run pays her 300.00

October's statement shows October's earnings and the payout made on 1 November for
them, and closes at zero — it never says both "the run paid 700.56" and "700.56 is
carried forward".  November's opens at zero, shows its own payout (made 1 December)
and not October's.  The creators report, the payouts export, the dashboard, the close
reports and the settlement pages say the same.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import select

from app.books import reports
from app.db import Database
from app.kit.registry import provided
from app.people.actors import actor_for
from app.people.models import User
from app.statements import exports
from app.statements import service as statements

from .test_cli_pages_and_schedule import login
from .world import AFTER_NOV, AFTER_OCT, NOV, OCT

FAY = "fay@books.example"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def statement_of(w, creator_id: int, period: str):
    with provided(Database, w.app).unit_of_work() as uow:
        fay = actor_for(uow, uow.session.exec(select(User).where(User.email == FAY)).one())
        return statements.creator_statement(uow, fay, w.now, creator_id, period, "USD")


def two_months(w) -> int:
    w.fund()
    ava = w.creator("ava")
    licence = w.licence(holdback_days=0)
    w.earn(ava, 700_56, at=utc(2026, 10, 10), licence_id=licence)
    w.settle(OCT, now=AFTER_OCT)
    w.earn(ava, 300_00, at=utc(2026, 11, 12), licence_id=licence)
    w.settle(NOV, now=AFTER_NOV)
    return ava


def test_each_months_statement_shows_its_own_payout_and_closes_at_zero(world):
    w = world
    ava = two_months(w)
    october, november = statement_of(w, ava, "2026-10"), statement_of(w, ava, "2026-11")

    rows = exports.rows(october)
    assert [(r.section, r.date, r.net) for r in rows] == [
        ("opening", "2026-10-01", 0),
        ("uses", "", 700_56),
        ("payouts", "2026-11-01", -700_56),  # made on 1 November, for October
        ("closing", "2026-10-31", 0),
    ]
    assert rows[2].description.startswith("Payout to your Stripe account for 2026-10, made 2026-11-01")
    said = exports.notes(october)
    assert any(note.startswith("The 2026-10 settlement run paid 700.56 USD") for note in said)
    assert not any("carried forward" in note for note in said), said

    rows = exports.rows(november)
    assert [(r.section, r.date, r.net) for r in rows] == [
        ("opening", "2026-11-01", 0),  # not 700.56: October's payout is October's
        ("uses", "", 300_00),
        ("payouts", "2026-12-01", -300_00),
        ("closing", "2026-11-30", 0),
    ]
    assert not any("carried forward" in note for note in exports.notes(november))
    assert "Payout to your Stripe account for 2026-11, made 2026-12-01" in exports.as_csv(november)


def test_reports_exports_close_reports_and_pages_say_the_same(world):
    w = world
    ava = two_months(w)
    with provided(Database, w.app).engine.connect() as conn:
        by_month = {p.name: reports.creator_period(conn, p, ava) for p in (OCT, NOV)}
        groups = {p.name: reports.payout_groups(conn, p) for p in (OCT, NOV)}
        activity = {(m.month, m.currency): m for m in reports.monthly_activity(conn, before=utc(2027, 1, 1))}
    for name, earned in (("2026-10", 700_56), ("2026-11", 300_00)):
        [line] = by_month[name]
        assert (line.opening, line.earned, line.paid_out, line.closing) == (0, earned, earned, 0), name
        [group] = groups[name]
        assert (group.transfer_group, group.amount, group.transfers) == (f"settlement-{name}", earned, 1)
        assert (activity[(name, "USD")].payouts, activity[(name, "USD")].outstanding_payables) == (earned, 0)

    for period, when in (("2026-10", utc(2026, 11, 2, 9)), ("2026-11", utc(2026, 12, 2, 9))):
        w.at(when)
        closed = w.app.test_cli_runner().invoke(args=["close-period", "--period", period, "--by", FAY])
        assert closed.exit_code == 0, closed.output
    with provided(Database, w.app).engine.connect() as conn:
        stored = dict(conn.exec_driver_sql("SELECT period, trial_balance FROM accounting_period_close").all())
    november = stored["2026-11"] if isinstance(stored["2026-11"], dict) else json.loads(stored["2026-11"])
    assert november["creators"]["USD"] == {
        "payable_at_end": 300_00,  # the trial balance at 30 November: the run had not paid yet
        "paid_by_run": 300_00,
        "other_run_moves": 0,
        "carried_forward": 0,  # = the statement's closing
    }

    client = w.app.test_client()
    login(client, FAY)
    report = client.get("/accounting/periods/2026-11").get_data(as_text=True)
    assert "Paid by the 2026-11 run" in report and "300.00" in report
    page = client.get("/staff/settlements/2026-11").get_data(as_text=True)
    assert "they belong to 2026-11" in page
