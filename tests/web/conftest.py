"""Web fixtures: the demo marketplace of ``cameo seed`` (seed_data/demo.json) on a
migrated SQLite copy, and a test client that logs in as any demo person.

By short name: ava (creator; cameo 1, offers 1–2), ben (creator; cameo 2, co-owned with
chloe; offer 3), chloe (creator; cameo 3 for approved brands), dana (brand, Northwind,
org 1: licence 1 active), eli (brand, Lumen, org 2: licence 2 requested, licence 3
active), fay (accountant), gus (admin).  CSRF is off for most page tests (a test of
its own turns it on); the password is demo.json's.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import select

from app.clock import Clock
from app.db import Database
from app.kit.registry import provided
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
PASSWORD = json.loads((Path(__file__).resolve().parents[2] / "seed_data" / "demo.json").read_text())["password"]
FAST_HASH = {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
    b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
WEBM = b"\x1a\x45\xdf\xa3" + b"liveness recording for the web tests" + bytes(64)


@pytest.fixture(scope="session")
def web_seeded(sqlite_template, tmp_path_factory) -> Path:
    """A migrated, seeded SQLite file and its instance folder (uploads), made once."""
    root = tmp_path_factory.mktemp("web-seeded")
    shutil.copyfile(sqlite_template, root / "cameo.db")
    app = make_test_app(f"sqlite:///{root / 'cameo.db'}", root, FrozenClock(), **FAST_HASH)
    with app.app_context():
        seed_demo(app, now=provided(Clock, app)())
    provided(Database, app).dispose()
    return root


def seeded_copy(web_seeded: Path, target: Path) -> str:
    shutil.copyfile(web_seeded / "cameo.db", target / "cameo.db")
    if (web_seeded / "instance").exists():
        shutil.copytree(web_seeded / "instance", target / "instance")
    return f"sqlite:///{target / 'cameo.db'}"


@dataclass
class Site:
    app: object
    clock: FrozenClock
    client: object = field(init=False)

    def __post_init__(self):
        self.client = self.app.test_client()

    def login(self, who: str):
        """Log in through the real form (CSRF token taken from the page when CSRF is on)."""
        self.client.post("/logout", data={"csrf_token": self.csrf("/")})
        response = self.client.post(
            "/login", data={"email": PEOPLE[who], "password": PASSWORD, "csrf_token": self.csrf("/login")}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        return response

    def csrf(self, path: str) -> str:
        if not self.app.config.get("WTF_CSRF_ENABLED", True):
            return ""
        found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', self.get(path).get_data(as_text=True))
        return found.group(1) if found else ""

    def get(self, path: str, **kwargs):
        return self.client.get(path, headers={"User-Agent": "pytest-web", "Accept": "text/html"}, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs):
        return self.client.post(
            path, data=data or {}, headers={"User-Agent": "pytest-web", "Accept": "text/html"}, **kwargs
        )

    def sql(self, statement: str, **params):
        with provided(Database, self.app).engine.connect() as conn:
            return conn.execute(text(statement), params).all()

    @contextmanager
    def services(self, who: str):
        """A unit of work and a demo person's ``Actor``, to arrange data through the services."""
        with self.app.app_context(), provided(Database, self.app).unit_of_work() as uow:
            user = uow.session.exec(select(User).where(User.email == PEOPLE[who])).one()
            yield uow, actor_for(uow, user, ip="127.0.0.1", user_agent="pytest-web")

    def fingerprint(self) -> str:
        """A hash of every marketplace and ledger row: proves a refused form wrote nothing."""
        engine = provided(Database, self.app).engine
        digest = hashlib.sha256()
        with engine.connect() as conn:
            for table in sorted(inspect(engine).get_table_names()):
                if table.startswith(("mk_", "ledger_")):
                    rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
                    digest.update(json.dumps([table, [list(map(str, r)) for r in rows]]).encode())
        return digest.hexdigest()


def _site(web_seeded, tmp_path, clock, **extra) -> Site:
    app = make_test_app(seeded_copy(web_seeded, tmp_path), tmp_path, clock, **FAST_HASH, **extra)
    return Site(app=app, clock=clock)


@pytest.fixture
def site(web_seeded, tmp_path, clock):
    made = _site(web_seeded, tmp_path, clock, WTF_CSRF_ENABLED=False)
    yield made
    provided(Database, made.app).dispose()


@pytest.fixture
def csrf_site(web_seeded, tmp_path, clock):
    made = _site(web_seeded, tmp_path, clock)
    yield made
    provided(Database, made.app).dispose()


def html(response) -> str:
    return response.get_data(as_text=True)
