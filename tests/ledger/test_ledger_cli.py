"""`cameo ledger …` commands through Flask's CLI runner."""

from __future__ import annotations

from datetime import UTC, datetime, timezone

import pytest
from sqlalchemy import text

from app.books import chart, recipes
from app.books.recipes import Owner
from app.db import Database
from app.kit.registry import provided
from ledger import Ledger

T = datetime(2026, 10, 5, tzinfo=UTC)


@pytest.fixture
def booked(app_any_db):
    ledger = provided(Ledger, app_any_db)
    drafts = [
        recipes.licence_sale(
            key="sale:1",
            effective_at=T,
            currency="USD",
            gross=10_000,
            stripe_fee=320,
            commission_bps=2000,
            owners=[Owner(42, 1)],
        ),
        recipes.licence_sale(
            key="sale:2",
            effective_at=datetime(2026, 11, 2, tzinfo=UTC),
            currency="USD",
            gross=5_000,
            stripe_fee=175,
            commission_bps=2000,
            owners=[Owner(42, 1)],
        ),
    ]
    with provided(Database, app_any_db).unit_of_work() as uow:
        chart.open_accounts_for(ledger, uow.session, drafts)
        ledger.post_batch(uow.session, drafts, now=T)
        uow.commit()
    return app_any_db


def test_balance_now_and_as_of(booked):
    runner = booked.test_cli_runner()
    now = runner.invoke(args=["ledger", "balance", "creator:42:payable:USD"])
    assert now.exit_code == 0, now.output
    assert now.output.strip() == "creator:42:payable:USD  liability  120.00 USD credit"
    october = runner.invoke(args=["ledger", "balance", "creator:42:payable:USD", "--as-of", "2026-10-31"])
    assert october.output.strip() == "creator:42:payable:USD  liability  80.00 USD credit"
    before = runner.invoke(args=["ledger", "balance", "creator:42:payable:USD", "--as-of", "2026-10-05T00:00:00Z"])
    assert before.output.strip() == "creator:42:payable:USD  liability  80.00 USD credit"
    earlier = runner.invoke(args=["ledger", "balance", "creator:42:payable:USD", "--as-of", "2026-10-04T23:59:59Z"])
    assert earlier.output.strip() == "creator:42:payable:USD  liability  0.00 USD"


def test_trial_balance_prints_every_account_and_balanced_totals(booked):
    result = booked.test_cli_runner().invoke(args=["ledger", "trial-balance", "--as-of", "2026-10-31"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    rows = {l.split()[0]: l.split()[1:] for l in lines[1:]}
    assert rows["platform:stripe:USD"] == ["asset", "USD", "96.80"]
    assert rows["creator:42:payable:USD"] == ["liability", "USD", "80.00"]
    assert "total" in rows and ["USD", "100.00", "100.00"] in [v for k, v in rows.items() if k == "total"]


def test_verify_passes_then_names_the_tampered_entry(booked):
    runner = booked.test_cli_runner()
    ok = runner.invoke(args=["ledger", "verify", "--seal"])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.output
    engine = provided(Database, booked).engine
    seq = 2
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER ledger_posting_no_update"))
        conn.execute(
            text(
                "UPDATE ledger_posting SET amount = amount - 1 WHERE entry_seq = :s AND amount < 0 "
                "AND id = (SELECT max(id) FROM ledger_posting WHERE entry_seq = :s)"
            ),
            {"s": seq},
        )
    bad = runner.invoke(args=["ledger", "verify"])
    assert bad.exit_code != 0
    assert f"first bad entry: {seq}" in bad.output


@pytest.mark.parametrize(
    "args,message",
    [
        (["ledger", "balance", "creator:42:payable:USD", "--as-of", "yesterday"], "is not an ISO date"),
        (["ledger", "balance", "nobody:1:payable:USD"], "no account nobody:1:payable:USD"),
        (["ledger", "trial-balance", "--as-of", "2026-13-01"], "is not an ISO date"),
    ],
)
def test_bad_input_is_a_clear_message_and_non_zero_exit(booked, args, message):
    result = booked.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
