"""Database-side guards: the second line of defence behind the Python checks.

Installed by the Alembic migration (``install(op.execute, dialect)``), for SQLite and
PostgreSQL alike:

* entries, postings, seals and closed periods reject UPDATE and DELETE (and, on
  PostgreSQL, TRUNCATE) — the book is append-only;
* an entry cannot be inserted with an effective time inside a closed period (on
  PostgreSQL checked once per statement over its transition table);
* PostgreSQL only: a statement-level trigger checks that the postings inserted by
  one statement balance per entry and currency, with at least two per entry (the
  ledger inserts all postings of an entry in one statement).  SQLite has no
  statement triggers; ``ledger verify`` covers it there.

The composite foreign key posting(account_id, currency) → account(id, currency)
and the CHECK constraints in ledger.models complete invariant 1 and 4.
"""

from __future__ import annotations

from collections.abc import Callable

from .models import APPEND_ONLY_TABLES

CLOSED_PERIOD_MESSAGE = "ledger: entry effective inside a closed period"


def _postgresql() -> list[str]:
    statements = [
        """
        CREATE OR REPLACE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'ledger table % is append-only: % rejected', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'raise_exception';
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION ledger_reject_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE bad record;
        BEGIN
            SELECT n.seq, n.effective_at INTO bad FROM new_entries n JOIN ledger_closed_period p
                ON n.effective_at >= p.starts_at AND n.effective_at < p.ends_at LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION '{CLOSED_PERIOD_MESSAGE} (entry %, effective %)', bad.seq, bad.effective_at;
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE OR REPLACE FUNCTION ledger_check_postings() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE bad record;
        BEGIN
            SELECT entry_seq, currency INTO bad FROM new_postings
                GROUP BY entry_seq, currency HAVING sum(amount) <> 0 LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'ledger: entry % does not balance in %', bad.entry_seq, bad.currency;
            END IF;
            SELECT entry_seq INTO bad FROM new_postings GROUP BY entry_seq HAVING count(*) < 2 LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'ledger: entry % has fewer than two postings', bad.entry_seq;
            END IF;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER ledger_entry_open_period AFTER INSERT ON ledger_entry
            REFERENCING NEW TABLE AS new_entries
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_closed_period()
        """,
        """
        CREATE TRIGGER ledger_posting_balanced AFTER INSERT ON ledger_posting
            REFERENCING NEW TABLE AS new_postings
            FOR EACH STATEMENT EXECUTE FUNCTION ledger_check_postings()
        """,
    ]
    for table in APPEND_ONLY_TABLES:
        statements += [
            f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION ledger_reject_change()""",
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change()""",
        ]
    return statements


def _sqlite() -> list[str]:
    statements = [
        f"""
        CREATE TRIGGER ledger_entry_open_period BEFORE INSERT ON ledger_entry
        WHEN EXISTS (SELECT 1 FROM ledger_closed_period p
                     WHERE NEW.effective_at >= p.starts_at AND NEW.effective_at < p.ends_at)
        BEGIN SELECT RAISE(ABORT, '{CLOSED_PERIOD_MESSAGE}'); END
        """
    ]
    for table in APPEND_ONLY_TABLES:
        for op in ("UPDATE", "DELETE"):
            statements.append(
                f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
                    BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only: {op} rejected'); END"""
            )
    return statements


def install_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return _postgresql()
    if dialect == "sqlite":
        return _sqlite()
    raise ValueError(f"unsupported database dialect {dialect!r}")


def drop_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        return [
            "DROP FUNCTION IF EXISTS ledger_reject_change() CASCADE",
            "DROP FUNCTION IF EXISTS ledger_reject_closed_period() CASCADE",
            "DROP FUNCTION IF EXISTS ledger_check_postings() CASCADE",
        ]
    names = ["ledger_entry_open_period"] + [f"{t}_no_{op}" for t in APPEND_ONLY_TABLES for op in ("update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def install(execute: Callable[[str], object], dialect: str) -> None:
    for statement in install_statements(dialect):
        execute(statement)
