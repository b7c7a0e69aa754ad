"""Every table of the product, so ``SQLModel.metadata`` is complete for Alembic.

The ledger's tables live in ledger.models; marketplace, payments, metering,
settlement, accounting and mail tables live in their own modules under app/ and are imported here.
"""
from ledger.models import Account, Balance, ClosedPeriod, Entry, Posting, Seal  # noqa: F401
from app.marketplace.models import (  # noqa: F401
    ApiToken, AuditEvent, Cameo, CameoApprovedBrand, CameoOwner, Consent, ContractTemplate, Licence,
    Membership, Offer, Organisation, User,
)
from app.payments.models import LicencePayment, LicencePaymentAdjustment, StripeEvent, UsageInvoice  # noqa: F401
from app.metering.models import UsageEvent  # noqa: F401
from app.accounting.models import PeriodClose  # noqa: F401
from app.settlement.models import SettlementItem, SettlementRun  # noqa: F401
from app.mail.models import OutboxMessage  # noqa: F401
