"""Who is acting, from where: the identity every service call is authorised against."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import select

from app.db import UnitOfWork, id_of
from app.errors import Forbidden

from .models import Membership, User


@dataclass(frozen=True)
class Actor:
    user_id: int
    role: str
    org_ids: frozenset[int] = field(default_factory=frozenset)
    ip: str = ""
    user_agent: str = ""

    @property
    def is_staff(self) -> bool:
        """Admins and accountants read everything (read-only for accountants)."""
        return self.role in ("admin", "accountant")

    def require_role(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"This needs the {' or '.join(roles)} role.")


SYSTEM = Actor(user_id=0, role="system", ip="", user_agent="scheduler")


def actor_for(uow: UnitOfWork, user: User, *, ip: str = "", user_agent: str = "") -> Actor:
    org_ids = uow.session.exec(select(Membership.organisation_id).where(Membership.user_id == user.id)).all()
    return Actor(
        user_id=id_of(user),
        role=user.role,
        org_ids=frozenset(org_ids),
        ip=(ip or "")[:64],
        user_agent=(user_agent or "")[:500],
    )
