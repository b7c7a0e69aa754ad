"""Who may read which statement, and the statement with names instead of ids.

Creators read their own statements only (someone else's is 404: it does not say
whether that creator exists); accountants and admins read any creator's; brands
none (403).  A period is a calendar month in UTC written ``YYYY-MM``; anything else
is a 400 that names the expected form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from app.accounting.periods import period_in_address
from app.books import statements as ledger_statements
from app.books.statements import Statement
from app.db import UnitOfWork, id_of
from app.errors import Forbidden, NotFound, Problem
from app.marketplace.models import Cameo, Licence
from app.payments.payout_status import PayoutStatus, payout_status
from app.people.actors import Actor
from app.people.models import Organisation, User
from app.settlement.explain import explain, settlement_item, still_paying
from ledger.money import CURRENCY_EXPONENTS
from ledger.periods import Period

DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True)
class MonthLink:
    period: str
    currencies: tuple[str, ...]


@dataclass(frozen=True)
class CreatorStatement:
    """A ledger statement plus what a reader needs to make sense of it."""

    statement: Statement
    period: Period
    creator_id: int
    creator_name: str
    currencies: tuple[str, ...]  # other currencies with activity in this period
    licences: dict[int, str]  # licence id → "Licence #3 · cameo title"
    brands: dict[int, str]  # brand organisation id → name
    payout: PayoutStatus
    open_period: bool  # the period has not ended yet: figures may still change
    settlement: str | None = None  # what this period's settlement run did, in words
    still_paying: int = 0  # what this period's run has yet to pay (part of the closing payable)

    @property
    def carried_forward(self) -> int:
        """What is left payable for a later run: the closing payable, less what this period's
        run is still paying (its payouts already belong to this period's lines)."""
        return max(self.statement.closing.payable - self.still_paying, 0)


def readable_creator(uow: UnitOfWork, actor: Actor, creator_id: int) -> User:
    """The creator whose statements ``actor`` may read, or 403/404."""
    if not actor.is_staff and actor.role != "creator":
        raise Forbidden("Statements are for creators, accountants and admins.")
    user = uow.session.get(User, creator_id)
    if (not actor.is_staff and creator_id != actor.user_id) or user is None or user.role != "creator":
        raise NotFound("No statements for this creator.")
    return user


def periods(uow: UnitOfWork, actor: Actor, creator_id: int) -> list[MonthLink]:
    """The months with activity on the creator's accounts, newest first, with their currencies."""
    readable_creator(uow, actor, creator_id)
    months: dict[str, list[str]] = {}
    for active in ledger_statements.months_with_activity(uow.session.connection(), creator_id):
        months.setdefault(active.month, []).append(active.currency)
    return [MonthLink(month, tuple(currencies)) for month, currencies in months.items()]


def creators(uow: UnitOfWork, actor: Actor) -> list[User]:
    """Every creator, for the staff's index of statements."""
    if not actor.is_staff:
        raise Forbidden("Only accountants and admins see every creator's statements.")
    return list(uow.session.exec(select(User).where(User.role == "creator").order_by(col(User.display_name))).all())


def creator_statement(
    uow: UnitOfWork, actor: Actor, now: datetime, creator_id: int, period_text: str, currency: str | None = None
) -> CreatorStatement:
    user = readable_creator(uow, actor, creator_id)
    period = period_in_address(period_text)
    conn = uow.session.connection()
    active = ledger_statements.months_with_activity(conn, creator_id)
    in_period = tuple(a.currency for a in active if a.month == period.name)
    if currency is None:
        currency = (in_period or tuple(sorted({a.currency for a in active})) or (DEFAULT_CURRENCY,))[0]
    elif currency.upper() not in CURRENCY_EXPONENTS:
        raise Problem(
            f"{currency[:10]!r} is not a currency code (ISO 4217, e.g. USD).", status=400, title="Bad currency"
        )
    statement = ledger_statements.creator_statement(
        conn, creator_id, currency.upper(), period.starts_at, period.ends_at
    )
    item = settlement_item(uow.session, period.name, creator_id, currency.upper())
    return CreatorStatement(
        statement=statement,
        period=period,
        creator_id=id_of(user),
        creator_name=user.display_name,
        currencies=in_period,
        licences=_licence_names(uow, {l.licence_id for l in statement.lines if l.licence_id is not None}),
        brands=_brand_names(uow, {l.brand_id for l in statement.lines if l.brand_id is not None}),
        payout=payout_status(uow.session, creator_id),
        open_period=now < period.ends_at,
        settlement=explain(item, period.name),
        still_paying=still_paying(item),
    )


def _licence_names(uow: UnitOfWork, licence_ids: set[int]) -> dict[int, str]:
    if not licence_ids:
        return {}
    rows = uow.session.exec(
        select(Licence.id, Cameo.title)
        .join(Cameo, col(Cameo.id) == Licence.cameo_id)
        .where(col(Licence.id).in_(licence_ids))
    ).all()
    found = {licence_id: f"Licence #{licence_id} · {title}" for licence_id, title in rows}
    return {licence_id: found.get(licence_id, f"Licence #{licence_id}") for licence_id in licence_ids}


def _brand_names(uow: UnitOfWork, org_ids: set[int]) -> dict[int, str]:
    if not org_ids:
        return {}
    found = dict(
        uow.session.exec(select(Organisation.id, Organisation.name).where(col(Organisation.id).in_(org_ids))).all()
    )
    return {org_id: found.get(org_id, f"Brand #{org_id}") for org_id in org_ids}
