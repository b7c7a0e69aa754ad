"""Every table of the product, so ``SQLModel.metadata`` is complete for Alembic.

The ledger's tables live in ``ledger.models``; people, marketplace, payments,
metering, settlement, accounting and mail tables live in their own packages under
app/ and are imported here (``migrations/env.py`` reads this module).
"""

from app.accounting.models import PeriodClose  # noqa: F401
from app.mail.models import OutboxMessage  # noqa: F401
from app.marketplace.models import (  # noqa: F401
    Cameo,
    CameoApprovedBrand,
    CameoOwner,
    Consent,
    ContractTemplate,
    Licence,
    Offer,
)
from app.metering.models import UsageEvent  # noqa: F401
from app.payments.models import (  # noqa: F401
    ConnectAccount,
    LicencePayment,
    LicencePaymentAdjustment,
    StripeEvent,
    UsageInvoice,
)
from app.people.models import ApiToken, AuditEvent, Membership, Organisation, User  # noqa: F401
from app.settlement.models import SettlementItem, SettlementRun  # noqa: F401
from ledger.models import Account, Balance, ClosedPeriod, Entry, Posting, Seal  # noqa: F401
