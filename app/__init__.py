"""Cameo Exchange, the Flask product.

``create_app`` is the only entry point (Flask's tutorial): it reads the settings,
builds the app's collaborators in the composition root (``app.services``), then lets
the kits and each feature register themselves, one way: ``init_app(app)`` adds the
feature's blueprints, commands and handlers.  Nothing connects, schedules or reads
keys at import time.  ``main`` is the ``cameo`` console script.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask.cli import FlaskGroup
from flask_openapi3 import OpenAPI

from . import (
    accounting,
    auth,
    cli,
    config,
    errors,
    health,
    mail,
    marketplace,
    metering,
    payments,
    reporting,
    services,
    settlement,
    statements,
    web,
)
from .kit import api as api_kit
from .kit import ratelimit

# Registration order matters only where one part fills another's registry: the kits
# first, features after them.
FEATURES = (auth, mail, marketplace, payments, metering, statements, accounting, reporting, settlement, web)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    overrides = dict(test_config or {})
    instance_path = Path(overrides.get("INSTANCE_PATH") or config.default_instance_path())
    # flask_openapi3.OpenAPI is a Flask subclass that also generates the API's OpenAPI document.
    app = OpenAPI(__name__, instance_path=str(instance_path), instance_relative_config=True, doc_ui=False)
    # String overrides behave like environment variables (so a test can set SECRET_KEY
    # or DATABASE_URL without touching os.environ); everything else is applied as is.
    environ = {**os.environ, **{k: v for k, v in overrides.items() if isinstance(v, str)}}
    app.config.update(config.from_environment(environ, instance_path))
    app.config.update(overrides)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # fpdf2's font subsetting is chatty at INFO

    services.init_app(app)
    errors.init_app(app)
    ratelimit.init_app(app)
    api_kit.init_app(app)
    app.register_blueprint(health.bp)
    cli.init_app(app)
    for feature in FEATURES:
        feature.init_app(app)
    return app


def main() -> None:
    """The ``cameo`` command: Flask's CLI with the product's command groups."""
    FlaskGroup(create_app=lambda: create_app(), help="Cameo Exchange command line.")(prog_name="cameo")
