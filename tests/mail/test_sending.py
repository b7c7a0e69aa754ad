"""Failures on the way out: retried when the message certainly did not go, never resent when it may have.

Every test talks SMTP to a real (in-process) server; a misbehaving server is an
aiosmtpd handler that refuses, or never answers the message body.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from aiosmtpd.handlers import Mailbox

from app.mail.mailer import make_mailer
from app.mail.outbox import RetryRefused, list_messages, requeue
from app.mail.sending import STALE_SENDING_AFTER, RetryPolicy, claim_next, send_pending

from .support import IDENTITY, SECRET_KEY, queue, row, smtp_mailer


class RefusingMailbox(Mailbox):
    """Refuses some recipients with a given SMTP reply; catches the rest."""

    def __init__(self, directory, refusals: dict[str, str]):
        super().__init__(directory)
        self.refusals = refusals

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


class SilentAfterDataMailbox(Mailbox):
    """Keeps the message, then never answers the end of DATA: the client cannot know it was taken."""

    async def handle_DATA(self, server, session, envelope):
        self.handle_message(self.prepare_message(session, envelope))
        await asyncio.Event().wait()  # cancelled when the sink stops
        return "250 OK"


def test_server_down_keeps_the_message_queued_and_it_goes_out_when_the_server_is_back(db, sink, clock):
    mailer = smtp_mailer(sink.url)
    sink.stop()  # the port is known and nothing listens on it
    queued = queue(db, "verify:user:1", clock.now)

    report = send_pending(db, mailer, now=clock.now)

    assert report.retrying == (queued.id,) and report.sent == () and not report.all_sent
    waiting = row(db, queued.id)
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert "ConnectionRefusedError" in waiting.last_error
    assert waiting.next_attempt_at == clock.now + timedelta(seconds=30)
    assert waiting.message_id is not None  # fixed at the first claim

    assert send_pending(db, mailer, now=clock.advance(seconds=29)).retrying == ()  # backing off
    assert row(db, queued.id).attempts == 1

    sink.start()
    report = send_pending(db, mailer, now=clock.advance(seconds=1))
    assert report.sent == (queued.id,)
    sent = row(db, queued.id)
    assert (sent.status, sent.attempts, sent.message_id) == ("sent", 2, waiting.message_id)
    assert sink.message_ids() == [waiting.message_id]


def test_back_off_doubles_and_a_message_fails_when_the_attempts_are_used_up(db, sink, clock):
    mailer = smtp_mailer(sink.url)
    sink.stop()
    queued = queue(db, "notice:1", clock.now)
    policy = RetryPolicy(max_attempts=3)

    send_pending(db, mailer, now=clock.now, retry=policy)
    assert row(db, queued.id).next_attempt_at == clock.now + timedelta(seconds=30)
    send_pending(db, mailer, now=clock.advance(seconds=30), retry=policy)
    assert row(db, queued.id).next_attempt_at == clock.now + timedelta(seconds=60)
    report = send_pending(db, mailer, now=clock.advance(seconds=60), retry=policy)

    assert report.failed == (queued.id,)
    assert (row(db, queued.id).status, row(db, queued.id).attempts) == ("failed", 3)
    assert send_pending(db, mailer, now=clock.advance(days=1), retry=policy).failed == ()  # left alone

    sink.start()
    requeue(db, [queued.id], now=clock.now)  # a person's "try again"
    assert send_pending(db, mailer, now=clock.now, retry=policy).sent == (queued.id,)
    assert len(sink.messages()) == 1


def test_a_permanently_refused_recipient_fails_at_once_and_does_not_hold_up_the_rest(db, make_sink, clock):
    sink = make_sink(handler=lambda d: RefusingMailbox(d, {"nobody@example.com": "550 5.1.1 no such user"}))
    mailer = smtp_mailer(sink.url)
    bad = queue(db, "notice:bad", clock.now, to="nobody@example.com")
    good = queue(db, "notice:good", clock.advance(seconds=1), to="ada@example.com")

    report = send_pending(db, mailer, now=clock.now)

    assert report.failed == (bad.id,) and report.sent == (good.id,)
    failed = row(db, bad.id)
    assert (failed.status, failed.attempts) == ("failed", 1) and "550 5.1.1 no such user" in failed.last_error
    assert [m["To"] for m in sink.messages()] == ["ada@example.com"]


def test_a_temporarily_refused_recipient_is_retried(db, make_sink, clock):
    sink = make_sink(handler=lambda d: RefusingMailbox(d, {"busy@example.com": "450 4.2.1 try later"}))
    queued = queue(db, "notice:busy", clock.now, to="busy@example.com")

    report = send_pending(db, smtp_mailer(sink.url), now=clock.now)

    assert report.retrying == (queued.id,)
    assert row(db, queued.id).status == "queued" and "450 4.2.1" in row(db, queued.id).last_error


def test_a_crash_between_claim_and_record_is_not_resent_but_listed_uncertain(db, sink, mailer, clock):
    queued = queue(db, "reset:user:9:1", clock.now)
    claimed = claim_next(db, now=clock.now, identity=IDENTITY)  # a sender claims it … and dies
    assert claimed is not None and claimed.id == queued.id

    assert send_pending(db, mailer, now=clock.advance(minutes=1)).sent == ()  # maybe still talking SMTP
    assert row(db, queued.id).status == "sending"

    report = send_pending(db, mailer, now=clock.advance(seconds=STALE_SENDING_AFTER.total_seconds()))
    assert report.abandoned == (queued.id,) and report.sent == ()
    assert [m.id for m in list_messages(db, statuses=["uncertain"])] == [queued.id]
    assert sink.messages() == []
    assert send_pending(db, mailer, now=clock.advance(days=3)).sent == ()  # never automatically

    with pytest.raises(RetryRefused, match="uncertain"):
        requeue(db, [queued.id], now=clock.now)  # a plain retry is not enough
    requeue(db, [queued.id], now=clock.now, uncertain=True)  # a person decides
    assert send_pending(db, mailer, now=clock.now).sent == (queued.id,)
    assert sink.message_ids() == [claimed.message_id]  # the same Message-ID: receivers can de-duplicate


def test_a_reply_lost_after_the_body_went_out_is_uncertain_and_not_resent(db, make_sink, clock):
    sink = make_sink(handler=SilentAfterDataMailbox)
    mailer = smtp_mailer(sink.url + "?timeout=0.5")
    queued = queue(db, "invoice:12", clock.now)

    report = send_pending(db, mailer, now=clock.now)

    assert report.uncertain == (queued.id,)
    lost = row(db, queued.id)
    assert lost.status == "uncertain" and "after the message went out" in lost.last_error
    assert len(sink.messages()) == 1  # it did arrive: resending would deliver it twice
    assert send_pending(db, mailer, now=clock.advance(days=1)).sent == ()
    assert len(sink.messages()) == 1


def test_without_mail_url_mail_stays_queued_and_the_app_says_so_once(db, clock, caplog):
    mailer = make_mailer({"MAIL_URL": "", "MAIL_FROM": "", "SECRET_KEY": SECRET_KEY})
    queued = queue(db, "welcome:1", clock.now)

    with caplog.at_level(logging.INFO, logger="app.mail"):
        first = send_pending(db, mailer, now=clock.now)
        second = send_pending(db, mailer, now=clock.advance(minutes=5))

    assert not first.enabled and first.waiting == 1 and second.waiting == 1
    untouched = row(db, queued.id)
    assert (untouched.status, untouched.attempts, untouched.message_id) == ("queued", 0, None)
    told = [r.getMessage() for r in caplog.records if "MAIL_URL is not set" in r.getMessage()]
    assert told == ["MAIL_URL is not set: mail is queued in the outbox but not sent (1 waiting)"]
