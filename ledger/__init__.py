"""A double-entry book: an engine any application can keep its money in.

It knows money, accounts, entries, postings and balances — not what they are for:
the application that keeps the book names its accounts, writes its entries and reads
its own figures (this repository's application keeps its books in ``app/books``).

Modules, from the inside out:

``money``      integer minor units, ISO 4217 exponents, allocation and commission
``models``     the tables (SQLModel): accounts, entries, postings, balances, seals, periods
``canonical``  canonical bytes and hashes of entries and chain links
``book``       ``Ledger``: open accounts, ``post``/``post_batch``, ``reverse``, balances
``chain``      the sealer that links committed entries into a hash chain
``verify``     recompute everything from postings and name the first bad entry
``reports``    balances at a point in time, the trial balance
``periods``    ``Period`` (a named month or year) and closing periods
``positions``  where a group of accounts stands at a cut-off: balance, later moves, holds
``exports``    entries/postings/trial balance as frames, CSV/XLSX/Parquet, Beancount
``ddl``        triggers that make the journal append-only in the database
``db``         engines configured for money (SQLite pragmas, BEGIN IMMEDIATE)

The package depends on SQLAlchemy/SQLModel (and pandas for DataFrames) only; it
never imports Flask, Stripe, APScheduler or the app.  Nothing happens at import:
callers pass sessions, engines and the time (``now``) in.
"""

from .book import AccountRef, EntryDraft, Ledger, Line, PostedEntry, reversal_draft, validate_draft
from .errors import (
    AccountConflict,
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientBalance,
    LedgerError,
    PeriodClosed,
    UnbalancedEntry,
    UnknownAccount,
)
from .money import Money, MoneyError, allocate, commission, format_minor, parse_minor

__all__ = [
    "AccountConflict",
    "AccountRef",
    "AlreadyReversed",
    "EntryDraft",
    "IdempotencyConflict",
    "InsufficientBalance",
    "Ledger",
    "LedgerError",
    "Line",
    "Money",
    "MoneyError",
    "PeriodClosed",
    "PostedEntry",
    "UnbalancedEntry",
    "UnknownAccount",
    "allocate",
    "commission",
    "format_minor",
    "parse_minor",
    "reversal_draft",
    "validate_draft",
]
