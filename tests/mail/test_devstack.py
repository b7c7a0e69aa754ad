"""``make run``'s mail: a sink process beside the others, and MAIL_URL pointed at it unless set."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timezone

from app import devstack
from app.mail.sending import Claimed, compose
from app.mail.sink import caught_messages

from .support import IDENTITY, smtp_mailer


def test_make_run_starts_a_sink_and_points_mail_url_at_it(monkeypatch, tmp_path):
    monkeypatch.setenv("CAMEO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_not_used_here")
    monkeypatch.delenv("MAIL_URL", raising=False)
    env, specs = devstack.processes(5000)
    commands = dict(specs)
    assert env["MAIL_URL"] == f"smtp://127.0.0.1:{devstack.MAIL_SINK_PORT}"
    assert commands["mail-sink"][1:3] == ["-m", "app.mail.sink_process"]
    assert commands["mail-sink"][-2:] == ["--dir", str(tmp_path / "mail-sink")]

    monkeypatch.setenv("MAIL_URL", "smtp://relay.internal:25")
    env, specs = devstack.processes(5000)
    assert env["MAIL_URL"] == "smtp://relay.internal:25" and "mail-sink" not in dict(specs)


def test_the_sink_process_catches_mail_until_it_is_stopped(tmp_path):
    caught_dir = tmp_path / "mail-sink"
    process = subprocess.Popen(
        [sys.executable, "-m", "app.mail.sink_process", "--port", "0", "--dir", str(caught_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready = process.stdout.readline()  # printed once the server answers
        assert ready.startswith("mail sink: SMTP on 127.0.0.1:"), ready
        port = int(ready.split("127.0.0.1:")[1].split(",")[0])
        message = Claimed(
            id=1,
            attempt=1,
            to="ada@example.com",
            subject="Caught",
            text="Hi.",
            html=None,
            message_id=IDENTITY.message_id(1),
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
        smtp_mailer(f"smtp://127.0.0.1:{port}").send(compose(message, IDENTITY))
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
    [caught] = caught_messages(caught_dir)
    assert (caught.subject, caught.envelope_to, caught.text) == ("Caught", "ada@example.com", "Hi.\n")
