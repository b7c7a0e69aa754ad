"""The server-rendered marketplace pages (Jinja + WTForms).

Routes are thin: parse a form, call one marketplace service for the logged-in user,
then flash and redirect, or re-render the page with the messages next to their
fields (HTTP 422).  CSRF is checked on every POST (app.auth); reading helpers the
services do not offer live in ``queries``.
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("web", __name__)


def init_app(app: Flask) -> None:
    from . import filters, views_browse, views_creator, views_licences, views_staff  # noqa: F401 — registers routes

    filters.init_app(app)
    app.register_blueprint(bp)
