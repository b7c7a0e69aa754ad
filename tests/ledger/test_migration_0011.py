"""Migration 0011 gives every entry its subject (the licence it is about) from its
metadata, keeps the journal append-only, and takes the column away again."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.migrate import downgrade, upgrade
from tests.ledger.book import Book

ENTRIES = {  # key -> metadata as the ledger stored it before 0011, and the subject it must get
    "int": ('{"licence_id":42}', 42),
    "text": ('{"licence_id":"7"}', 7),
    "none": ("{}", None),
    "word": ('{"licence_id":"seven"}', None),
    "float-ish": ('{"licence_id":"1.5"}', None),
}


def test_existing_entries_get_their_subject_from_their_metadata(database_url):
    downgrade(database_url, "0010_guarded_shards")
    book = Book(database_url)
    with book.engine.begin() as conn:
        for key, (meta, _) in ENTRIES.items():  # entries as 0010 wrote them (postings do not matter here)
            conn.execute(
                text(
                    "INSERT INTO ledger_entry (idempotency_key, kind, effective_at, posted_at, memo, "
                    "metadata, content_hash) VALUES (:k, 'test', '2026-10-01 00:00:00', "
                    "'2026-10-01 00:00:00', '', :m, :h)"
                ),
                {"k": key, "m": meta, "h": "0" * 64},
            )
    book.engine.dispose()

    upgrade(database_url)
    book = Book(database_url)
    with book.engine.connect() as conn:
        found = dict(conn.execute(text("SELECT idempotency_key, subject FROM ledger_entry")).all())
    assert found == {key: subject for key, (_, subject) in ENTRIES.items()}
    with pytest.raises(DBAPIError, match="append-only"), book.engine.begin() as conn:  # the trigger is back
        conn.execute(text("UPDATE ledger_entry SET subject = 1 WHERE idempotency_key = 'none'"))
    book.engine.dispose()

    downgrade(database_url, "0010_guarded_shards")
    book = Book(database_url)
    with book.engine.connect() as conn:
        columns = set(conn.execute(text("SELECT * FROM ledger_entry")).keys())
    assert "subject" not in columns
    with pytest.raises(DBAPIError, match="append-only"), book.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entry SET memo = 'x' WHERE idempotency_key = 'none'"))
    book.engine.dispose()
    upgrade(database_url)
