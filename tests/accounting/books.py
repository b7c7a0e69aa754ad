"""Arranging a month of activity on a ``PayWorld`` (tests/payments/harness.py): licence
sales paid through the emulator's Checkout, usage reported through the API, and
settlement payouts.

``pay_out`` stands in for the settlement run (branch ``settle``) and follows its shared
contract exactly: the ledger entry ``payout:item:<id>`` (recipe ``payout_transfer``,
meta period/item_id/creator_id/transfer_group) and the Stripe Transfer in group
``settlement-YYYY-MM`` with idempotency key ``payout-item-<id>`` and metadata
item_id/ledger_key/period.  Its ``ledger``/``stripe`` switches and the Stripe-side
overrides inject the discrepancies reconciliation must find.  Swap it for the real
settlement run once that lands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone

from app.books import chart, recipes
from app.clock import Clock
from app.db import Database
from app.kit.registry import provided
from ledger import Ledger

SHA = "cd" * 32


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Payout:
    item_id: int
    seq: int | None
    transfer_id: str | None


@dataclass
class Books:
    world: object
    accounts: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        self.world.forward()
        self.world.app.config["RATELIMIT_ENABLED"] = False

    # -- time ------------------------------------------------------------------------------
    def at(self, when: datetime) -> datetime:
        self.world.emulator_clock.now = int(when.timestamp())
        return when

    def now(self) -> datetime:
        return provided(Clock, self.world.app)()

    @property
    def app(self):
        return self.world.app

    @property
    def users(self) -> dict[str, int]:
        return self.world.users

    # -- money in ------------------------------------------------------------------------------
    def sale(self, fee: int, *, like: int = 3, brand: str = "eli", deliver: bool = True) -> int:
        """A licence (a copy of demo licence ``like``) paid through Checkout; webhooks delivered."""
        licence_id = self.world.signed_licence(like=like, fee=fee)
        self.world.pay(licence_id, brand)
        if deliver:
            report = self.world.deliver()
            assert report.failed == [], report
        return licence_id

    def usage(self, event_id: str, quantity: int, *, licence_id: int = 3, brand: str = "eli"):
        body = {
            "licence_id": licence_id,
            "event_id": event_id,
            "kind": "render",
            "quantity": quantity,
            "occurred_at": self.now().isoformat().replace("+00:00", "Z"),
            "territory": "GB",
            "media": "web",
            "content_sha256": SHA,
        }
        return self.world.api(brand, "POST", "/usage", json=body)

    # -- money out -------------------------------------------------------------------------------
    def connected_account(self, creator_id: int) -> str:
        if creator_id not in self.accounts:
            account = self.world.gateway.create_connected_account(
                email=f"creator-{creator_id}@example.com", country="US", idempotency_key=f"test-acct-{creator_id}"
            )
            self.world.emulator.complete_onboarding(account.id)
            self.accounts[creator_id] = account.id
        return self.accounts[creator_id]

    def pay_out(
        self,
        item_id: int,
        creator_id: int,
        amount: int,
        currency: str = "USD",
        *,
        period: str,
        ledger: bool = True,
        stripe: bool = True,
        stripe_amount: int | None = None,
        stripe_currency: str | None = None,
        ledger_key: str | None = "contract",
    ) -> Payout:
        """One settlement payout item, by the shared contract (see the module docstring)."""
        key, group = f"payout:item:{item_id}", f"settlement-{period}"
        seq = transfer_id = None
        if ledger:
            draft = recipes.payout_transfer(
                key=key,
                effective_at=self.now(),
                currency=currency,
                amount=amount,
                creator_id=creator_id,
                memo=f"payout item {item_id}",
                meta={"period": period, "item_id": item_id, "creator_id": creator_id, "transfer_group": group},
            )
            with provided(Database, self.app).unit_of_work() as uow:
                chart.open_accounts_for(provided(Ledger, self.app), uow.session, [draft])
                seq = provided(Ledger, self.app).post(uow.session, draft, now=self.now()).seq
                uow.commit()
        if stripe:
            metadata = {"item_id": str(item_id), "period": period}
            if ledger_key:
                metadata["ledger_key"] = key if ledger_key == "contract" else ledger_key
            transfer = self.world.gateway.create_transfer(
                amount=stripe_amount or amount,
                currency=stripe_currency or currency,
                destination=self.connected_account(creator_id),
                idempotency_key=f"payout-item-{item_id}",
                transfer_group=group,
                metadata=metadata,
            )
            transfer_id = transfer.id
        return Payout(item_id, seq, transfer_id)

    def reverse_payout(self, payout: Payout) -> int:
        """The transfer reversed in Stripe and the payout entry reversed in the ledger (contract)."""
        self.world.gateway.reverse_transfer(
            payout.transfer_id, idempotency_key=f"payout-item-{payout.item_id}-reversal"
        )
        with provided(Database, self.app).unit_of_work() as uow:
            posted = provided(Ledger, self.app).reverse(
                uow.session, payout.seq, now=self.now(), idempotency_key=f"payout:item:{payout.item_id}:reversal"
            )
            uow.commit()
        return posted.seq

    # -- reading ------------------------------------------------------------------------------------
    def rows(self, sql: str, **params) -> list[tuple]:
        from sqlalchemy import text

        with provided(Database, self.app).engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]

    def entry_seq(self, key: str) -> int:
        return self.rows("SELECT seq FROM ledger_entry WHERE idempotency_key = :k", k=key)[0][0]
