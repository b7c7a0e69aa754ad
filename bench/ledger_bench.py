"""Ledger throughput and latency, as ratios to the raw database (issue #2).

    python bench/ledger_bench.py [--db sqlite,postgresql] [--quick]

(a) single-entry posting (one commit per 2-posting entry) ÷ raw INSERT of the same
    rows with one commit each — target ≥ 0.6
(b) post_batch (1,000 entries a transaction) ÷ raw bulk load of the same rows
    (COPY on PostgreSQL, executemany on SQLite) — target ≥ 0.4
(c) current-balance read latency with 10k and with 1M postings on the account —
    target under 1 ms and flat (the SUM over postings is shown for contrast)
(d) PostgreSQL: 8 concurrent writers, every entry crediting a creator and the shared
    commission account ÷ raw INSERT of the same rows by 8 writers — target ≥ 0.5

"Raw" rows go to tables of the same shape (same columns, keys and indexes) without
the ledger's triggers, balance rows or checks, through the same driver.
"""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from app.books import chart
from bench.common import Timer, print_row, rate, scratch_database
from ledger import EntryDraft, Ledger, Line
from ledger.db import make_engine

T = datetime(2026, 10, 1, tzinfo=UTC)
CREATORS = 100
RAW_DDL = [
    """CREATE TABLE raw_entry (seq BIGINT PRIMARY KEY, idempotency_key VARCHAR(200) NOT NULL UNIQUE,
       kind VARCHAR(64) NOT NULL, effective_at TIMESTAMP NOT NULL, posted_at TIMESTAMP NOT NULL,
       memo VARCHAR(500) NOT NULL, metadata TEXT NOT NULL, content_hash VARCHAR(64) NOT NULL)""",
    "CREATE INDEX ix_raw_entry_effective_at ON raw_entry (effective_at)",
    "CREATE INDEX ix_raw_entry_kind ON raw_entry (kind)",
    """CREATE TABLE raw_posting (id BIGINT PRIMARY KEY, entry_seq BIGINT NOT NULL REFERENCES raw_entry (seq),
       account_id INTEGER NOT NULL, amount BIGINT NOT NULL, currency VARCHAR(3) NOT NULL)""",
    "CREATE INDEX ix_raw_posting_account_entry ON raw_posting (account_id, entry_seq)",
    "CREATE INDEX ix_raw_posting_entry_seq ON raw_posting (entry_seq)",
]
HASH = "ab" * 32


