"""The emulator as a WSGI application: one request, routed to one of two halves.

``/_emulator/...`` goes to the control API and pages (:mod:`.control`), everything
else is a Stripe API request (:mod:`.stripe_api`). Both halves are handed the
:class:`~stripe_emulator.emulator.Emulator` they act on; neither imports this module,
and the emulator imports neither, so the package's imports run one way:
``server → wsgi → control, stripe_api → emulator → resources, state``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from . import control, stripe_api
from .emulator import Emulator

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def wsgi_app(emulator: Emulator) -> WSGIApp:
    """A WSGI callable serving ``emulator``."""

    def application(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith(control.PREFIX):
            response: Response = control.handle(emulator, request)
        else:
            response = stripe_api.handle(emulator, request)
        return response(environ, start_response)

    return application
