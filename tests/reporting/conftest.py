"""An app on SQLite and PostgreSQL holding the ledger story (``ledger_story``) and the
people who read it: an accountant, an admin, a brand member and the two creators of the
story (user ids 7 and 8, so creator id = user id), one with a Stripe connected account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone

import pytest
from sqlalchemy import text

from app.db import Database
from app.kit.registry import provided
from app.payments.models import ConnectAccount
from app.people.models import User
from ledger import Ledger
from tests.conftest import make_test_app
from tests.reporting.ledger_story import AVA, BEN, tell_story

PASSWORD = "reporting-test-password"
FAST_HASH = "pbkdf2:sha256:1000"
PEOPLE = {
    "fay": (1, "accountant"),
    "gus": (2, "admin"),
    "dana": (3, "brand"),
    "ava": (AVA, "creator"),
    "ben": (BEN, "creator"),
}
CREATED = datetime(2026, 8, 1, tzinfo=UTC)


@dataclass
class Books:
    app: object
    seqs: dict[str, int]
    client: object = field(init=False)

    def __post_init__(self):
        self.client = self.app.test_client()

    def login(self, who: str) -> None:
        self.client.post("/logout")
        response = self.client.post("/login", data={"email": f"{who}@reports.example", "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:300]

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers={"Accept": "text/html"}, **kwargs)

    @property
    def engine(self):
        return provided(Database, self.app).engine


def _people(session) -> None:
    from werkzeug.security import generate_password_hash

    hashed = generate_password_hash(PASSWORD, method=FAST_HASH)
    for name, (user_id, role) in PEOPLE.items():
        session.add(
            User(
                id=user_id,
                email=f"{name}@reports.example",
                display_name=name.capitalize(),
                password_hash=hashed,
                role=role,
                created_at=CREATED,
            )
        )
    session.flush()
    session.add(
        ConnectAccount(
            creator_id=BEN,
            stripe_account_id="acct_1BenReports",
            country="US",
            payouts_enabled=True,
            created_at=CREATED,
            updated_at=CREATED,
        )
    )


@pytest.fixture
def books(database_url, tmp_path, clock) -> Books:
    app = make_test_app(database_url, tmp_path, clock, WTF_CSRF_ENABLED=False, PASSWORD_HASH_METHOD=FAST_HASH)
    ledger = provided(Ledger, app)
    with provided(Database, app).unit_of_work() as uow:
        _people(uow.session)
        seqs = tell_story(ledger, uow.session)
        uow.commit()
    if provided(Database, app).engine.dialect.name == "postgresql":  # ids were given explicitly: move the sequence on
        with provided(Database, app).engine.begin() as conn:
            conn.execute(text("SELECT setval('mk_user_id_seq', (SELECT max(id) FROM mk_user))"))
    clock.set(datetime(2027, 1, 15, 12, tzinfo=UTC))
    yield Books(app, seqs)
    provided(Database, app).dispose()
