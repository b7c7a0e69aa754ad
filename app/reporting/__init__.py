"""Accountant reporting: the dashboard under ``/reports`` and the ``export`` CLI.

Everything here reads; nothing posts.  Sums are integer minor units computed by the
ledger (``ledger.reports``, ``ledger.exports``); this package adds authorisation
(accountants and admins), people's names and Stripe account ids, pages, charts
(``charts``, SVG from pygal), CSV downloads and the export files.

Tables that can be exported are looked up by name in a registry (``tables``): the
ledger's own (entries, postings, trial balance), the dashboard's (activity, creators)
and whatever other subsystems register with ``register_export_table`` (per-creator
statements, reconciliation).
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reporting", __name__, url_prefix="/reports")
