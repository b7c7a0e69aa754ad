"""Mail fixtures: a started SMTP sink (``tests.mail.support.Sink``), the outbox's database on
SQLite and PostgreSQL, and an SMTP mailer pointed at the sink."""

from __future__ import annotations

import pytest

from app.db import Database

from .support import Sink, smtp_mailer


@pytest.fixture
def make_sink(tmp_path):
    """``make_sink(handler=…, **options)``: a started sink; ``handler(directory)`` builds its aiosmtpd
    handler, ``options`` go to aiosmtpd (authenticator, TLS …)."""
    sinks: list[Sink] = []

    def make(**options) -> Sink:
        sink = Sink(tmp_path / f"caught-{len(sinks)}", **options)
        sinks.append(sink)
        return sink.start()

    yield make
    for sink in sinks:
        sink.stop()


@pytest.fixture
def sink(make_sink) -> Sink:
    return make_sink()


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def mailer(sink):
    return smtp_mailer(sink.url)
