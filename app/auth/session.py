"""Who is signed in to the web UI: what Flask-Login keeps of a person (never the
password hash), loaded again on every request from the user row."""

from __future__ import annotations

from flask_login import UserMixin

from app.db import Database
from app.kit.registry import provided
from app.people.models import User


class SessionUser(UserMixin):
    def __init__(self, user: User):
        self.id = user.id
        self.email = user.email
        self.display_name = user.display_name
        self.role = user.role

    def get_id(self) -> str:
        return str(self.id)


def load_user(user_id: str) -> SessionUser | None:
    if not user_id.isdigit():
        return None
    with provided(Database).unit_of_work() as uow:
        user = uow.session.get(User, int(user_id))
        return SessionUser(user) if user is not None and user.is_active else None
