"""The marketplace: cameos, consent, contract templates, offers and licences.

Every service function takes a ``UnitOfWork`` (``uow``), the acting person (``Actor``)
and ``now``, checks the actor may do it, changes rows and writes the audit log; the
caller commits.  Bad input raises ``ValidationProblem`` (422) with field-level
messages, someone else's object ``NotFound`` (404, so nothing leaks), a forbidden
change to a visible object ``Forbidden`` (403), an illegal transition ``Conflict``
(409).

``api`` is the JSON API of cameos, consent, templates, offers and licences; the
marketplace's pages are ``app.web``.
"""

from __future__ import annotations

from flask import Flask

from app.kit.api import register_api

from . import api


def init_app(app: Flask) -> None:
    register_api(app, api.api)