class Bench:
    def __init__(self, url: str, pool: int = 12):
        self.engine = make_engine(url, **({} if url.startswith("sqlite") else {"pool_size": pool}))
        self.sessions = sessionmaker(self.engine, class_=Session, expire_on_commit=False)
        self.ledger = Ledger()
        self.dialect = self.engine.dialect.name
        self.next_raw = 0
        self.raw_lock = threading.Lock()
        with self.engine.begin() as conn:
            for ddl in RAW_DDL:
                conn.execute(text(ddl))
        codes = [chart.brand_receivable(b, "USD") for b in range(1, 9)]
        codes += [chart.creator_payable(c, "USD") for c in range(1, CREATORS + 1)]
        codes += chart.house_accounts("USD")
        with self.sessions() as s:
            chart.open_accounts(self.ledger, s, codes)
            s.commit()
            self.ids = {code: ref.id for code, ref in self.ledger.accounts(s, codes).items()}

    def draft(self, key: str, n: int, *, brand: int = 1, with_commission: bool = False) -> EntryDraft:
        creator = chart.creator_payable(1 + n % CREATORS, "USD")
        receivable = chart.brand_receivable(brand, "USD")
        if with_commission:
            lines = (
                Line(receivable, 250, "USD"),
                Line(creator, -200, "USD"),
                Line(chart.commission_revenue("USD"), -50, "USD"),
            )
        else:
            lines = (Line(receivable, 250, "USD"), Line(creator, -250, "USD"))
        return EntryDraft(key, "usage.royalty", T, lines)

    def raw_rows(self, draft: EntryDraft):
        with self.raw_lock:
            seq = self.next_raw = self.next_raw + 1
        entry = dict(
            seq=seq,
            k=draft.idempotency_key,
            kind=draft.kind,
            e=T.replace(tzinfo=None),
            p=T.replace(tzinfo=None),
            memo="",
            meta="{}",
            h=HASH,
        )
        postings = [
            dict(id=seq * 4 + i, s=seq, a=self.ids[l.account], amt=l.amount, c=l.currency)
            for i, l in enumerate(draft.lines)
        ]
        return entry, postings

    RAW_ENTRY = (
        "INSERT INTO raw_entry (seq, idempotency_key, kind, effective_at, posted_at, memo, metadata, "
        "content_hash) VALUES (:seq, :k, :kind, :e, :p, :memo, :meta, :h)"
    )

    def raw_insert_one(self, conn, draft: EntryDraft) -> None:
        entry, postings = self.raw_rows(draft)
        values = ", ".join(f"(:id{i}, :s{i}, :a{i}, :amt{i}, :c{i})" for i in range(len(postings)))
        params = {f"{k}{i}": v for i, p in enumerate(postings) for k, v in p.items()}
        conn.execute(text(self.RAW_ENTRY), entry)
        conn.execute(
            text(f"INSERT INTO raw_posting (id, entry_seq, account_id, amount, currency) VALUES {values}"), params
        )

    # (a) ------------------------------------------------------------------------
    def single(self, n: int) -> tuple[float, float]:
        drafts = [self.draft(f"a:{i}", i) for i in range(n)]
        with Timer() as ours:
            for d in drafts:
                with self.sessions() as s:
                    self.ledger.post(s, d, now=T)
                    s.commit()
        with Timer() as raw:
            with self.engine.connect() as conn:
                for d in drafts:
                    with conn.begin():
                        self.raw_insert_one(conn, d)
        return rate(n, ours.seconds), rate(n, raw.seconds)

    # (b) ------------------------------------------------------------------------
    def batch(self, n: int, size: int = 1000, prefix: str = "b") -> float:
        with Timer() as ours:
            for start in range(0, n, size):
                with self.sessions() as s:
                    self.ledger.post_batch(
                        s, [self.draft(f"{prefix}:{i}", i) for i in range(start, start + size)], now=T
                    )
                    s.commit()
        return rate(n, ours.seconds)

    def raw_bulk(self, n: int, size: int = 1000) -> float:
        with Timer() as timer:
            with self.engine.connect() as conn:
                for start in range(0, n, size):
                    rows = [self.raw_rows(self.draft(f"rb:{i}", i)) for i in range(start, start + size)]
                    with conn.begin():
                        if self.dialect == "postgresql":
                            cursor = conn.connection.driver_connection.cursor()
                            with cursor.copy(
                                "COPY raw_entry (seq, idempotency_key, kind, effective_at, posted_at, "
                                "memo, metadata, content_hash) FROM STDIN"
                            ) as copy:
                                for e, _ in rows:
                                    copy.write_row(
                                        (e["seq"], e["k"], e["kind"], e["e"], e["p"], e["memo"], e["meta"], e["h"])
                                    )
                            with cursor.copy(
                                "COPY raw_posting (id, entry_seq, account_id, amount, currency) FROM STDIN"
                            ) as copy:
                                for _, postings in rows:
                                    for p in postings:
                                        copy.write_row((p["id"], p["s"], p["a"], p["amt"], p["c"]))
                        else:
                            dbapi = conn.connection.driver_connection
                            dbapi.executemany(
                                "INSERT INTO raw_entry VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                [
                                    (
                                        e["seq"],
                                        e["k"],
                                        e["kind"],
                                        str(e["e"]),
                                        str(e["p"]),
                                        e["memo"],
                                        e["meta"],
                                        e["h"],
                                    )
                                    for e, _ in rows
                                ],
                            )
                            dbapi.executemany(
                                "INSERT INTO raw_posting VALUES (?, ?, ?, ?, ?)",
                                [(p["id"], p["s"], p["a"], p["amt"], p["c"]) for _, ps in rows for p in ps],
                            )
        return rate(n, timer.seconds)

    # (c) ------------------------------------------------------------------------
    def read_latency(self, code: str, reads: int = 2000) -> tuple[float, float, int]:
        with self.sessions() as s:
            self.ledger.balance(s, code)
            with Timer() as t:
                for _ in range(reads):
                    self.ledger.balance(s, code)
            account_id = self.ids[code]
            with Timer() as naive:
                for _ in range(5):
                    s.connection().execute(
                        text("SELECT sum(amount) FROM ledger_posting WHERE account_id = :a"), {"a": account_id}
                    ).scalar()
            count = (
                s.connection()
                .execute(text("SELECT count(*) FROM ledger_posting WHERE account_id = :a"), {"a": account_id})
                .scalar()
            )
        return t.seconds / reads * 1e6, naive.seconds / 5 * 1e6, count

    # (d) ------------------------------------------------------------------------
    def concurrent(self, writers: int, per_writer: int) -> tuple[float, float]:
        def ours(w: int):
            for i in range(per_writer):
                with self.sessions() as s:
                    self.ledger.post(
                        s, self.draft(f"d:{w}:{i}", w * per_writer + i, brand=1 + w % 8, with_commission=True), now=T
                    )
                    s.commit()

        def raw(w: int):
            with self.engine.connect() as conn:
                for i in range(per_writer):
                    with conn.begin():
                        self.raw_insert_one(
                            conn, self.draft(f"rd:{w}:{i}", w * per_writer + i, brand=1 + w % 8, with_commission=True)
                        )

        return (
            rate(writers * per_writer, run_threads(writers, ours)),
            rate(writers * per_writer, run_threads(writers, raw)),
        )


def run_threads(n: int, work) -> float:
    barrier = threading.Barrier(n + 1)
    errors: list[BaseException] = []

    def wrapped(i):
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wrapped, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    with Timer() as timer:
        barrier.wait()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return timer.seconds


def run(kind: str, args) -> None:
    print(f"\n== {kind} ==")
    with scratch_database(kind) as url:
        bench = Bench(url)
        ours, raw = bench.single(args.single)
        print_row("(a) single entry, one commit each", ours, raw, target="≥ 0.6")
        ours = bench.batch(args.batch)
        raw = bench.raw_bulk(args.batch)
        print_row("(b) post_batch, 1,000 entries a transaction", ours, raw, target="≥ 0.4")
        code = chart.brand_receivable(1, "USD")
        for goal in (10_000, args.history):
            _, _, have = bench.read_latency(code, reads=10)
            if goal > have:
                bench.batch(goal - have, prefix=f"h{goal}")
            us, naive_us, count = bench.read_latency(code)
            print(
                f"  (c) balance read with {count:>9,} postings on the account: {us:7.1f} µs"
                f"   (SUM over postings: {naive_us / 1000:8.2f} ms)   target < 1000 µs, flat"
            )
        if kind == "postgresql":
            ours, raw = bench.concurrent(args.writers, args.per_writer)
            print_row(f"(d) {args.writers} concurrent writers, shared commission", ours, raw, target="≥ 0.5")
        bench.engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--single", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.single, args.batch, args.history, args.per_writer = 200, 2000, 20_000, 50
    for kind in args.db.split(","):
        run(kind, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
