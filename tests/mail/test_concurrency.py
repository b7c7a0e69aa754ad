"""Several senders at once never send one message twice (SQLite, and PostgreSQL's SKIP LOCKED)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from app.db import Database
from app.mail.mailer import Mailer
from app.mail.models import OutboxMessage
from app.mail.outbox import enqueue
from app.mail.sending import claim_next, send_pending

from .support import IDENTITY, queue, rows

SENDERS = 3
MESSAGES = 30


class OverlappingMailer(Mailer):
    """Holds each sender's first message until every sender has claimed one, so the claims overlap."""

    def __init__(self, inner: Mailer, senders: int):
        super().__init__(inner.identity)
        self.inner = inner
        self.barrier = threading.Barrier(senders, timeout=30)
        self.waited: set[int] = set()

    def send(self, message):
        if threading.get_ident() not in self.waited:
            self.waited.add(threading.get_ident())
            self.barrier.wait()
        self.inner.send(message)


def test_concurrent_senders_never_send_one_message_twice(db, sink, mailer, clock):
    ids = [queue(db, f"bulk:{n}", clock.now, subject=f"Bulk {n}").id for n in range(MESSAGES)]
    overlapping = OverlappingMailer(mailer, SENDERS)
    reports: list = [None] * SENDERS

    def sender(n: int) -> None:
        reports[n] = send_pending(db, overlapping, now=clock.now, limit=MESSAGES)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    sent = sorted(i for report in reports for i in report.sent)
    assert sent == ids  # every message by exactly one sender
    assert all(report.sent for report in reports)  # and every sender took part
    caught = sink.message_ids()
    assert len(caught) == MESSAGES and len(set(caught)) == MESSAGES
    assert {(r.status, r.attempts) for r in rows(db)} == {("sent", 1)}


@pytest.mark.postgres
def test_a_claim_skips_a_message_another_sender_has_locked(pg_url, clock):
    # Without SKIP LOCKED the claim would wait for the lock: lock_timeout turns that into a failure.
    db = Database(pg_url, connect_args={"options": "-c lock_timeout=2000"})
    try:
        first = queue(db, "first", clock.now)
        second = queue(db, "second", clock.advance(seconds=1))
        with db.engine.connect() as other_sender:
            other_sender.execute(select(OutboxMessage.id).where(OutboxMessage.id == first.id).with_for_update())
            claimed = claim_next(db, now=clock.now, identity=IDENTITY)
            assert claimed is not None and claimed.id == second.id
            other_sender.rollback()
        assert claim_next(db, now=clock.now, identity=IDENTITY).id == first.id
    finally:
        db.dispose()


def _wait_for_a_lock_wait(db: Database, deadline_seconds: float = 30.0) -> None:
    """Until another backend of this database waits on a lock (polling pg_stat_activity: a real condition)."""
    started = time.monotonic()
    with db.engine.connect() as watcher:
        while time.monotonic() - started < deadline_seconds:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            watcher.rollback()
            if waiting:
                return
    raise AssertionError("the second transaction never waited for the first")


@pytest.mark.postgres
def test_two_transactions_racing_with_one_key_make_one_message(pg_url, clock):
    db = Database(pg_url)
    message = {"to": "ada@example.com", "subject": "Verify your address", "text": "Click.", "key": "verify:1:1"}
    outcome: dict = {}

    def second_request() -> None:
        with db.unit_of_work() as uow:
            outcome["second"] = enqueue(uow, now=clock.now, **message)
            uow.commit()

    try:
        with db.unit_of_work() as first:
            outcome["first"] = enqueue(first, now=clock.now, **message)
            racer = threading.Thread(target=second_request)
            racer.start()
            _wait_for_a_lock_wait(db)  # the second INSERT waits for the first transaction's key
            first.commit()
        racer.join(timeout=30)
        assert outcome["first"].created and not outcome["second"].created
        assert outcome["first"].id == outcome["second"].id and len(rows(db)) == 1
    finally:
        db.dispose()
