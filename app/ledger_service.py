"""The app's handle on the ledger package: one ``Ledger`` per app, and the chart."""
from __future__ import annotations

from flask import Flask, current_app

from ledger import Ledger


def init_app(app: Flask) -> None:
    app.extensions["cameo.ledger"] = Ledger()


def get_ledger(app: Flask | None = None) -> Ledger:
    return (app or current_app).extensions["cameo.ledger"]
