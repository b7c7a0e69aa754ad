"""``python -m stripe_emulator``: the local Stripe emulator as a process (demo, dev, bench)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading

from .emulator import Emulator
from .resources.balance import DEFAULT_AVAILABLE_DELAY
from .server import start_emulator

BANNER = "local Stripe emulator — no real money"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stripe_emulator", description=BANNER)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--state-file", help="JSON file that keeps state across restarts")
    parser.add_argument("--webhook-url", help="deliver events here (signed)")
    parser.add_argument("--webhook-secret", help="whsec_… signing secret for --webhook-url")
    parser.add_argument(
        "--webhook-interval", type=float, default=1.0, help="seconds between background delivery passes"
    )
    parser.add_argument("--write-rate-limit", type=int, help="max POST/DELETE per second (429 above)")
    parser.add_argument("--spec", help="path of Stripe's OpenAPI spec (.json or .json.gz)")
    parser.add_argument(
        "--available-delay",
        type=int,
        default=DEFAULT_AVAILABLE_DELAY,
        metavar="SECONDS",
        help="how long card charges stay pending before their funds are available "
        f"(default {DEFAULT_AVAILABLE_DELAY} = 2 days; 0 = at once)",
    )
    args = parser.parse_args(argv)
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("stripe_emulator")
    emulator = Emulator(
        spec=args.spec or "auto",
        state_file=args.state_file,
        write_rate_limit=args.write_rate_limit,
        available_delay=args.available_delay,
    )
    if args.webhook_url:
        emulator.add_webhook_endpoint(args.webhook_secret, url=args.webhook_url)
    running = start_emulator(
        args.port,
        args.host,
        emulator=emulator,
        quiet=False,
        deliver_webhooks_every=args.webhook_interval if args.webhook_url else None,
    )
    log.warning(
        "%s — listening on %s (contract checks %s)",
        BANNER,
        running.url,
        "ON" if emulator.contract_checks_enabled else "OFF",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
        log.info("stopped")


if __name__ == "__main__":
    main()
