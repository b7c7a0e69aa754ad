"""``cameo seed``: the chart of accounts (and, as features land, the demo marketplace).

Seeding is idempotent: running it twice changes nothing the second time.
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from flask import Flask

from ledger import chart

from .db import get_db
from .ledger_service import get_ledger

SEED_DIR = Path(__file__).resolve().parent.parent / "seed_data"


def load_json(name: str) -> dict:
    return json.loads((SEED_DIR / name).read_text())


def seed_chart(app: Flask) -> list[str]:
    currencies = load_json("chart_of_accounts.json")["currencies"]
    ledger = get_ledger(app)
    with get_db(app).unit_of_work() as uow:
        for currency in currencies:
            chart.open_accounts(ledger, uow.session, chart.house_accounts(currency))
        uow.commit()
    return [f"chart of accounts: house accounts for {', '.join(currencies)}"]


def seed(app: Flask, *, now: datetime) -> list[str]:
    from .marketplace.wiring import seed_marketplace

    return seed_chart(app) + seed_marketplace(app, now=now)
