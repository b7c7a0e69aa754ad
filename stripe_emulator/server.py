"""Running the emulator over HTTP: in-process (tests) or as its own process.

:func:`start_emulator` binds werkzeug's threaded server to a loopback port
(``port=0`` picks a free one) and serves from a daemon thread; the returned
:class:`RunningEmulator` knows its ``url`` and stops cleanly — held ``timeout``
responses are released and the background webhook thread, if any, is joined.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .emulator import Emulator
from .wsgi import wsgi_app


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without one log line per request (the emulator keeps a request log)."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class RunningEmulator:
    emulator: Emulator
    server: BaseWSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.emulator.release_holds()
        self.emulator.webhooks.stop_background()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(
    port: int = 0,
    host: str = "127.0.0.1",
    *,
    emulator: Emulator | None = None,
    deliver_webhooks_every: float | None = None,
    quiet: bool = True,
    **emulator_options: Any,
) -> RunningEmulator:
    """Serve ``emulator`` (or a new ``Emulator(**emulator_options)``) on ``host:port``."""
    emulator = emulator or Emulator(**emulator_options)
    server = make_server(
        host, port, wsgi_app(emulator), threaded=True, request_handler=_QuietHandler if quiet else WSGIRequestHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="stripe-emulator", daemon=True
    )
    running = RunningEmulator(emulator, server, thread)
    emulator.public_url = emulator.public_url or running.url
    thread.start()
    if deliver_webhooks_every:
        emulator.webhooks.start_background(deliver_webhooks_every)
    return running
