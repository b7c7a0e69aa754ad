"""Settlement runs: plan a period once, then pay each item through a checkpointed state machine.

A run (``Settler.settle``) holds the settlement lock (``locks``) from start to end, then:

1. **plan** — if the period has no ``settlement_run`` row yet: ``planning.plan_lines``
   (one set-based query), ``payout_status`` for every creator in it, and in ONE
   transaction the run row, its items, the reserve hold/release entries and the
   ``refund.recovered`` entries that net earlier refunds against these earnings.  A run
   killed before that commit left nothing; after it, a restart finds the row and
   resumes.  ``on_step("run.planned")``.
2. **pay** every ``planned``/``posted``/``awaiting_funds`` item (``pay_item``), a
   commit after each step.  First the platform's available Stripe balance is read: an
   item it does not cover waits (``awaiting_funds``, nothing posted, the reason in
   words) and is paid by a later start of the run — the scheduler's
   ``settlement-awaiting-funds`` job — once the funds are there:

   a. post the payout entry (``payout:item:<id>``), status ``posted``, commit
      (``item.posted``) — the money leaves the payable before Stripe is asked;
   b. outside any transaction, ``create_transfer`` with idempotency key
      ``payout-item-<id>`` and ``transfer_group`` = the run's (``item.transferred``).
      Repeating it after a crash returns the same transfer, so nobody is paid twice;
      a resumed run first looks the group's transfers up by their ``ledger_key``
      metadata, which covers a restart after Stripe's 24-hour key expiry as well;
   c. record the transfer id, status ``paid``, commit (``item.paid``).

   A definitive refusal (invalid request, declined) reverses the payout entry — the
   amount is payable again — and marks the item ``failed`` (``item.failed``).
   Stripe's ``balance_insufficient`` reverses it too, but the item waits for funds
   (``item.awaiting_funds``) and its next try uses ``attempt + 1``: Stripe remembers
   the refusal under the old idempotency key.  Transient trouble (5xx, 429, timeouts,
   lost responses) is retried with bounded backoff; if it persists the item stays
   ``posted`` (``item.deferred``) and the next start of the run resumes it.
3. **finish** — counts and status: ``completed``, ``completed_with_failures`` or
   ``incomplete`` (items still to resume, or waiting for funds).

Every entry a run posts — payout, its failure reversal, reserve moves, recoveries —
names the period it settles (``meta.settles``): statements, the close report and the
exports show it in that period, whatever day the run made it (docs/settlement.md).

``on_step(step, view)`` observes every checkpoint (the CLI's progress bar, and the
crash test that kills the process at each step); views are detached snapshots.
``retry_failed`` re-plans a run's failed items with ``attempt + 1`` — new ledger and
Stripe keys (``…:<attempt>`` / ``…-<attempt>``) — and pays them the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Optional

from sqlalchemy import ARRAY, Integer, any_, cast, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.books import chart, recipes
from app.books.recoveries import recovery_drafts
from app.db import Database, UnitOfWork, get_existing, id_of, key_column
from app.payments.gateway import (
    GatewayUnavailable,
    InsufficientPlatformFunds,
    InvalidPaymentRequest,
    PaymentDeclined,
    PaymentError,
    PaymentGateway,
    PlatformBalance,
    RateLimited,
    Transfer,
)
from app.payments.models import ConnectAccount
from app.payments.payout_status import PayoutStatus, describe, payout_statuses
from ledger import EntryDraft, InsufficientBalance, Ledger, format_minor

from .errors import SettlementError, SettlementRefused
from .locks import DEFAULT_WAIT_SECONDS, settlement_lock
from .models import UNFINISHED_ITEM_STATUSES, SettlementItem, SettlementRun
from .planning import Decision, Period, decide, plan_lines, transfer_group

log = logging.getLogger(__name__)

STEPS = (
    "run.locked",
    "run.planned",
    "run.paying",
    "item.posted",
    "item.transferred",
    "item.paid",
    "item.failed",
    "item.awaiting_funds",
    "item.deferred",
    "run.finished",
)
DEFINITIVE_ERRORS = (InvalidPaymentRequest, PaymentDeclined)
TRANSIENT_ERRORS = (GatewayUnavailable, RateLimited)
MAX_ERROR_CHARS = 1000
DONE_RUN_STATUSES = ("completed", "completed_with_failures")


def _required(gateway: PaymentGateway | None) -> PaymentGateway:
    if gateway is None:
        raise SettlementError("payments are not configured (STRIPE_SECRET_KEY): nothing can be paid")
    return gateway


# -- keys (shared contracts: statements and reconciliation read these) ------------------------
def payout_key(item_id: int, attempt: int = 1) -> str:
    return f"payout:item:{item_id}" if attempt == 1 else f"payout:item:{item_id}:{attempt}"


def transfer_idempotency_key(item_id: int, attempt: int = 1) -> str:
    return f"payout-item-{item_id}" if attempt == 1 else f"payout-item-{item_id}-{attempt}"


def reserve_key(period: str, creator_id: int, currency: str) -> str:
    return f"settlement:{period}:reserve:{creator_id}:{currency}"


SETTLES = "settles"  # the metadata key naming the period a run's entry settles


def awaiting_funds_reason(amount: int, currency: str, balance: PlatformBalance | None) -> str:
    """Why an item waits, in the words its creator and the staff read."""
    need = f"{format_minor(amount, currency)} {currency}"
    if balance is None:
        return (
            f"Waiting for funds: Stripe reported that the platform's available balance does not cover {need} yet "
            "(card payments take a few days to become available). It is paid automatically when they are."
        )
    have = f"{format_minor(balance.available_in(currency), currency)} {currency}"
    pending = f"{format_minor(balance.pending_in(currency), currency)} {currency}"
    return (
        f"Waiting for funds: the platform's Stripe balance has {have} available and {pending} pending, "
        f"not enough for {need} yet (card payments take a few days to become available). "
        "It is paid automatically when they are."
    )


def statuses_of(session: Session, creator_ids: set[int]) -> dict[int, PayoutStatus]:
    """``payout_status`` for many creators in one query (PostgreSQL: one array parameter
    instead of an IN list of thousands of binds)."""
    if session.get_bind().dialect.name != "postgresql":
        return payout_statuses(session, sorted(creator_ids))
    rows = session.scalars(
        select(ConnectAccount).where(col(ConnectAccount.creator_id) == any_(cast(list(creator_ids), ARRAY(Integer))))
    ).all()
    by_creator = {row.creator_id: row for row in rows}
    return {creator_id: describe(by_creator.get(creator_id)) for creator_id in creator_ids}


def _run_id_of(item: ItemView) -> int:
    if item.run_id is None:  # only a dry run's items have none, and nothing pays them
        raise SettlementError("a planned item without its run cannot be paid")
    return item.run_id


# -- views ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemView:
    id: Optional[int]
    run_id: Optional[int]
    creator_id: int
    currency: str
    payable: int
    reserve: int
    amount: int
    status: str
    hold_reason: Optional[str] = None
    destination: Optional[str] = None
    attempt: int = 1
    transfer_id: Optional[str] = None
    entry_seq: Optional[int] = None
    reversal_seq: Optional[int] = None
    reversed_amount: int = 0
    last_error: Optional[str] = None
    recovered: int = 0

    @classmethod
    def of(cls, row: SettlementItem) -> ItemView:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass(frozen=True)
class RunView:
    id: int
    period: str
    status: str
    transfer_group: str
    item_count: int
    paid_count: int
    held_count: int
    below_minimum_count: int
    failed_count: int
    created_by: str
    created_at: datetime
    started_at: Optional[datetime]
    finished_at: Optional[datetime]

    @classmethod
    def of(cls, row: SettlementRun) -> RunView:
        return cls(**{f.name: getattr(row, f.name) for f in fields(cls)})


@dataclass
class CurrencySummary:
    paid: int = 0
    paid_amount: int = 0
    held: int = 0
    held_amount: int = 0
    below_minimum: int = 0
    below_minimum_amount: int = 0
    failed: int = 0
    failed_amount: int = 0
    pending: int = 0  # planned or posted: still to pay (a dry run's "would pay")
    pending_amount: int = 0
    awaiting_funds: int = 0
    awaiting_funds_amount: int = 0
    reserve: int = 0
    recovered: int = 0


@dataclass(frozen=True)
class RunReport:
    period: str
    run: Optional[RunView]
    items: tuple[ItemView, ...]
    dry_run: bool = False
    note: str = ""

    def by_currency(self) -> dict[str, CurrencySummary]:
        summary: dict[str, CurrencySummary] = defaultdict(CurrencySummary)
        for item in self.items:
            row = summary[item.currency]
            row.reserve += item.reserve
            row.recovered += item.recovered
            bucket = {
                "paid": "paid",
                "reversed": "paid",
                "partially_reversed": "paid",
                "held": "held",
                "below_minimum": "below_minimum",
                "failed": "failed",
                "awaiting_funds": "awaiting_funds",
            }.get(item.status, "pending")
            setattr(row, bucket, getattr(row, bucket) + 1)
            amount = item.amount - item.reversed_amount if bucket == "paid" else item.amount
            setattr(row, f"{bucket}_amount", getattr(row, f"{bucket}_amount") + amount)
        return dict(sorted(summary.items()))

    @property
    def failed(self) -> list[ItemView]:
        return [i for i in self.items if i.status == "failed"]

    @property
    def unfinished(self) -> list[ItemView]:
        return [i for i in self.items if i.status in UNFINISHED_ITEM_STATUSES]


Observer = Callable[[str, object], None]


def _ignore(_step: str, _subject: object) -> None:
    return None


# -- pacing and retries ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RetryPolicy:
    """Our retries of transient Stripe trouble, on top of the SDK's own."""

    attempts: int = 3
    first_delay: float = 0.5
    max_delay: float = 5.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.first_delay * 2.0 ** (attempt - 1))


