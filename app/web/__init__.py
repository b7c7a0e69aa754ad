"""The marketplace's pages (Jinja + WTForms): browsing, the creator and brand
dashboards, licences, the staff overview.

They sit above the features whose services they call (marketplace, payments,
statements).  Routes are thin: parse a form, call one service for the logged-in user,
then flash and redirect, or re-render the page with the messages next to their fields
(HTTP 422); ``app.kit.web`` runs that pattern.  CSRF is checked on every POST
(``app.auth``); reading helpers the services do not offer live in ``queries``.
"""

from __future__ import annotations

from flask import Flask

from . import filters, views_browse, views_creator, views_licences, views_staff  # noqa: F401 — their routes
from .blueprint import bp


def init_app(app: Flask) -> None:
    filters.init_app(app)
    app.register_blueprint(bp)
