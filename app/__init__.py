"""Cameo Exchange, the Flask product.

``create_app`` is the only entry point: it reads settings, builds the engine and
wires every subsystem through its ``init_app``.  Nothing connects, schedules or reads
keys at import time.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from flask import Flask
from flask_openapi3 import OpenAPI

from . import config as config_module


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    overrides = dict(test_config or {})
    instance_path = Path(overrides.get("INSTANCE_PATH") or config_module.default_instance_path())
    # flask_openapi3.OpenAPI is a Flask subclass that also generates the API's OpenAPI document.
    app = OpenAPI(__name__, instance_path=str(instance_path), instance_relative_config=True, doc_ui=False)
    # String overrides behave like environment variables (so a test can set SECRET_KEY
    # or DATABASE_URL without touching os.environ); everything else is applied as is.
    environ = {**os.environ, **{k: v for k, v in overrides.items() if isinstance(v, str)}}
    app.config.update(config_module.from_environment(environ, instance_path))
    app.config.update(overrides)
    app.config.setdefault("CLOCK", system_clock)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from . import db, errors, health, ledger_service, cli_commands

    db.init_app(app)
    errors.init_app(app)
    ledger_service.init_app(app)
    app.register_blueprint(health.bp)
    cli_commands.init_app(app)

    from . import api, auth, web
    from .marketplace import wiring as marketplace

    marketplace.init_app(app)
    auth.init_app(app)
    api.init_app(app)

    from .payments import wiring as payments

    payments.init_app(app)
    web.init_app(app)

    from . import statements

    statements.init_app(app)

    from .metering import wiring as metering

    metering.init_app(app)

    from . import accounting

    accounting.init_app(app)

    from .reporting import wiring as reporting

    reporting.init_app(app)

    from .settlement import wiring as settlement

    settlement.init_app(app)
    from . import mail

    mail.init_app(app)
    return app


def clock(app: Flask | None = None) -> Callable[[], datetime]:
    from flask import current_app

    return (app or current_app).config["CLOCK"]
