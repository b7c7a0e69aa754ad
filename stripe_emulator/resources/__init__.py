"""Stripe resources the emulator implements, one module per family.

Importing this package fills :data:`~stripe_emulator.resources.common.ROUTES`
(a dict of ``(method, spec path template) → handler``); it starts nothing.
"""

from . import accounts, balance, checkout, events, payments, transfers  # noqa: F401  (registration)
from .common import ROUTES, Call, Context

__all__ = ["ROUTES", "Call", "Context"]
