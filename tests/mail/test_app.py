"""Mail inside the app: ``cameo mail`` commands, the scheduler's ``mail-send`` job, the
development page, and the migration that makes the table."""

from __future__ import annotations

import logging

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import app.models
from app import scheduler
from app.db import Database
from app.kit.registry import provided
from app.mail.mailer import Mailer
from app.mail.sending import STALE_SENDING_AFTER, claim_next
from ledger.db import make_engine

from ..conftest import make_test_app
from .support import queue, row

ENCODED = "s3cr3t%2Fp%40ss"


@pytest.fixture
def mail_app(sqlite_url, tmp_path, clock, sink):
    application = make_test_app(
        sqlite_url, tmp_path, clock, MAIL_URL=sink.url, MAIL_FROM="Cameo Exchange <no-reply@cameo.test>"
    )
    yield application
    provided(Database, application).dispose()


def mail(application, *args: str):
    return application.test_cli_runner().invoke(args=["mail", *args])


def test_mail_test_then_send_delivers_and_list_shows_it(mail_app, sink):
    queued = mail(mail_app, "test", "--to", "Ada <ada@example.com>")
    assert queued.exit_code == 0, queued.output
    sent = mail(mail_app, "send")
    assert sent.exit_code == 0, sent.output
    assert f"via SMTP {sink.url}: 1 sent" in sent.output

    [caught] = sink.messages()
    assert caught["Subject"] == "Cameo Exchange test message" and caught["To"] == "Ada <ada@example.com>"
    assert "reaches Ada <ada@example.com>" in caught.get_body(("plain",)).get_content()
    assert "reaches Ada &lt;ada@example.com&gt;" in caught.get_body(("html",)).get_content()
    listed = mail(mail_app, "list")
    assert "outbox: 0 queued, 0 sending, 1 sent" in listed.output and "Cameo Exchange test message" in listed.output


def test_send_without_mail_url_says_so_and_fails(sqlite_url, tmp_path, clock):
    application = make_test_app(sqlite_url, tmp_path, clock)
    queue(provided(Database, application), "welcome:1", clock.now)
    result = mail(application, "send")
    assert result.exit_code == 1
    assert "MAIL_URL is not set: 1 message(s) wait in the outbox; nothing was sent" in result.output
    provided(Database, application).dispose()


def test_uncertain_mail_is_listed_and_resent_only_on_purpose(mail_app, sink, clock):
    db = provided(Database, mail_app)
    queued = queue(db, "reset:user:3:1", clock.now)
    claim_next(db, now=clock.now, identity=provided(Mailer, mail_app).identity)  # … and the sender dies
    clock.advance(seconds=STALE_SENDING_AFTER.total_seconds())

    after_crash = mail(mail_app, "send")
    assert after_crash.exit_code == 1 and "1 uncertain" in after_crash.output
    listed = mail(mail_app, "list", "--status", "uncertain")
    assert f"#{queued.id}" in listed.output and "cameo mail retry --uncertain" in listed.output

    plain = mail(mail_app, "retry", str(queued.id))
    assert plain.exit_code == 1 and f"#{queued.id} is uncertain" in plain.output
    unknown = mail(mail_app, "retry", "--uncertain", str(queued.id), "999")
    assert unknown.exit_code == 1 and "#999 does not exist" in unknown.output
    assert row(db, queued.id).status == "uncertain"  # refused retries changed nothing
    assert sink.messages() == []

    assert mail(mail_app, "retry", "--uncertain", str(queued.id)).exit_code == 0
    assert mail(mail_app, "send").exit_code == 0
    assert len(sink.messages()) == 1


def test_bad_input_to_mail_test_is_a_message_not_a_traceback(mail_app):
    result = mail(mail_app, "test", "--to", "ada@example.com, bob@example.com")
    assert result.exit_code == 1 and "to: must be exactly one e-mail address" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_password_is_never_printed_or_logged(sqlite_url, tmp_path, clock, sink, caplog):
    sink.stop()  # the server is down: errors get reported
    application = make_test_app(sqlite_url, tmp_path, clock, MAIL_URL=f"smtp://cameo:{ENCODED}@127.0.0.1:{sink.port}")
    queue(provided(Database, application), "welcome:2", clock.now)
    with caplog.at_level(logging.DEBUG):
        sent = mail(application, "send")
        listed = mail(application, "list")
    assert sent.exit_code == 1 and "smtp://cameo:***@127.0.0.1" in sent.output
    for text in (sent.output, listed.output, caplog.text):
        assert "s3cr3t" not in text
    provided(Database, application).dispose()


def test_the_scheduler_sends_mail_every_few_seconds(mail_app, sink, clock):
    job = {job_id: trigger for job_id, _, trigger in scheduler.JOBS}["mail-send"]
    assert job == {"trigger": "interval", "seconds": 5}
    queued = queue(provided(Database, mail_app), "notice:9", clock.now)
    scheduler._context["app"] = mail_app
    try:
        scheduler.mail_send_job()
    finally:
        scheduler._context.pop("app", None)
    assert row(provided(Database, mail_app), queued.id).status == "sent" and len(sink.messages()) == 1


@pytest.mark.parametrize("env", ["test", "production"])
def test_the_dev_mail_page_does_not_exist_outside_development(sqlite_url, tmp_path, clock, env):
    application = make_test_app(sqlite_url, tmp_path, clock, CAMEO_ENV=env)
    client = application.test_client()
    assert client.get("/dev/mail").status_code == 404
    assert client.get("/dev/mail/anything").status_code == 404
    provided(Database, application).dispose()


def test_the_dev_mail_page_lists_and_shows_caught_mail(sqlite_url, tmp_path, clock, sink):
    application = make_test_app(
        sqlite_url, tmp_path, clock, CAMEO_ENV="development", MAIL_URL=sink.url, MAIL_SINK_DIR=str(sink.directory)
    )
    client = application.test_client()
    assert "No mail caught yet." in client.get("/dev/mail").get_data(as_text=True)

    queue(
        provided(Database, application),
        "welcome:3",
        clock.now,
        subject="Welcome <Ada>",
        text="Hello Ada.",
        html="<p onclick='x()'>Hello</p>",
    )
    assert mail(application, "send").exit_code == 0
    index = client.get("/dev/mail")
    page = index.get_data(as_text=True)
    assert index.status_code == 200 and "Welcome &lt;Ada&gt;" in page and "1 sent" in page
    [caught] = sink.messages()
    key = page.split('href="/dev/mail/')[1].split('"')[0]
    shown = client.get(f"/dev/mail/{key}").get_data(as_text=True)
    assert "Hello Ada." in shown and caught["Message-ID"].replace("<", "&lt;").replace(">", "&gt;") in shown
    assert "sandbox srcdoc=" in shown and "<p onclick" not in shown  # HTML part only inside a sandboxed frame
    assert client.get("/dev/mail/no-such-message").status_code == 404
    provided(Database, application).dispose()


def test_the_migration_matches_the_model(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = [d for d in compare_metadata(context, SQLModel.metadata) if "mail_outbox" in repr(d)]
    finally:
        engine.dispose()
    assert diffs == []