class Pacer:
    """At most ``per_second`` Stripe writes from this process (evenly spaced, shared by threads)."""

    def __init__(self, per_second: float | None):
        self.interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


# -- the service ----------------------------------------------------------------------------------
@dataclass
class Settler:
    """Settles periods.  Built once per app (database, ledger, settings); the gateway is
    an argument of the calls that pay, so planning, dry runs and reports need none."""

    db: Database
    ledger: Ledger
    min_payout: Mapping[str, int]
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    workers: int = 1
    writes_per_second: Optional[float] = None
    lock_wait_seconds: float = DEFAULT_WAIT_SECONDS

    def __post_init__(self) -> None:
        self._pacer = Pacer(self.writes_per_second)
        self._periods: dict[int, str] = {}

    # ---- entry points ----
    def settle(
        self,
        period: Period,
        *,
        now: datetime,
        actor: str,
        gateway: PaymentGateway | None = None,
        dry_run: bool = False,
        on_step: Observer | None = None,
    ) -> RunReport:
        """Plan ``period`` (once) and pay what is due through ``gateway``; resume it if it
        was interrupted.  A dry run plans without writing anything and needs no gateway."""
        step = on_step or _ignore
        if period.ends_at > now:
            raise SettlementRefused(f"{period.name} is not over yet: it ends {period.ends_at:%Y-%m-%d %H:%M} UTC")
        if dry_run:
            return self._dry_run(period)
        gateway = _required(gateway)
        with settlement_lock(self.db.engine, wait_seconds=self.lock_wait_seconds):
            step("run.locked", None)
            run_id = self._find_or_plan(period, now, actor, step)
            return self._pay_run(gateway, run_id, now, step)

    def retry_failed(
        self,
        period: Period,
        *,
        now: datetime,
        actor: str,
        gateway: PaymentGateway | None = None,
        on_step: Observer | None = None,
    ) -> RunReport:
        """Pay a run's failed items again (attempt + 1), for creators who can be paid now."""
        step = on_step or _ignore
        gateway = _required(gateway)
        with settlement_lock(self.db.engine, wait_seconds=self.lock_wait_seconds):
            step("run.locked", None)
            with self.db.unit_of_work() as uow:
                run = self._run(uow, period.name)
                if run is None:
                    raise SettlementRefused(f"{period.name} has no settlement run to retry")
                self._refuse_if_later_run(uow, period)
                failed = uow.session.scalars(
                    select(SettlementItem)
                    .where(col(SettlementItem.run_id) == run.id, col(SettlementItem.status) == "failed")
                    .order_by(col(SettlementItem.id))
                    .with_for_update()
                ).all()
                if not failed:
                    raise SettlementRefused(f"{period.name} has no failed items to retry")
                statuses = statuses_of(uow.session, {i.creator_id for i in failed})
                for item in failed:
                    status = statuses[item.creator_id]
                    if not status.can_pay:
                        item.last_error = f"not retried: {status.hold_reason}"
                        continue
                    item.attempt += 1
                    item.status, item.destination = "planned", status.stripe_account_id
                    item.transfer_id = item.entry_seq = item.reversal_seq = item.last_error = None
                    item.reversed_amount, item.updated_at = 0, now
                log.info("settlement %s: retrying %d failed items (by %s)", period.name, len(failed), actor)
                uow.commit()
                run_id = id_of(run)
            return self._pay_run(gateway, run_id, now, step)

    def report(self, period: Period | str, *, note: str = "") -> RunReport:
        name = period.name if isinstance(period, Period) else period
        with self.db.unit_of_work() as uow:
            run = self._run(uow, name)
            if run is None:
                return RunReport(name, None, (), note=note or "no run for this period")
            items = uow.session.scalars(
                select(SettlementItem).where(col(SettlementItem.run_id) == run.id).order_by(col(SettlementItem.id))
            ).all()
            return RunReport(name, RunView.of(run), tuple(ItemView.of(i) for i in items), note=note)

    def last_settled_period(self) -> Period | None:
        """The latest period that has a run (finished or not)."""
        with self.db.unit_of_work() as uow:
            newest_first = select(col(SettlementRun.period)).order_by(col(SettlementRun.period).desc())
            latest = uow.session.scalars(newest_first).first()
        return Period.parse(latest) if latest else None

    def periods_awaiting_funds(self) -> list[Period]:
        """Periods whose runs have items waiting for the platform's funds, oldest first."""
        with self.db.unit_of_work() as uow:
            names = uow.session.scalars(
                select(col(SettlementRun.period))
                .join(SettlementItem, col(SettlementItem.run_id) == col(SettlementRun.id))
                .where(col(SettlementItem.status) == "awaiting_funds")
                .distinct()
                .order_by(col(SettlementRun.period))
            ).all()
        return [Period.parse(name) for name in names]

    def is_done(self, period: Period) -> bool:
        """Whether ``period``'s run finished (nothing left to pay or resume)."""
        with self.db.unit_of_work() as uow:
            run = self._run(uow, period.name)
            return run is not None and run.status in DONE_RUN_STATUSES

    # ---- planning ----
    @staticmethod
    def _run(uow: UnitOfWork, period: str) -> SettlementRun | None:
        return uow.session.scalars(select(SettlementRun).where(col(SettlementRun.period) == period)).first()

    @staticmethod
    def _refuse_if_later_run(uow: UnitOfWork, period: Period) -> None:
        later = uow.session.scalars(
            select(col(SettlementRun.period))
            .where(col(SettlementRun.period) > period.name)
            .order_by(col(SettlementRun.period))
        ).first()
        if later is not None:
            raise SettlementRefused(
                f"{later} is already settled; what {period.name} left unpaid is "
                f"carried into {later}'s run and later ones"
            )

    def _decisions(self, uow: UnitOfWork, period: Period) -> list[Decision]:
        lines = plan_lines(uow.session.connection(), period)
        return decide(lines, statuses_of(uow.session, {line.creator_id for line in lines}), self.min_payout)

    def _dry_run(self, period: Period) -> RunReport:
        existing = self.report(period)
        if existing.run is not None:
            return RunReport(
                period.name,
                existing.run,
                existing.items,
                dry_run=True,
                note=f"{period.name} is already planned ({existing.run.status}); nothing would be planned again",
            )
        with self.db.unit_of_work() as uow:  # read only: rolled back when it closes
            decisions = self._decisions(uow, period)
        items = tuple(
            ItemView(
                None,
                None,
                d.line.creator_id,
                d.line.currency,
                d.line.payable,
                d.line.reserve,
                d.line.amount,
                d.status,
                d.hold_reason,
                d.destination,
                recovered=d.line.recovered,
            )
            for d in decisions
        )
        return RunReport(period.name, None, items, dry_run=True, note="dry run: nothing was changed")

    def _find_or_plan(self, period: Period, now: datetime, actor: str, step: Observer) -> int:
        with self.db.unit_of_work() as uow:
            run = self._run(uow, period.name)
            if run is not None:
                return id_of(run)
            self._refuse_if_later_run(uow, period)
            decisions = self._decisions(uow, period)
            run = SettlementRun(
                period=period.name,
                period_start=period.starts_at,
                period_end=period.ends_at,
                transfer_group=transfer_group(period),
                status="planned",
                item_count=len(decisions),
                held_count=sum(d.status == "held" for d in decisions),
                below_minimum_count=sum(d.status == "below_minimum" for d in decisions),
                created_by=actor,
                created_at=now,
            )
            uow.session.add(run)
            try:
                uow.session.flush()
            except IntegrityError:  # a run that did not take the lock (should not happen)
                raise SettlementRefused(f"{period.name} already has a settlement run") from None
            reserve_seqs = self._move_reserves(uow, period, decisions, now)
            self._recover(uow, period, decisions, now)
            # the payouts will credit the platform's Stripe balance account of each currency
            chart.open_accounts(self.ledger, uow.session, {chart.stripe_clearing(d.line.currency) for d in decisions})
            if decisions:
                uow.session.execute(
                    insert(SettlementItem),
                    [
                        dict(
                            run_id=run.id,
                            creator_id=d.line.creator_id,
                            currency=d.line.currency,
                            payable=d.line.payable,
                            reserve=d.line.reserve,
                            amount=d.line.amount,
                            recovered=d.line.recovered,
                            reserve_entry_seq=reserve_seqs.get((d.line.creator_id, d.line.currency)),
                            status=d.status,
                            hold_reason=d.hold_reason,
                            destination=d.destination,
                            attempt=1,
                            reversed_amount=0,
                            created_at=now,
                            updated_at=now,
                        )
                        for d in decisions
                    ],
                )
            uow.commit()
            view = RunView.of(run)
        log.info(
            "settlement %s planned: %d items (%d held, %d below minimum)",
            period.name,
            view.item_count,
            view.held_count,
            view.below_minimum_count,
        )
        step("run.planned", view)
        return view.id

    def _move_reserves(
        self, uow: UnitOfWork, period: Period, decisions: list[Decision], now: datetime
    ) -> dict[tuple[int, str], int]:
        drafts: dict[tuple[int, str], EntryDraft] = {}
        for d in decisions:
            move, line = d.line.reserve_move, d.line
            if move == 0:
                continue
            recipe = recipes.holdback_to_reserve if move > 0 else recipes.reserve_release
            drafts[(line.creator_id, line.currency)] = recipe(
                key=reserve_key(period.name, line.creator_id, line.currency),
                effective_at=now,
                currency=line.currency,
                amount=abs(move),
                creator_id=line.creator_id,
                memo=f"settlement {period.name}: reserve {'held' if move > 0 else 'released'}",
                meta={"period": period.name, SETTLES: period.name, "creator_id": line.creator_id},
            )
        if not drafts:
            return {}
        chart.open_accounts_for(self.ledger, uow.session, drafts.values())
        posted = self.ledger.post_batch(uow.session, list(drafts.values()), now=now)
        return {key: entry.seq for key, entry in zip(drafts, posted, strict=True)}

    def _recover(self, uow, period: Period, decisions, now: datetime) -> None:
        """Net what creators owe after earlier refunds against this run's earnings (oldest refund first)."""
        drafts = [
            draft
            for d in decisions
            if d.line.recovered
            for draft in recovery_drafts(
                uow.session.connection(),
                period=period.name,
                creator_id=d.line.creator_id,
                currency=d.line.currency,
                amount=d.line.recovered,
                effective_at=now,
                meta={"period": period.name, SETTLES: period.name},
            )
        ]
        if drafts:
            chart.open_accounts_for(self.ledger, uow.session, drafts)
            self.ledger.post_batch(uow.session, drafts, now=now)

    # ---- paying ----
    def _pay_run(self, gateway: PaymentGateway, run_id: int, now: datetime, step: Observer) -> RunReport:
        with self.db.unit_of_work() as uow:
            run = get_existing(uow.session, SettlementRun, run_id, with_for_update=True)
            period, group = run.period, run.transfer_group
            todo = uow.session.scalars(
                select(key_column(SettlementItem.id))
                .where(col(SettlementItem.run_id) == run_id, col(SettlementItem.status).in_(UNFINISHED_ITEM_STATUSES))
                .order_by(col(SettlementItem.id))
            ).all()
            done = run.status if not todo and run.status in DONE_RUN_STATUSES else None
            if todo:
                run.status, run.started_at = "paying", run.started_at or now
                uow.commit()
        if done:
            return self.report(period, note=f"{period} was already settled ({done}); nothing to do")
        step("run.paying", len(todo))
        self._recover_transfers(gateway, run_id, group, now, step)
        todo = self._within_funds(gateway, todo, now, step)
        if self.workers > 1 and len(todo) > 1:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="settle") as pool:
                list(pool.map(lambda item_id: self.pay_item(gateway, item_id, now, step), todo))
        else:
            for item_id in todo:
                self.pay_item(gateway, item_id, now, step)
        view = self._finish(run_id, now)
        step("run.finished", view)
        return self.report(period)

    def _finish(self, run_id: int, now: datetime) -> RunView:
        with self.db.unit_of_work() as uow:
            run = get_existing(uow.session, SettlementRun, run_id, with_for_update=True)
            counts: dict[str, int] = dict(
                uow.session.execute(
                    select(col(SettlementItem.status), func.count())
                    .where(col(SettlementItem.run_id) == run_id)
                    .group_by(col(SettlementItem.status))
                ).all()
            )
            run.item_count = sum(counts.values())
            run.paid_count = sum(counts.get(s, 0) for s in ("paid", "reversed", "partially_reversed"))
            run.held_count, run.below_minimum_count = counts.get("held", 0), counts.get("below_minimum", 0)
            run.failed_count = counts.get("failed", 0)
            if any(counts.get(s) for s in UNFINISHED_ITEM_STATUSES):
                run.status = "incomplete"
            else:
                run.status = "completed_with_failures" if run.failed_count else "completed"
                run.finished_at = now
            uow.commit()
            return RunView.of(run)

    def _within_funds(self, gateway: PaymentGateway, todo, now: datetime, step: Observer) -> list[int]:
        """The items to pay now: those not posted yet wait (``awaiting_funds``) where the
        platform's available balance does not cover them, the rest are paid in id order.
        An item posted already may have its transfer: it always goes ahead."""
        try:
            balance = gateway.retrieve_balance()
        except PaymentError as exc:  # Stripe's own answer to the transfer still protects us
            log.warning("settlement: could not read the platform balance (%s); paying without a check", exc)
            balance = None
        budget = dict(balance.available) if balance is not None else None
        go: list[int] = []
        for item_id in todo:
            with self.db.unit_of_work() as uow:
                item = get_existing(uow.session, SettlementItem, item_id, with_for_update=True)
                if item.status not in UNFINISHED_ITEM_STATUSES:
                    continue
                if item.status == "posted" or budget is None:
                    if item.status == "awaiting_funds":
                        self._ready_to_pay(item, now)
                        uow.commit()
                    go.append(item_id)
                    continue
                left = budget.get(item.currency, 0)
                if item.amount <= left:
                    budget[item.currency] = left - item.amount
                    if item.status == "awaiting_funds":
                        self._ready_to_pay(item, now)
                        uow.commit()
                    go.append(item_id)
                    continue
                reason = awaiting_funds_reason(item.amount, item.currency, balance)
                changed = item.status != "awaiting_funds" or item.last_error != reason
                item.status, item.last_error, item.updated_at = "awaiting_funds", reason, now
                uow.commit()
                view = ItemView.of(item)
            if changed:
                log.info("settlement item %s waits for funds: %s", item_id, reason)
            step("item.awaiting_funds", view)
        return go

    @staticmethod
    def _ready_to_pay(item: SettlementItem, now: datetime) -> None:
        """An item waiting for funds goes back to ``planned``; a next attempt (new keys)
        when Stripe already refused the last one (its payout entry was reversed)."""
        if item.reversal_seq is not None:
            item.attempt += 1
            item.transfer_id = item.entry_seq = item.reversal_seq = None
        item.status, item.last_error, item.updated_at = "planned", None, now

    def _recover_transfers(
        self, gateway: PaymentGateway, run_id: int, group: str, now: datetime, step: Observer
    ) -> None:
        """Items left ``posted`` by an interrupted run: record transfers Stripe already made."""
        with self.db.unit_of_work() as uow:
            posted = {
                payout_key(id_of(i), i.attempt): id_of(i)
                for i in uow.session.scalars(
                    select(SettlementItem).where(
                        col(SettlementItem.run_id) == run_id, col(SettlementItem.status) == "posted"
                    )
                )
            }
        if not posted:
            return
        try:
            made = [t for t in gateway.list_transfers(transfer_group=group) if t.metadata.get("ledger_key") in posted]
        except PaymentError as exc:  # the idempotency keys still protect the retry
            log.warning("settlement: could not list transfers of %s (%s); relying on idempotency keys", group, exc)
            return
        for transfer in made:
            self._record_transfer(posted[transfer.metadata["ledger_key"]], transfer, now, step)

    def pay_item(self, gateway: PaymentGateway, item_id: int, now: datetime, step: Observer = _ignore) -> None:
        """Take one item from ``planned``/``posted`` as far as it can go (see the module docstring)."""
        with self.db.unit_of_work() as uow:
            item = get_existing(uow.session, SettlementItem, item_id, with_for_update=True)
            if item.status == "planned":
                try:
                    entry = self.ledger.post(uow.session, self._payout_draft(uow, item, now), now=now)
                except InsufficientBalance:
                    uow.rollback()
                    self._fail(
                        item_id,
                        "the creator's payable no longer covers this amount (refunds since "
                        "planning?); it stays payable",
                        now,
                        step,
                        reverse=False,
                    )
                    return
                item.status, item.entry_seq, item.updated_at = "posted", entry.seq, now
                uow.commit()
                step("item.posted", ItemView.of(item))
            elif item.status != "posted":
                return
            view = ItemView.of(item)
        try:
            transfer = self._transfer(gateway, view)
        except InsufficientPlatformFunds:
            reason = awaiting_funds_reason(view.amount, view.currency, None)
            self._fail(item_id, reason, now, step, status="awaiting_funds")
            return
        except DEFINITIVE_ERRORS as exc:
            self._fail(item_id, f"Stripe refused the transfer: {type(exc).__name__}: {exc}", now, step)
            return
        except PaymentError as exc:
            with self.db.unit_of_work() as uow:
                item = get_existing(uow.session, SettlementItem, item_id, with_for_update=True)
                item.last_error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
                item.updated_at = now
                uow.commit()
                deferred = ItemView.of(item)
            log.warning("settlement item %s deferred: %s", item_id, exc)
            step("item.deferred", deferred)
            return
        step("item.transferred", view)
        self._record_transfer(item_id, transfer, now, step)

    def _payout_draft(self, uow: UnitOfWork, item: SettlementItem, now: datetime) -> EntryDraft:
        run = get_existing(uow.session, SettlementRun, item.run_id)
        return recipes.payout_transfer(
            key=payout_key(id_of(item), item.attempt),
            effective_at=now,
            currency=item.currency,
            amount=item.amount,
            creator_id=item.creator_id,
            memo=f"settlement {run.period}: payout to creator {item.creator_id}",
            meta={
                "period": run.period,
                SETTLES: run.period,
                "item_id": item.id,
                "creator_id": item.creator_id,
                "transfer_group": run.transfer_group,
            },
        )

    def _transfer(self, gateway: PaymentGateway, item: ItemView) -> Transfer:
        item_id, period = id_of(item), self._period_of(_run_id_of(item))
        for attempt in range(1, self.retry.attempts + 1):
            self._pacer.wait()
            try:
                return gateway.create_transfer(
                    amount=item.amount,
                    currency=item.currency,
                    destination=item.destination or "",
                    idempotency_key=transfer_idempotency_key(item_id, item.attempt),
                    transfer_group=f"settlement-{period}",
                    metadata={
                        "item_id": str(item_id),
                        "ledger_key": payout_key(item_id, item.attempt),
                        "period": period,
                    },
                )
            except TRANSIENT_ERRORS:
                if attempt == self.retry.attempts:
                    raise
                self.retry.sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")

    def _period_of(self, run_id: int) -> str:
        period = self._periods.get(run_id)
        if period is None:
            with self.db.unit_of_work() as uow:
                period = self._periods[run_id] = get_existing(uow.session, SettlementRun, run_id).period
        return period

    def _record_transfer(self, item_id: int, transfer: Transfer, now: datetime, step: Observer) -> None:
        with self.db.unit_of_work() as uow:
            item = get_existing(uow.session, SettlementItem, item_id, with_for_update=True)
            if item.transfer_id is None:
                item.transfer_id = transfer.id
            if item.status == "posted":  # a reversal webhook may have been first
                item.status = "paid"
            item.last_error, item.updated_at = None, now
            uow.commit()
            view = ItemView.of(item)
        step("item.paid", view)

    def _fail(
        self,
        item_id: int,
        error: str,
        now: datetime,
        step: Observer,
        *,
        reverse: bool = True,
        status: str = "failed",
    ) -> None:
        """The transfer did not happen: reverse the payout entry (the money is payable
        again; the pair never touched Stripe, ``meta.transfer_failed``) and mark the item
        ``status`` — ``failed``, or ``awaiting_funds`` when Stripe lacked available funds."""
        with self.db.unit_of_work() as uow:
            item = get_existing(uow.session, SettlementItem, item_id, with_for_update=True)
            if item.status not in UNFINISHED_ITEM_STATUSES:
                return
            if reverse and item.entry_seq is not None:
                run = get_existing(uow.session, SettlementRun, item.run_id)
                reversal = self.ledger.reverse(
                    uow.session,
                    item.entry_seq,
                    idempotency_key=payout_key(id_of(item), item.attempt) + ":failed",
                    now=now,
                    memo=f"payout item {item.id} not transferred: back to the payable",
                    meta={
                        "item_id": item.id,
                        "creator_id": item.creator_id,
                        SETTLES: run.period,
                        "transfer_failed": True,
                    },
                )
                item.reversal_seq = reversal.seq
            item.status, item.last_error, item.updated_at = status, error[:MAX_ERROR_CHARS], now
            uow.commit()
            view = ItemView.of(item)
        log.warning("settlement item %s %s: %s", item_id, status, error)
        step("item.failed" if status == "failed" else "item.awaiting_funds", view)
