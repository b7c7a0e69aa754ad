"""What a settlement start can be refused for; messages are shown to the operator as they are."""

from __future__ import annotations


class SettlementError(Exception):
    """Settlement cannot do what was asked; the message says why."""


class SettlementRefused(SettlementError):
    """Refused before anything changed: another run holds the lock, the period is not over,
    a later period is already settled, or there is nothing to retry."""
