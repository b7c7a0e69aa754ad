"""``make run``: the web server, the scheduler and (without a real Stripe key) the
local Stripe emulator, started together and stopped together — and, unless
``MAIL_URL`` names a real SMTP server, a local SMTP sink (``app.mail.sink``) that
catches every message in ``instance/mail-sink/``, shown at ``/dev/mail``.

Each runs in its own process — the scheduler is never inside a web worker.  Ctrl-C
(or any one process exiting) stops them all.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from .config import default_instance_path

EMULATOR_PORT = 12111
MAIL_SINK_PORT = 8025
# Card payments stay pending on the emulator for two days, as on Stripe (not 0): a
# payout the available balance cannot fund yet waits ("awaiting funds", in words on the
# settlement page and the statement) and the scheduler pays it once the funds are
# available — the demo takes the path production takes instead of hiding it.
AVAILABLE_DELAY_SECONDS = 2 * 24 * 3600


def _emulator_env(instance: Path, web_port: int) -> tuple[dict[str, str], list[str]]:
    secret_file = instance / "stripe-emulator-webhook-secret"
    if not secret_file.exists():
        instance.mkdir(parents=True, exist_ok=True)
        secret_file.write_text("whsec_" + secrets.token_hex(24))
    webhook_secret = secret_file.read_text().strip()
    env = {
        "STRIPE_SECRET_KEY": "sk_test_local_emulator",
        "STRIPE_API_BASE": f"http://127.0.0.1:{EMULATOR_PORT}",
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
    }
    command = [
        sys.executable,
        "-m",
        "stripe_emulator",
        "--port",
        str(EMULATOR_PORT),
        "--state-file",
        str(instance / "stripe-emulator-state.json"),
        "--webhook-url",
        f"http://127.0.0.1:{web_port}/webhooks/stripe",
        "--webhook-secret",
        webhook_secret,
        "--available-delay",
        str(AVAILABLE_DELAY_SECONDS),
    ]
    return env, command


def _mail_sink(instance: Path) -> tuple[dict[str, str], list[str]]:
    env = {"MAIL_URL": f"smtp://127.0.0.1:{MAIL_SINK_PORT}"}
    command = [
        sys.executable,
        "-m",
        "app.mail.sink_process",
        "--port",
        str(MAIL_SINK_PORT),
        "--dir",
        str(instance / "mail-sink"),
    ]
    return env, command


def processes(port: int) -> tuple[dict[str, str], list[tuple[str, list[str]]]]:
    env = dict(os.environ)
    procs: list[tuple[str, list[str]]] = []
    if not env.get("STRIPE_SECRET_KEY"):
        extra, command = _emulator_env(default_instance_path(), port)
        env.update(extra)
        procs.append(("stripe-emulator", command))
    if not env.get("MAIL_URL"):
        extra, command = _mail_sink(default_instance_path())
        env.update(extra)
        procs.append(("mail-sink", command))
    cameo = [sys.executable, "-m", "app"]
    procs.append(("web", cameo + ["run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"]))
    procs.append(("scheduler", cameo + ["scheduler"]))
    return env, procs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    env, specs = processes(args.port)
    if "STRIPE_API_BASE" in env and env["STRIPE_SECRET_KEY"] == "sk_test_local_emulator":
        print(f"Stripe: local Stripe emulator on {env['STRIPE_API_BASE']} — no real money moves.")
    if any(name == "mail-sink" for name, _ in specs):
        where = f"files in {default_instance_path() / 'mail-sink'}"
        if env.get("CAMEO_ENV", "development") == "development":
            where = f"read it at http://127.0.0.1:{args.port}/dev/mail ({where})"
        print(f"Mail: local SMTP sink on 127.0.0.1:{MAIL_SINK_PORT} catches all mail — {where}.")
    running: list[tuple[str, subprocess.Popen]] = []
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, command in specs:
        running.append((name, subprocess.Popen(command, env=env)))
    print(f"Cameo Exchange on http://127.0.0.1:{args.port}/ — Ctrl-C stops everything.")
    exit_code = 0
    try:
        while not stopping:
            for name, proc in running:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping the rest.", file=sys.stderr)
                    exit_code = proc.returncode or 1
                    stopping = True
            time.sleep(0.5)
    finally:
        for _, proc in running:
            if proc.poll() is None:
                proc.terminate()
        for _, proc in running:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
