"""Enqueue in the caller's transaction, send after commit, exactly once — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.mail.models import OutboxMessage
from app.mail.outbox import InvalidMail, OutboxConflict, enqueue
from app.mail.sending import send_pending

from .support import IDENTITY, queue, row, rows


def test_a_committed_message_is_sent_exactly_once_and_caught(db, sink, mailer, clock):
    queued = queue(
        db, "welcome:user:1", clock.now, subject="Welcome, Ada", text="Hello Ada.\n", html="<p>Hello <b>Ada</b>.</p>"
    )

    report = send_pending(db, mailer, now=clock.advance(seconds=2))

    assert report.sent == (queued.id,) and report.all_sent and report.waiting == 0
    sent = row(db, queued.id)
    assert (sent.status, sent.attempts, sent.sent_at, sent.last_error) == ("sent", 1, clock.now, None)
    assert sent.message_id == IDENTITY.message_id(queued.id) == f"<mail-{queued.id}.{IDENTITY.instance}@cameo.test>"
    [caught] = sink.messages()
    assert caught["Message-ID"] == sent.message_id
    assert caught["From"] == "Cameo Exchange <no-reply@cameo.test>"
    assert caught["To"] == "Ada <ada@example.com>" and caught["X-RcptTo"] == "ada@example.com"
    assert caught["Subject"] == "Welcome, Ada"
    assert caught["Auto-Submitted"] == "auto-generated"
    assert caught.get_body(("plain",)).get_content() == "Hello Ada.\n"
    assert caught.get_body(("html",)).get_content().strip() == "<p>Hello <b>Ada</b>.</p>"

    again = send_pending(db, mailer, now=clock.advance(hours=2))
    assert again.sent == () and len(sink.messages()) == 1


def test_a_rolled_back_business_change_sends_nothing(db, sink, mailer, clock):
    with db.unit_of_work() as uow:
        enqueue(
            uow,
            to="ada@example.com",
            subject="Your licence",
            text="It is signed.",
            key="licence:7:signed",
            now=clock.now,
        )
        # the business change fails: the unit of work ends without a commit

    assert rows(db) == []
    assert send_pending(db, mailer, now=clock.advance(minutes=1)).sent == ()
    assert sink.messages() == []


def test_the_same_key_twice_is_one_message(db, sink, mailer, clock):
    first = queue(db, "reset:user:5:1", clock.now, subject="Reset your password")
    second = queue(db, "reset:user:5:1", clock.advance(seconds=5), subject="Reset your password")
    with db.unit_of_work() as uow:  # and twice in one transaction
        third = enqueue(
            uow,
            to="Ada <ada@example.com>",
            subject="Reset your password",
            text="Hello Ada.",
            key="reset:user:5:1",
            now=clock.now,
        )
        uow.commit()

    assert first.created and not second.created and not third.created
    assert first.id == second.id == third.id
    assert len(rows(db)) == 1
    send_pending(db, mailer, now=clock.advance(seconds=1))
    assert len(sink.messages()) == 1


def test_the_same_key_with_different_content_is_a_conflict_that_changes_nothing(db, clock):
    original = queue(db, "invite:org:3:ada", clock.now, subject="You are invited")

    with db.unit_of_work() as uow:
        with pytest.raises(OutboxConflict) as refused:
            enqueue(
                uow,
                to="Ada <ada@example.com>",
                subject="You are invited!",
                text="Hello Ada.",
                key="invite:org:3:ada",
                now=clock.now,
            )
        # the caller's transaction is still usable after the refusal
        assert uow.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 1

    assert refused.value.status == 409 and "subject" in refused.value.detail
    kept = row(db, original.id)
    assert kept.subject == "You are invited" and len(rows(db)) == 1


@pytest.mark.parametrize(
    "field, bad",
    [
        ("to", "ada@example.com, bob@example.com"),
        ("to", "not an address"),
        ("to", "ada@example.com\r\nBcc: everyone@example.com"),
        ("subject", "Hello\r\nBcc: everyone@example.com"),
        ("subject", "  "),
        ("text", ""),
        ("html", ""),
        ("key", ""),
        ("key", "k" * 201),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(db, clock, field, bad):
    message = {"to": "ada@example.com", "subject": "Hello", "text": "Hello.", "html": None, "key": "k:1"}
    message[field] = bad
    with db.unit_of_work() as uow:
        with pytest.raises(InvalidMail) as refused:
            enqueue(uow, now=clock.now, **message)
        uow.commit()
    assert refused.value.status == 422 and field in refused.value.errors
    assert rows(db) == []


def test_messages_go_out_oldest_first(db, sink, mailer, clock):
    ids = [queue(db, f"notice:{n}", clock.advance(seconds=1), subject=f"Notice {n}").id for n in range(3)]

    assert send_pending(db, mailer, now=clock.advance(seconds=1), limit=1).sent == (ids[0],)
    assert send_pending(db, mailer, now=clock.now, limit=5).sent == (ids[1], ids[2])
    assert [m["Subject"] for m in sink.messages()] == ["Notice 0", "Notice 1", "Notice 2"]


def test_a_message_is_not_sent_before_it_is_due(db, sink, mailer, clock):
    queue(db, "later:1", clock.now + timedelta(minutes=5))  # enqueued "in the future" of this sender's clock
    assert send_pending(db, mailer, now=clock.now).sent == ()
    assert sink.messages() == []
