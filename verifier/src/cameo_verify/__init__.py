"""cameo-verify: checks Cameo Exchange receipts, checkpoints, contracts, statements and
whole archives offline, with nothing of the platform's running (docs/formats/).

One module per concern: ``encoding`` (base64url, canonical and strict JSON, times),
``merkle`` (RFC 6962 trees), ``keys`` (the key set with history), ``jws`` (signed
documents), ``receipts``, ``entries`` (ledger entries and chain links),
``checkpoints``, ``statements``, ``contracts``, ``evidence`` (consent, objections),
``archive`` (a whole archive), ``cross`` (two archives), ``media`` (C2PA, optional)
and ``cli``.  Every check raises :class:`Invalid` naming what failed and why.
"""

from .archive import ArchiveReport, verify_archive
from .encoding import Invalid
from .keys import KeySet, load_key_set
from .receipts import Receipt, verify_receipt

__version__ = "0.1.0"
__all__ = [
    "ArchiveReport",
    "Invalid",
    "KeySet",
    "Receipt",
    "__version__",
    "load_key_set",
    "verify_archive",
    "verify_receipt",
]
