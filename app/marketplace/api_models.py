"""Response and parameter models of the marketplace's JSON API (the request bodies
are the services' own models in ``app.marketplace.schemas``; what every part of the
API shares is in ``app.kit.api``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Optional

from flask_openapi3 import FileStorage
from pydantic import BaseModel, Field

from app.kit.api import IdParam, MoneyOut, PageQuery
from app.marketplace.models import LicenceStatus


class LicenceQuery(PageQuery):
    status: Optional[LicenceStatus] = None


class OfferQuery(PageQuery):
    cameo_id: Optional[IdParam] = None


class CameoPath(BaseModel):
    cameo_id: IdParam


class OfferPath(BaseModel):
    offer_id: IdParam


class LicencePath(BaseModel):
    licence_id: IdParam


class TemplatePath(BaseModel):
    template_id: IdParam


class PreviewForm(BaseModel):
    file: FileStorage


class ConsentForm(BaseModel):
    recording: FileStorage
    accept_statement: Literal[True]
    statement_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class OwnerOut(BaseModel):
    user_id: int
    share_bps: int


class OwnerList(BaseModel):
    items: list[OwnerOut]


class CameoOut(BaseModel):
    id: int
    creator_id: int
    kind: str
    title: str
    description: str
    visibility: str
    status: str
    blocked_categories: list[str]
    approved_brand_ids: list[int]
    owners: list[OwnerOut]
    has_consent: bool
    preview_sha256: Optional[str]
    preview_content_type: Optional[str]
    created_at: datetime
    updated_at: datetime


class CameoPage(BaseModel):
    items: list[CameoOut]
    next_cursor: Optional[str]


class StatementOut(BaseModel):
    text: str
    sha256: str


class ConsentOut(BaseModel):
    id: int
    cameo_id: int
    recording_sha256: str
    recording_content_type: str
    recording_size: int
    statement_sha256: str
    owners: list[OwnerOut]
    signed_at: datetime
    withdrawn_at: Optional[datetime]


class TemplateOut(BaseModel):
    id: int
    slug: str
    version: int
    title: str
    summary: str
    body: str
    body_sha256: str
    defaults: dict[str, Any]
    published_at: datetime


class TemplatePage(BaseModel):
    items: list[TemplateOut]
    next_cursor: Optional[str]


class TermsOut(BaseModel):
    media: list[str]
    territories: list[str]
    term_days: int
    exclusivity: bool
    usage_cap: Optional[int]
    upfront_fee: MoneyOut
    advance: MoneyOut = Field(description="minimum guarantee paid with the fee (0: none)")
    per_use_royalty: MoneyOut
    holdback_days: int
    revocation_notice_days: int
    commission_bps: int


class OfferOut(TermsOut):
    id: int
    cameo_id: int
    template_id: int
    status: str
    requires_approval: bool
    created_at: datetime


class OfferPage(BaseModel):
    items: list[OfferOut]
    next_cursor: Optional[str]


class LicenceOut(TermsOut):
    id: int
    offer_id: int
    cameo_id: int
    template_id: int
    brand_org_id: int
    status: str
    intended_use: str
    categories: list[str]
    term_start: datetime
    term_end: datetime
    ends_at: datetime
    owners: list[OwnerOut]
    contract_sha256: Optional[str]
    creator_signed_at: Optional[str]
    brand_signed_at: Optional[str]
    paid_at: Optional[datetime]
    activated_at: Optional[datetime]
    revocation_requested_at: Optional[datetime]
    ended_at: Optional[datetime]
    end_reason: Optional[str]
    created_at: datetime
    updated_at: datetime


class LicencePage(BaseModel):
    items: list[LicenceOut]
    next_cursor: Optional[str]


class ContractOut(BaseModel):
    licence_id: int
    text: str
    sha256: str
