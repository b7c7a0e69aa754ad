"""Metering: derivative uses reported by brands, priced by their licence, posted to the
ledger and answered with receipts signed by the platform (Ed25519), which can be
embedded in the media file as a C2PA manifest.

``usage``         checking, pricing, recording and posting reported uses (one transaction)
``store``         the hot statements of a report (licence locks, usage rows)
``receipts``      signing and checking receipts; the key store with its published key set
``verification``  what a receipt proves (``/verify``)
``provenance``    C2PA manifests that carry a receipt
``api``           POST /api/v1/usage, a licence's usage list and CSV
``views``         the public key set and the receipt verification page
``cli``           ``cameo receipts …`` and ``cameo provenance …``
"""

from __future__ import annotations

from flask import Flask

from app.kit.api import register_api

from . import api, cli, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    register_api(app, api.usage_api)
    app.cli.add_command(cli.receipts_cli)
    app.cli.add_command(cli.provenance_cli)
