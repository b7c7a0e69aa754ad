"""Signed, at-least-once webhook delivery; duplicates and shuffling on demand; the CLI."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stripe_emulator import sign
from stripe_emulator.__main__ import parse_args

SECRET = "whsec_emulator_test"


class Receiver:
    """A callable webhook target that records (payload, headers) and answers scripted statuses."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, dict]] = []
        self.arrived = threading.Event()

    def __call__(self, payload: bytes, headers: dict) -> int:
        self.received.append((json.loads(payload), dict(headers), payload))
        self.arrived.set()
        return self.statuses.pop(0) if self.statuses else 200

    @property
    def event_ids(self) -> list[str]:
        return [event["id"] for event, _, _ in self.received]


def _valid(payload: bytes, header: str, secret: str = SECRET) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def test_sign_matches_stripes_scheme():
    header = sign(b'{"id": "evt_1"}', SECRET, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=") and _valid(b'{"id": "evt_1"}', header)


def test_events_are_delivered_signed_with_the_emulator_clock(emulator, emulator_clock):
    receiver = Receiver()
    emulator.add_webhook_endpoint(SECRET, target=receiver)
    emulator.add_platform_funds(1_000)
    emulator_clock.advance(42)
    report = emulator.deliver_pending()
    assert report.delivered == receiver.event_ids and report.pending == 0
    assert [e["type"] for e, _, _ in receiver.received] == [
        "payment_intent.created",
        "payment_intent.succeeded",
        "charge.succeeded",
    ]
    for _, headers, payload in receiver.received:
        assert headers["Stripe-Signature"].startswith(f"t={emulator_clock.now},")
        assert _valid(payload, headers["Stripe-Signature"])
    assert emulator.deliver_pending().delivered == []


def test_failed_deliveries_are_retried_until_acknowledged(emulator, client):
    receiver = Receiver(statuses=[500])
    emulator.add_webhook_endpoint(SECRET, target=receiver)
    emulator.complete_onboarding(client.v1.accounts.create(params={"type": "express"}).id)
    first = emulator.deliver_pending()
    assert first.failed and first.pending == 1
    second = emulator.deliver_pending()
    assert second.delivered == first.failed and second.pending == 0
    assert receiver.event_ids == first.failed * 2  # at least once: the same event again


def test_connect_events_carry_the_account_and_can_be_filtered(emulator, client):
    everything, platform_only = Receiver(), Receiver()
    emulator.add_webhook_endpoint(SECRET, target=everything)
    emulator.add_webhook_endpoint(SECRET, target=platform_only, connect=False)
    account_id = client.v1.accounts.create(params={"type": "express"}).id
    emulator.complete_onboarding(account_id)
    emulator.deliver_pending()
    [(event, _, _)] = everything.received
    assert event["type"] == "account.updated" and event["account"] == account_id
    assert platform_only.received == []


def test_duplicate_and_shuffled_delivery(emulator):
    receiver = Receiver()
    emulator.add_webhook_endpoint(SECRET, target=receiver)
    for amount in (100, 200, 300, 400):
        emulator.add_platform_funds(amount)
    created = [e["id"] for e in reversed(emulator.events())]
    report = emulator.deliver_pending(duplicate=True, shuffle=True)
    assert sorted(report.delivered) == sorted(created)
    assert report.delivered != created  # seeded shuffle: a different order
    assert sorted(receiver.event_ids) == sorted(created * 2)


def test_http_receiver_and_unreachable_endpoint(emulator, stripe_emulator):
    got = []

    def app(environ, start_response):
        request = Request(environ)
        got.append((request.get_data(), request.headers["Stripe-Signature"]))
        return Response("ok")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        emulator.add_webhook_endpoint(SECRET, url=f"http://127.0.0.1:{server.server_port}/hooks")
        emulator.add_webhook_endpoint(SECRET, url="http://127.0.0.1:9/closed")  # discard port: refused
        emulator.add_platform_funds(1_000)
        report = emulator.deliver_pending()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert len(got) == 3 and all(_valid(payload, header) for payload, header in got)
    assert len(report.delivered) == 3 and len(report.failed) == 3 and report.pending == 3


def test_background_delivery(emulator):
    receiver = Receiver()
    emulator.add_webhook_endpoint(SECRET, target=receiver)
    emulator.webhooks.start_background(interval=0.01)
    try:
        emulator.add_platform_funds(100)
        assert receiver.arrived.wait(timeout=5)
    finally:
        emulator.webhooks.stop_background()


def test_webhook_control_endpoints(http, emulator):
    base = f"{http.base}/_emulator/webhooks"
    endpoint = http.post(base, json={"url": "http://127.0.0.1:9/x", "secret": SECRET}).json()
    assert endpoint["url"] == "http://127.0.0.1:9/x"
    emulator.add_platform_funds(100)
    assert http.get(base).json()["pending"] == 3
    assert http.post(f"{base}/deliver", json={}).json()["pending"] == 3
    assert http.post(base, json={"url": "http://x", "secret": "not-whsec"}).status_code == 400


def test_cli_arguments():
    args = parse_args(
        [
            "--port",
            "0",
            "--webhook-url",
            "http://x/h",
            "--webhook-secret",
            SECRET,
            "--write-rate-limit",
            "100",
            "--state-file",
            "s.json",
        ]
    )
    assert (args.port, args.write_rate_limit, args.state_file) == (0, 100, "s.json")
    with pytest.raises(SystemExit):
        parse_args(["--webhook-url", "http://x/h"])


def test_runs_as_a_process(tmp_path):
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_emulator", "--port", "0", "--state-file", str(tmp_path / "s.json")],
        cwd=root,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        for line in process.stderr:  # synchronise on the banner, not on time
            if "listening on" in line:
                assert "no real money" in line
                url = line.split("listening on ")[1].split()[0]
                break
        assert url
        status = requests.get(f"{url}/_emulator/status", timeout=5).json()
        assert status["emulator"].endswith("no real money")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()
    assert process.returncode == 0
