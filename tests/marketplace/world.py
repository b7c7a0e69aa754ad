"""The seeded marketplace behind the API tests: the demo data of ``cameo seed``, an
API token for every demo person, and a fingerprint of every marketplace row to prove that a
refused request changed nothing.

The demo world (seed_data/demo.json), by short name:
  ava   creator  cameo 1 "Ava - warm studio portrait" (licensed; offers 1 and 2)
  ben   creator  cameo 2 "Ben - baritone narrator" (licensed; co-owned 70/30 with chloe; offer 3)
  chloe creator  cameo 3 "Miso the shiba" (approved_brands: Northwind; offer 4); co-owner of cameo 2
  dana  brand    Northwind Outdoor (org 1)   licence 1 on cameo 1 — active
  eli   brand    Lumen Studios (org 2)       licence 2 on cameo 1 — requested; licence 3 on cameo 2 — active
  fay   accountant
  gus   admin
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from app.clock import Clock
from app.db import Database
from app.kit.registry import provided
from app.people import accounts
from app.people.actors import actor_for
from app.people.models import User
from app.seed import seed_demo
from tests.conftest import FrozenClock, make_test_app

PEOPLE = {
    "ava": "ava@creators.example",
    "ben": "ben@creators.example",
    "chloe": "chloe@creators.example",
    "dana": "dana@northwind.example",
    "eli": "eli@lumen.example",
    "fay": "fay@books.example",
    "gus": "gus@cameo.example",
}
FAST_HASH = {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
# A token's last_used_at moves (at most once a minute); everything else must stay put when a request is refused.
VOLATILE = {"mk_api_token"}


@pytest.fixture(scope="session")
def seeded_template(sqlite_template, tmp_path_factory):
    """A migrated and seeded SQLite file plus its instance folder, made once per session."""
    root = tmp_path_factory.mktemp("seeded")
    shutil.copyfile(sqlite_template, root / "cameo.db")
    app = make_test_app(f"sqlite:///{root / 'cameo.db'}", root, FrozenClock(), **FAST_HASH)
    with app.app_context():
        seed_demo(app, now=provided(Clock, app)())
        with provided(Database).unit_of_work() as uow:
            tokens = {}
            for short, email in PEOPLE.items():
                user = uow.session.exec(select(User).where(User.email == email)).one()
                tokens[short] = accounts.issue_token(uow, actor_for(uow, user), provided(Clock, app)(), name="tests")[1]
            uow.commit()
    provided(Database, app).dispose()
    return root, tokens


@dataclass
class World:
    app: object
    tokens: dict[str, str]
    clock: FrozenClock
    client: object = field(init=False)

    def __post_init__(self):
        self.client = self.app.test_client()

    def headers(self, who: str | None, **extra) -> dict:
        base = {"User-Agent": f"pytest-{who}"}
        if who:
            base["Authorization"] = f"Bearer {self.tokens[who]}"
        return base | extra

    def call(self, who: str | None, method: str, path: str, **kwargs):
        return self.client.open(f"/api/v1{path}", method=method.upper(), headers=self.headers(who), **kwargs)

    def sql(self, statement: str, **params):
        with provided(Database, self.app).engine.connect() as conn:
            return conn.execute(text(statement), params).all()

    def fingerprint(self) -> str:
        """A hash of every marketplace row (but token last-use times)."""
        engine = provided(Database, self.app).engine
        digest = hashlib.sha256()
        with engine.connect() as conn:
            for table in sorted(inspect(engine).get_table_names()):
                if (table.startswith("mk_") or table.startswith("ledger_")) and table not in VOLATILE:
                    rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                    digest.update(json.dumps([table, [list(map(str, r)) for r in rows]]).encode())
        return digest.hexdigest()

    def services(self):
        """A unit of work for asserting on rows or driving services the API does not expose."""
        return provided(Database, self.app).unit_of_work()


@pytest.fixture
def world(seeded_template, tmp_path, clock) -> World:
    root, tokens = seeded_template
    shutil.copyfile(root / "cameo.db", tmp_path / "cameo.db")
    if (root / "instance").exists():
        shutil.copytree(root / "instance", tmp_path / "instance")
    app = make_test_app(f"sqlite:///{tmp_path / 'cameo.db'}", tmp_path, clock, **FAST_HASH)
    yield World(app=app, tokens=tokens, clock=clock)
    provided(Database, app).dispose()


def problem(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    return body
