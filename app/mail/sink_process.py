"""``python -m app.mail.sink_process --dir DIR [--host H] [--port P]``: the local SMTP sink as a process.

``app.devstack`` (``make run``) starts it; Ctrl-C or SIGTERM stops it.  A module of its
own, imported by nothing, so running it never imports it twice (``app.mail.sink`` is
the library behind it).
"""

from __future__ import annotations

import argparse
import signal
import threading

from .sink import DEFAULT_PORT, start_sink


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A local SMTP server that keeps every message in a Maildir.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--dir", required=True, help="Maildir to store caught messages in")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller = start_sink(args.dir, host=args.host, port=args.port)
    print(f"mail sink: SMTP on {args.host}:{controller.port}, caught mail in {args.dir}", flush=True)
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
