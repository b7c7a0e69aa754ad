"""The ledger's own exceptions.  Callers translate them at their boundary."""


class LedgerError(Exception):
    """Base class: the book refused a request and nothing was written."""


class UnbalancedEntry(LedgerError):
    """An entry whose postings do not satisfy invariant 1 (balance, currency, ≥2, ≠0)."""


class UnknownAccount(LedgerError):
    pass


class AccountConflict(LedgerError):
    """An account code that exists already with a different type or currency."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for an entry with different content."""


class InsufficientBalance(LedgerError):
    """The entry would take a non-negative account below zero on its normal side."""

    def __init__(self, account_code: str, message: str | None = None):
        self.account_code = account_code
        super().__init__(message or f"account {account_code} would go below zero")


class AlreadyReversed(LedgerError):
    pass


class PeriodClosed(LedgerError):
    """The entry's effective time falls inside a closed accounting period."""
