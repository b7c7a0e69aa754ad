"""A stateful, contract-checked local Stripe (like ``stripe-mock``, but it remembers).

Public API::

    from stripe_emulator import Emulator, start_emulator

    running = start_emulator(port=0)          # in-process, loopback, random port
    client = stripe.StripeClient("sk_test_x", stripe_version="2024-04-10",
                                 base_addresses={"api": running.url, ...})
    running.emulator.pay_checkout_session(cs_id)
    running.stop()

or as a process: ``python -m stripe_emulator --port 12111``. See
:mod:`stripe_emulator.emulator` for the Python control API and
:mod:`stripe_emulator.control` for the ``/_emulator/`` HTTP control API.
No real money moves: only ``sk_test_`` keys are accepted, and only API version
2024-04-10 (the version of the spec it checks against).
"""

from .emulator import ContractViolation, Emulator
from .errors import StripeError
from .faults import FAULT_KINDS, FaultRule
from .money import processing_fee
from .server import RunningEmulator, start_emulator
from .webhooks import DeliveryReport, WebhookEndpoint, sign

__all__ = [
    "FAULT_KINDS",
    "ContractViolation",
    "DeliveryReport",
    "Emulator",
    "FaultRule",
    "RunningEmulator",
    "StripeError",
    "WebhookEndpoint",
    "processing_fee",
    "sign",
    "start_emulator",
]
