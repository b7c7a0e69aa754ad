"""Validated input of the marketplace services (pydantic), shared by the JSON API
and the web forms; built from the strict types of ``app.validation``."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal, Optional, get_args

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictInt,
    model_validator,
)

from app.validation import Id, MoneyIn, Strict, Text, unique

from .models import CameoKind, Visibility

Medium = Literal["social", "web", "tv", "radio", "print", "out_of_home", "streaming", "film", "podcast", "games"]
MEDIA: tuple[str, ...] = get_args(Medium)
TERRITORY = re.compile(r"^(?:[A-Z]{2}|WORLDWIDE)$")


def _territory(code: str) -> str:
    if not TERRITORY.match(code):
        raise ValueError("must be an ISO 3166-1 alpha-2 code (e.g. US) or WORLDWIDE")
    return code


Category = Annotated[str, Text(40, min_length=1)]


class CameoIn(Strict):
    kind: CameoKind
    title: Annotated[str, Text(120, min_length=1, blank=False)]
    description: Annotated[str, Text(4000)] = ""
    visibility: Visibility = "only_me"
    blocked_categories: Annotated[list[Category], Field(max_length=50), AfterValidator(unique)] = []
    approved_brand_ids: Annotated[list[Id], Field(max_length=200), AfterValidator(unique)] = []


class CameoPatch(Strict):
    title: Optional[Annotated[str, Text(120, min_length=1, blank=False)]] = None
    description: Optional[Annotated[str, Text(4000)]] = None
    visibility: Optional[Visibility] = None
    blocked_categories: Optional[Annotated[list[Category], Field(max_length=50), AfterValidator(unique)]] = None
    approved_brand_ids: Optional[Annotated[list[Id], Field(max_length=200), AfterValidator(unique)]] = None


class OwnerShare(Strict):
    user_id: Id
    share_bps: Annotated[StrictInt, Field(ge=1, le=10_000, description="basis points; all owners sum to 10000")]


class OwnersIn(Strict):
    owners: Annotated[list[OwnerShare], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _sum_to_whole(self) -> OwnersIn:
        if len({o.user_id for o in self.owners}) != len(self.owners):
            raise ValueError("owners: a user may appear only once")
        total = sum(o.share_bps for o in self.owners)
        if total != 10_000:
            raise ValueError(f"owners: shares must sum to 10000 basis points (100 %), got {total}")
        return self


class ConsentIn(Strict):
    """The consent statement's confirmation; the recording comes as a file."""

    accept_statement: Literal[True] = Field(description="the signer accepts the consent statement shown to them")
    statement_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class OfferIn(Strict):
    template_id: Id
    media: Annotated[list[Medium], Field(min_length=1, max_length=len(MEDIA)), AfterValidator(unique)]
    territories: Annotated[
        list[Annotated[str, Field(max_length=9), AfterValidator(_territory)]],
        Field(min_length=1, max_length=250),
        AfterValidator(unique),
    ]
    term_days: Annotated[StrictInt, Field(ge=1, le=3650)]
    exclusivity: StrictBool = False
    usage_cap: Optional[Annotated[StrictInt, Field(ge=1, le=10**12)]] = None
    upfront_fee: MoneyIn
    advance: Optional[MoneyIn] = Field(
        default=None,
        description="a minimum guarantee the brand pays with the fee: its uses recoup it before they are "
        "invoiced, and the creators earn what is left of it when the licence ends",
    )
    per_use_royalty: MoneyIn
    holdback_days: Annotated[StrictInt, Field(ge=0, le=365)] = 0
    revocation_notice_days: Annotated[StrictInt, Field(ge=0, le=365)] = 30
    requires_approval: StrictBool = True

    @model_validator(mode="after")
    def _one_currency(self) -> OfferIn:
        if self.upfront_fee.currency != self.per_use_royalty.currency:
            raise ValueError("per_use_royalty: currency must be the same as upfront_fee's")
        if self.advance is not None and self.advance.currency != self.upfront_fee.currency:
            raise ValueError("advance: currency must be the same as upfront_fee's")
        return self


class LicenceRequestIn(Strict):
    intended_use: Annotated[
        Annotated[str, Text(4000, min_length=40, blank=False)],
        Field(description="a reasonably specific description of the intended uses (California AB 2602)"),
    ]
    categories: Annotated[list[Category], Field(max_length=20), AfterValidator(unique)] = []
    starts_on: Optional[date] = None
    organisation_id: Optional[Id] = None
    # Optional narrowing to part of the offer's media and territories (default: all of them).
    media: Optional[
        Annotated[
            list[Medium],
            Field(min_length=1, max_length=len(MEDIA)),
            AfterValidator(unique),
        ]
    ] = None
    territories: Optional[
        Annotated[
            list[Annotated[str, Field(max_length=9), AfterValidator(_territory)]],
            Field(min_length=1, max_length=250),
            AfterValidator(unique),
        ]
    ] = None


class SignIn(Strict):
    contract_sha256: Annotated[
        str, Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the contract text the signer read")
    ]


class ReasonIn(Strict):
    reason: Annotated[str, Text(500)] = ""


class TemplateIn(Strict):
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,58}$")]
    title: Annotated[str, Text(200, min_length=1, blank=False)]
    summary: Annotated[str, Text(2000)] = ""
    body: Annotated[str, Text(100_000, min_length=50, blank=False)]
