"""The lock that lets one settlement run at a time, and dies with its process.

* PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a
  connection of its own, held for the whole run.  A killed process's connection
  closes and the server drops the lock.
* SQLite: an exclusive ``flock`` on a file beside the database file; the kernel
  drops it when the process dies.

A start that finds the lock taken waits briefly (a killed run's PostgreSQL backend
may need a moment to notice its client is gone), then is refused.  The lock is one
per database, not per period: two runs of different periods at once would both
read the same payables.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

from .errors import SettlementRefused

# pg_advisory_lock(int4, int4): a namespace for this product's locks, and settlement's number in it.
PG_LOCK_NAMESPACE = 0x43414D45  # "CAME"
PG_SETTLEMENT_LOCK = 1
DEFAULT_WAIT_SECONDS = 3.0
POLL_SECONDS = 0.05


class SettlementLocked(SettlementRefused):
    """Another settlement run holds the lock."""


@contextlib.contextmanager
def settlement_lock(engine: Engine, *, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with _pg_lock(engine, wait_seconds):
            yield
    else:
        with _file_lock(lock_path(engine), wait_seconds):
            yield


def _retry_until(acquire, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while not acquire():
        if time.monotonic() >= deadline:
            raise SettlementLocked("another settlement run is in progress; this one was refused")
        time.sleep(POLL_SECONDS)


@contextlib.contextmanager
def _pg_lock(engine: Engine, wait_seconds: float) -> Iterator[None]:
    conn = engine.connect()
    try:

        def acquire() -> bool:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": PG_LOCK_NAMESPACE, "key": PG_SETTLEMENT_LOCK}
            ).scalar_one()
            conn.commit()  # session-level lock: it outlives the transaction
            return bool(got)

        _retry_until(acquire, wait_seconds)
        try:
            yield
        finally:
            conn.execute(
                text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": PG_LOCK_NAMESPACE, "key": PG_SETTLEMENT_LOCK}
            )
            conn.commit()
    finally:
        conn.close()


def lock_path(engine: Engine) -> Path:
    database = engine.url.database
    if database in (None, "", ":memory:"):
        return Path(tempfile.gettempdir()) / f"cameo-settlement-{os.getpid()}.lock"
    return Path(database).with_name(Path(database).name + ".settlement.lock")


@contextlib.contextmanager
def _file_lock(path: Path, wait_seconds: float) -> Iterator[None]:
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:

        def acquire() -> bool:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        _retry_until(acquire, wait_seconds)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
