"""``cameo seed``: the house accounts of the chart and the demo marketplace.

Seeding is idempotent: running it twice changes nothing the second time.  The demo
is played through the marketplace's own services (``app.marketplace.demo``).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from flask import Flask

from app.books import chart
from ledger import Ledger

from .db import Database
from .kit.registry import provided
from .marketplace import demo
from .marketplace.storage import FileStore

SEED_DIR = Path(__file__).resolve().parent.parent / "seed_data"


def load_json(name: str) -> dict:
    return json.loads((SEED_DIR / name).read_text())


def seed_chart(app: Flask) -> list[str]:
    currencies = load_json("chart_of_accounts.json")["currencies"]
    ledger = provided(Ledger, app)
    with provided(Database, app).unit_of_work() as uow:
        for currency in currencies:
            chart.open_accounts(ledger, uow.session, chart.house_accounts(currency))
        uow.commit()
    return [f"chart of accounts: house accounts for {', '.join(currencies)}"]


def seed_demo(app: Flask, *, now: datetime) -> list[str]:
    with provided(Database, app).unit_of_work() as uow:
        lines = demo.seed_demo(
            uow,
            now,
            store=provided(FileStore, app),
            commission_bps=app.config["COMMISSION_BPS"],
            password_method=app.config["PASSWORD_HASH_METHOD"],
        )
        uow.commit()
    return lines


def seed(app: Flask, *, now: datetime) -> list[str]:
    return seed_chart(app) + seed_demo(app, now=now)
