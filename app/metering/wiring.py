"""Metering's hooks into the app: the receipt key store under instance/, the public
blueprint, the usage routes of the JSON API and the ``receipts``/``provenance`` CLI."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from .receipts import KeyStore


def init_app(app: Flask) -> None:
    app.config.setdefault("RECEIPT_KEYS_DIR", str(Path(app.instance_path) / "receipt_keys"))
    app.extensions["cameo.receipt_keys"] = KeyStore(Path(app.config["RECEIPT_KEYS_DIR"]))

    from app.api.usage_routes import register
    from . import cli, views

    app.register_blueprint(views.bp)
    register(app)
    cli.init_app(app)


def receipt_keys(app: Flask | None = None) -> KeyStore:
    return (app or current_app).extensions["cameo.receipt_keys"]
