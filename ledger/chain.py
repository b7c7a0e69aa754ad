"""The sealer: links committed entries into a sha256 hash chain, in ``seq`` order.

Computing the chain inside every posting transaction would make "read the previous
hash" a global lock that serialises all writers (DESIGN §2).  Instead entries carry
their own content hash, and ``seal`` runs shortly after commit (from the scheduler,
the CLI, or a test) and appends one ``ledger_seal`` row per entry:

    hash = sha256(prev_hash | seq | posted_at | content_hash)

The only subtle part is the *horizon*: a sequence value is taken when a transaction
inserts its entry, but that transaction may commit after a later one.  Sealing past
an invisible, still-running entry would leave a hole in the chain.  So the sealer
first waits for in-flight writers: on PostgreSQL it takes ``LOCK ledger_entry IN
SHARE MODE`` in a tiny transaction (granted once every inserting transaction has
finished; new inserts wait only for that instant), reads ``max(seq)`` and commits;
every entry up to that horizon is then final, and gaps below it are rollbacks that
will never be filled.  On SQLite writers are serialised anyway (BEGIN IMMEDIATE).
Concurrent sealers are serialised by an advisory lock (PostgreSQL) or the write
lock (SQLite).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select, text

from .canonical import GENESIS_HASH, chain_hash
from .models import entry_table, seal_table
from .types import as_utc

SEALER_LOCK_ID = 0x5EA1_CA3E0  # pg_advisory_xact_lock key
SEAL_CHUNK = 5000


@dataclass(frozen=True)
class SealReport:
    sealed: int
    head_seq: int
    head_hash: str


def seal(engine: Engine, *, now: datetime, limit: int | None = None) -> SealReport:
    """Seal every committed, unsealed entry (at most ``limit``); returns the new head."""
    now = as_utc(now)
    horizon = _horizon(engine)
    sealed = 0
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEALER_LOCK_ID})
        head = conn.execute(
            select(seal_table.c.seq, seal_table.c.hash).order_by(seal_table.c.seq.desc()).limit(1)
        ).first()
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        while limit is None or sealed < limit:
            take = SEAL_CHUNK if limit is None else min(SEAL_CHUNK, limit - sealed)
            rows = conn.execute(
                select(entry_table.c.seq, entry_table.c.posted_at, entry_table.c.content_hash)
                .where(entry_table.c.seq > head_seq, entry_table.c.seq <= horizon)
                .order_by(entry_table.c.seq)
                .limit(take)
            ).all()
            if not rows:
                break
            links = []
            for seq, posted_at, content in rows:
                link = chain_hash(head_hash, seq, posted_at, content)
                links.append(dict(seq=seq, prev_hash=head_hash, hash=link, sealed_at=now))
                head_seq, head_hash = seq, link
            conn.execute(seal_table.insert(), links)
            sealed += len(links)
    return SealReport(sealed=sealed, head_seq=head_seq, head_hash=head_hash)


def _horizon(engine: Engine) -> int:
    """Highest seq below which no transaction can still add an entry."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE ledger_entry IN SHARE MODE"))
        return int(conn.execute(select(func.coalesce(func.max(entry_table.c.seq), 0))).scalar_one())
