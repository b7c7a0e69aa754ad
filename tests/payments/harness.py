"""The app wired to the in-process Stripe emulator, for webhook and licence payment tests.

``PayWorld`` is the demo marketplace on a migrated database (SQLite or PostgreSQL)
whose app talks to the emulator through the real SDK (STRIPE_SECRET_KEY /
STRIPE_API_BASE / STRIPE_WEBHOOK_SECRET in its config, so ``get_gateway`` builds it
as in production), with one clock for both (the emulator's epoch seconds).  Webhooks
are delivered by the emulator to a callable that posts into the Flask test client;
``capture()`` keeps them instead, so a test can post them in any order it likes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlmodel import select

from app.clock import Clock
from app.db import Database
from app.kit.registry import provided, registry_of
from app.marketplace.models import Licence
from app.payments.gateway import PaymentGateway
from app.payments.models import LicencePayment, StripeEvent
from app.people import accounts
from app.people.actors import actor_for
from app.people.models import User
from app.seed import seed_demo
from ledger import Ledger, UnknownAccount
from stripe_emulator import sign
from tests.conftest import make_test_app

WEBHOOK_SECRET = "whsec_app_payment_tests"
FAST_HASH = {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
PEOPLE = {
    "ava": "ava@creators.example",
    "ben": "ben@creators.example",
    "chloe": "chloe@creators.example",
    "dana": "dana@northwind.example",
    "eli": "eli@lumen.example",
}


class EmulatorTime:
    """The app's CLOCK, read from the emulator's manual clock."""

    def __init__(self, emulator_clock):
        self.emulator_clock = emulator_clock

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self.emulator_clock.now, tz=UTC)


@dataclass
class PayWorld:
    app: object
    running: object  # RunningEmulator
    emulator_clock: object
    tokens: dict[str, str]
    users: dict[str, int]
    captured: list[tuple[bytes, dict]] = field(default_factory=list)

    def __post_init__(self):
        self.client = self.app.test_client()
        self.emulator = self.running.emulator

    # -- webhooks ------------------------------------------------------------------------
    def post_webhook(self, payload: bytes, signature: str):
        return self.client.post(
            "/webhooks/stripe",
            data=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )

    def _into_app(self, payload: bytes, headers: dict) -> int:
        return self.post_webhook(payload, headers["Stripe-Signature"]).status_code

    def _capture(self, payload: bytes, headers: dict) -> int:
        self.captured.append((payload, headers))
        return 200

    def forward(self) -> None:
        self.emulator.add_webhook_endpoint(WEBHOOK_SECRET, target=self._into_app)

    def capture(self) -> None:
        self.emulator.add_webhook_endpoint(WEBHOOK_SECRET, target=self._capture)

    def deliver(self, **options):
        return self.emulator.deliver_pending(**options)

    def resign(self, payload: bytes) -> str:
        return sign(payload, WEBHOOK_SECRET, self.emulator_clock.now)

    def retry_events(self):
        result = self.app.test_cli_runner().invoke(args=["payments", "retry-events"])
        assert result.exit_code == 0, result.output
        return result.output

    # -- the API ------------------------------------------------------------------------------
    def api(self, who: str | None, method: str, path: str, **kwargs):
        headers = {"User-Agent": f"pytest-{who}"}
        if who:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def checkout(self, licence_id: int, who: str = "eli"):
        return self.api(
            who,
            "POST",
            f"/licences/{licence_id}/checkout",
            json={"success_url": "https://brand.example/paid", "cancel_url": "https://brand.example/back"},
        )

    def pay(self, licence_id: int, who: str = "eli") -> str:
        """Checkout through the API and the buyer pays; returns the payment intent id."""
        response = self.checkout(licence_id, who)
        assert response.status_code == 201, response.get_json()
        session = self.emulator.pay_checkout_session(response.get_json()["checkout_session_id"])
        return session["payment_intent"]

    # -- the database ----------------------------------------------------------------------
    def signed_licence(self, *, like: int, fee: int, currency: str = "USD", commission_bps: int = 2000) -> int:
        """A licence awaiting its upfront fee: a copy of demo licence ``like`` in status ``signed``."""
        with provided(Database, self.app).unit_of_work() as uow:
            source = uow.session.get(Licence, like)
            data = source.model_dump(exclude={"id", "payment_ref", "paid_at", "activated_at"})
            data.update(status="signed", upfront_fee_minor=fee, currency=currency, commission_bps=commission_bps)
            licence = Licence(**data)
            uow.session.add(licence)
            uow.commit()
            return licence.id

    def licence(self, licence_id: int) -> SimpleNamespace:
        with provided(Database, self.app).unit_of_work() as uow:
            return SimpleNamespace(**uow.session.get(Licence, licence_id).model_dump())

    def payment(self, licence_id: int) -> SimpleNamespace | None:
        with provided(Database, self.app).unit_of_work() as uow:
            row = uow.session.exec(select(LicencePayment).where(LicencePayment.licence_id == licence_id)).first()
            return None if row is None else SimpleNamespace(**row.model_dump())

    def events(self) -> dict[str, SimpleNamespace]:
        with provided(Database, self.app).unit_of_work() as uow:
            return {e.id: SimpleNamespace(**e.model_dump()) for e in uow.session.exec(select(StripeEvent)).all()}

    def balance(self, code: str) -> int:
        with provided(Database, self.app).unit_of_work() as uow:
            try:
                return provided(Ledger, self.app).balance(uow.session, code).minor
            except UnknownAccount:
                return 0

    def entries(self, kind: str | None = None) -> list[tuple]:
        sql = "SELECT idempotency_key, kind FROM ledger_entry" + (" WHERE kind = :kind" if kind else "")
        with provided(Database, self.app).engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql + " ORDER BY seq"), {"kind": kind})]

    def count(self, table: str) -> int:
        with provided(Database, self.app).engine.connect() as conn:
            return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar()

    @property
    def gateway(self):
        return provided(PaymentGateway, self.app)


def _tokens(app) -> tuple[dict[str, str], dict[str, int]]:
    tokens, users = {}, {}
    with app.app_context(), provided(Database).unit_of_work() as uow:
        for short, email in PEOPLE.items():
            user = uow.session.exec(select(User).where(User.email == email)).one()
            users[short] = user.id
            tokens[short] = accounts.issue_token(uow, actor_for(uow, user), provided(Clock, app)(), name="tests")[1]
        uow.commit()
    return tokens, users


def make_world(database_url: str, tmp_path: Path, running, emulator_clock, *, seeded: bool = False) -> PayWorld:
    app = make_test_app(
        database_url,
        tmp_path,
        EmulatorTime(emulator_clock),
        STRIPE_SECRET_KEY="sk_test_app",
        STRIPE_API_BASE=running.url,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_MAX_NETWORK_RETRIES=1,
        STRIPE_TIMEOUT_SECONDS=5,
        **FAST_HASH,
    )
    if not seeded:
        seed_demo(app, now=provided(Clock, app)())
    tokens, users = _tokens(app)
    return PayWorld(app=app, running=running, emulator_clock=emulator_clock, tokens=tokens, users=users)


def close_world(world: PayWorld) -> None:
    gateway = registry_of(world.app).built(PaymentGateway)
    if gateway is not None:
        gateway.close()
    provided(Database, world.app).dispose()


@pytest.fixture(scope="session")
def seeded_sqlite(
    sqlite_template,
    tmp_path_factory,
) -> Path:
    """The migrated SQLite template with the demo marketplace, made once per session."""
    from tests.conftest import FrozenClock

    root = tmp_path_factory.mktemp("pay-seeded")
    shutil.copyfile(sqlite_template, root / "cameo.db")
    app = make_test_app(
        f"sqlite:///{root / 'cameo.db'}", root, FrozenClock(datetime(2025, 10, 1, tzinfo=UTC)), **FAST_HASH
    )
    seed_demo(app, now=provided(Clock, app)())
    provided(Database, app).dispose()
    return root / "cameo.db"


@pytest.fixture
def pay_world(seeded_sqlite, tmp_path, stripe_emulator, emulator_clock, fast_sdk_retries):
    """The app on seeded SQLite, wired to the emulator."""
    shutil.copyfile(seeded_sqlite, tmp_path / "cameo.db")
    world = make_world(f"sqlite:///{tmp_path / 'cameo.db'}", tmp_path, stripe_emulator, emulator_clock, seeded=True)
    yield world
    close_world(world)


@pytest.fixture
def pay_world_any_db(database_url, tmp_path, stripe_emulator, emulator_clock, fast_sdk_retries):
    """The same on SQLite and PostgreSQL (seeded per test)."""
    world = make_world(database_url, tmp_path, stripe_emulator, emulator_clock)
    yield world
    close_world(world)
