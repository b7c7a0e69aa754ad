"""A marketplace with creators who earned money, wired to the in-process Stripe emulator.

Built on the payments harness (``tests.payments.harness``: the demo marketplace, the
app's gateway aimed at the emulator, one clock for both).  Creators are made here
with or without a finished Connect onboarding; their earnings are usage entries of
licences whose ``holdback_days`` the test chooses, effective when the test says.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timezone

from sqlalchemy import text
from sqlmodel import select

from app.books import chart, recipes
from app.books.recipes import Owner
from app.clock import Clock
from app.db import Database
from app.kit.registry import provided, registry_of
from app.marketplace.models import Licence
from app.payments.gateway import PaymentGateway
from app.payments.models import ConnectAccount
from app.people.models import User
from app.settlement.models import SettlementItem, SettlementRun
from app.settlement.planning import Period, transfer_group
from app.settlement.service import RetryPolicy, Settler, payout_key
from ledger import Ledger, UnknownAccount
from ledger.verify import verify

OCT = Period.parse("2026-10")
NOV = Period.parse("2026-11")
AFTER_OCT = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
AFTER_NOV = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
FAST_RETRY = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.02)
_serial = itertools.count(1)


class SettleWorld:
    def __init__(self, pay_world):
        self.pay = pay_world
        self.app = pay_world.app
        self.emulator = pay_world.emulator
        # quick retries, one worker, no pacing: the app's settler with test settings
        registry_of(self.app).provide(
            Settler, replace(provided(Settler, self.app), retry=FAST_RETRY, workers=1, writes_per_second=None)
        )
        self.brand_id = 1

    # -- time ---------------------------------------------------------------------------------
    def at(self, when: datetime) -> datetime:
        self.pay.emulator_clock.now = int(when.timestamp())
        return when

    @property
    def now(self) -> datetime:
        return provided(Clock, self.app)()

    # -- people and money ---------------------------------------------------------------------------
    def creator(self, name: str, *, onboard: bool = True, connect: bool = True) -> int:
        with provided(Database, self.app).unit_of_work() as uow:
            user = User(
                email=f"{name}-{next(_serial)}@settle.example",
                display_name=name,
                password_hash="x",
                role="creator",
                created_at=self.now,
            )
            uow.session.add(user)
            uow.session.flush()
            creator_id = user.id
            if connect:
                account = provided(PaymentGateway, self.app).create_connected_account(
                    email=user.email, country="US", idempotency_key=f"creator-{creator_id}-account"
                )
                if onboard:
                    self.emulator.complete_onboarding(account.id)
                uow.session.add(
                    ConnectAccount(
                        creator_id=creator_id,
                        stripe_account_id=account.id,
                        country="US",
                        charges_enabled=onboard,
                        payouts_enabled=onboard,
                        details_submitted=onboard,
                        requirements_due=[],
                        created_at=self.now,
                        updated_at=self.now,
                    )
                )
            uow.commit()
        return creator_id

    def licence(self, *, holdback_days: int, currency: str = "USD") -> int:
        with provided(Database, self.app).unit_of_work() as uow:
            source = uow.session.exec(select(Licence).order_by(Licence.id)).first()
            data = source.model_dump(exclude={"id"})
            data.update(holdback_days=holdback_days, currency=currency)
            licence = Licence(**data)
            uow.session.add(licence)
            uow.commit()
            return licence.id

    def earn(self, creator_id: int, amount: int, currency: str = "USD", *, at: datetime, licence_id: int) -> None:
        """A use under ``licence_id`` credits the creator ``amount`` (no commission), effective ``at``."""
        draft = recipes.derivative_use(
            key=f"test-usage:{next(_serial)}",
            effective_at=at,
            currency=currency,
            price=amount,
            commission_bps=0,
            brand_id=self.brand_id,
            owners=[Owner(creator_id, 1)],
            meta={"licence_id": licence_id},
        )
        ledger = provided(Ledger, self.app)
        with provided(Database, self.app).unit_of_work() as uow:
            chart.open_accounts_for(ledger, uow.session, [draft])
            ledger.post(uow.session, draft, now=at)
            uow.commit()

    def fund(self, amount: int = 10_000_000, currency: str = "usd") -> None:
        self.emulator.add_platform_funds(amount, currency)

    # -- running ------------------------------------------------------------------------------------
    def settler(self, **overrides) -> Settler:
        return replace(provided(Settler, self.app), **overrides)

    def gateway(self) -> PaymentGateway:
        return provided(PaymentGateway, self.app)

    def settle(self, period: Period = OCT, *, now: datetime = AFTER_OCT, **kwargs):
        self.at(now)
        return self.settler().settle(period, now=now, actor="test", gateway=self.gateway(), **kwargs)

    def cli(self, *args: str, now: datetime = AFTER_OCT):
        self.at(now)
        return self.app.test_cli_runner().invoke(args=["settle", *args])

    # -- reading ------------------------------------------------------------------------------------
    def balance(self, code: str) -> int:
        """Signed balance; liabilities (payable, reserve) are credits, returned here as positive."""
        with provided(Database, self.app).unit_of_work() as uow:
            try:
                amount = provided(Ledger, self.app).balance(uow.session, code).minor
            except UnknownAccount:
                return 0
        return -amount if ":payable:" in code or ":reserve:" in code else amount

    def payable(self, creator_id: int, currency: str = "USD") -> int:
        return self.balance(chart.creator_payable(creator_id, currency))

    def reserve(self, creator_id: int, currency: str = "USD") -> int:
        return self.balance(chart.creator_reserve(creator_id, currency))

    def items(self, period: Period = OCT) -> dict[tuple[int, str], SettlementItem]:
        with provided(Database, self.app).unit_of_work() as uow:
            run = uow.session.exec(select(SettlementRun).where(SettlementRun.period == period.name)).first()
            if run is None:
                return {}
            rows = uow.session.exec(select(SettlementItem).where(SettlementItem.run_id == run.id)).all()
            uow.session.expunge_all()
            return {(r.creator_id, r.currency): r for r in rows}

    def run_row(self, period: Period = OCT) -> SettlementRun | None:
        with provided(Database, self.app).unit_of_work() as uow:
            run = uow.session.exec(select(SettlementRun).where(SettlementRun.period == period.name)).first()
            uow.session.expunge_all()
            return run

    def transfers(self) -> list[dict]:
        return self.emulator.objects("transfer")

    def transfer_writes(self) -> list[dict]:
        return self.emulator.requests("POST", "/v1/transfers")

    def entries(self, kind: str | None = None) -> list[tuple]:
        sql = "SELECT idempotency_key, kind FROM ledger_entry" + (" WHERE kind = :kind" if kind else "")
        with provided(Database, self.app).engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql + " ORDER BY seq"), {"kind": kind})]

    def assert_books_verify(self) -> None:
        with provided(Database, self.app).engine.connect() as conn:
            report = verify(conn, subject_key=provided(Ledger, self.app).subject_key)
        assert report.ok, report.problems[:5]

    def assert_one_transfer_per_paid_item(self, period: Period = OCT) -> None:
        """Every paid item has exactly one Stripe transfer, for its amount, to its creator's account."""
        paid = {i.id: i for i in self.items(period).values() if i.status in ("paid", "reversed", "partially_reversed")}
        transfers = [t for t in self.transfers() if t["transfer_group"] == transfer_group(period)]
        by_item: dict[str, list[dict]] = {}
        for t in transfers:
            by_item.setdefault(t["metadata"]["item_id"], []).append(t)
        assert sorted(by_item) == sorted(str(i) for i in paid), (by_item.keys(), paid.keys())
        for item_id, item in paid.items():
            (transfer,) = by_item[str(item_id)]
            assert transfer["id"] == item.transfer_id
            assert (transfer["amount"], transfer["currency"], transfer["destination"]) == (
                item.amount,
                item.currency.lower(),
                item.destination,
            )
        posted = {key for key, _ in self.entries("payout.transfer")}
        for item in self.items(period).values():  # one payout entry per attempt that reached Stripe
            keys = {payout_key(item.id, attempt) for attempt in range(1, item.attempt + 1)}
            assert (payout_key(item.id, item.attempt) in posted) == (item.entry_seq is not None)
            assert posted & keys <= keys
