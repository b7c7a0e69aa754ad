"""Stripe faults during a run (500, 429, timeouts, lost responses) and two runs started at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timezone

import pytest

from app.kit.registry import registry_of
from app.settlement.locks import SettlementLocked
from app.settlement.service import Settler
from tests.payments.support import gateway_for

from .world import AFTER_OCT, OCT


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def three_creators(w) -> list[int]:
    w.fund()
    licence = w.licence(holdback_days=0)
    people = [w.creator(name) for name in ("ava", "ben", "chloe")]
    for n, creator in enumerate(people):
        w.earn(creator, (n + 1) * 25_00 + 1, at=utc(2026, 10, 3 + n), licence_id=licence)
    return people


def impatient_settler(w, **gateway_options):
    """A settler whose SDK retries once and gives up on a response after 0.5 s."""
    gateway = gateway_for(w.pay.running.url, timeout=0.5, max_network_retries=1, **gateway_options)
    return w.settler(), gateway


@pytest.mark.parametrize("kind", ["error_500", "rate_limit", "timeout", "lost_response"])
def test_faults_during_a_run_converge_to_one_transfer_per_item(world_any_db, kind):
    w = world_any_db
    people = three_creators(w)
    settler, gateway = impatient_settler(w)
    # three in a row: more than the SDK's own retry, so the service's retries are needed too
    w.emulator.inject_fault(kind, method="POST", path_prefix="/v1/transfers", count=3, seconds=2)
    try:
        report = settler.settle(OCT, now=w.at(AFTER_OCT), actor="test", gateway=gateway)
    finally:
        gateway.close()
    assert report.run.status == "completed", report.items
    assert [w.payable(c) for c in people] == [0, 0, 0]
    assert len(w.transfers()) == 3
    w.assert_one_transfer_per_paid_item(OCT)
    assert sum(r["fault"] == kind for r in w.transfer_writes()) == 3
    assert w.balance("platform:stripe:USD") == -(25_01 + 50_01 + 75_01)
    w.assert_books_verify()


def test_stripe_down_for_the_whole_run_leaves_items_to_resume(world_any_db):
    w = world_any_db
    people = three_creators(w)
    w.emulator.inject_fault("error_500", method="POST", path_prefix="/v1/transfers", count=1000)
    result = w.cli("--period", OCT.name)
    assert result.exit_code == 1 and "could not be paid yet" in result.output, result.output
    assert w.run_row(OCT).status == "incomplete"
    assert {i.status for i in w.items(OCT).values()} == {"posted"}
    assert all("GatewayUnavailable" in i.last_error for i in w.items(OCT).values())
    assert [w.payable(c) for c in people] == [0, 0, 0]  # the payout entries stand; nobody paid yet
    assert w.transfers() == []
    w.emulator.clear_faults()
    result = w.cli("--period", OCT.name)
    assert result.exit_code == 0, result.output
    assert w.run_row(OCT).status == "completed"
    w.assert_one_transfer_per_paid_item(OCT)
    w.assert_books_verify()


def test_answers_lost_for_the_whole_run_are_found_by_the_next_start(world):
    """Stripe made every transfer but no answer came back; the next start finds them by
    the run's transfer group and ``ledger_key`` metadata without writing again."""
    w = world
    three_creators(w)
    settler, gateway = impatient_settler(w)
    w.emulator.inject_fault("lost_response", method="POST", path_prefix="/v1/transfers", count=1000)
    try:
        report = settler.settle(OCT, now=w.at(AFTER_OCT), actor="test", gateway=gateway)
    finally:
        gateway.close()
    assert report.run.status == "incomplete" and len(report.unfinished) == 3
    assert len(w.transfers()) == 3  # made, once each, despite the retries
    writes = len(w.transfer_writes())
    w.emulator.clear_faults()
    assert w.settle(OCT).run.status == "completed"
    assert len(w.transfer_writes()) == writes  # recovered by listing, not by writing
    w.assert_one_transfer_per_paid_item(OCT)
    w.assert_books_verify()


def test_two_runs_started_at_once_one_runs_the_other_is_refused(world_any_db):
    w = world_any_db
    three_creators(w)
    registry_of(w.app).provide(Settler, w.settler(lock_wait_seconds=0.2))
    planned, go_on = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def pause_after_planning(step, _subject):
        if step == "run.planned":
            planned.set()
            assert go_on.wait(30)

    def first():
        try:
            outcome["report"] = w.settler().settle(
                OCT, now=AFTER_OCT, actor="first", gateway=w.gateway(), on_step=pause_after_planning
            )
        except BaseException as exc:
            outcome["error"] = exc
            planned.set()

    w.at(AFTER_OCT)
    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert planned.wait(30) and "error" not in outcome, outcome
        with pytest.raises(SettlementLocked, match="another settlement run is in progress"):
            w.settler().settle(OCT, now=AFTER_OCT, actor="second", gateway=w.gateway())
        result = w.cli("--period", OCT.name)
        assert result.exit_code == 1 and "another settlement run is in progress" in result.output
    finally:
        go_on.set()
        thread.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].run.status == "completed" and outcome["report"].run.created_by == "first"
    w.assert_one_transfer_per_paid_item(OCT)
    w.assert_books_verify()
