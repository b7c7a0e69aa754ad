"""Shared plumbing for the benchmarks: throwaway migrated databases and timers.

Every benchmark prints ratios measured in one run on one database, so the numbers
compare our code with the raw database on the same machine at the same moment.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app.migrate import upgrade

PG_URL = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@contextmanager
def scratch_database(kind: str):
    """A freshly migrated database (``sqlite`` file or ``postgresql`` database), dropped after."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            upgrade(url)
            yield url
        return
    name = f"cameo_bench_{uuid.uuid4().hex[:8]}"
    admin_info = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_info, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin_info, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def print_row(label: str, ours: float, raw: float, unit: str = "entries/s", target: str = "") -> None:
    ratio = ours / raw if raw else float("nan")
    print(
        f"  {label:<46} ours {ours:>10,.0f} {unit}   raw {raw:>10,.0f} {unit}   ratio {ratio:5.2f}"
        + (f"   (target {target})" if target else "")
    )
