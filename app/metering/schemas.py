"""Request models of the usage API.  A request is either one event object or
``{"events": [...]}`` with 1–1,000 events; either way the service sees a list."""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    model_validator,
)

from app.marketplace.schemas import TERRITORY, Medium
from app.validation import MAX_ID, Text

from .models import UsageKind

MAX_BATCH = 1000
MAX_QUANTITY = 10**9
EVENT_ID_PATTERN = r"^[A-Za-z0-9._:/@+=-]{1,200}$"


class UsageEventIn(BaseModel):
    """One derivative use.  Give the content's sha256 or its URL (or both)."""

    model_config = ConfigDict(extra="forbid")

    licence_id: Annotated[StrictInt, Field(ge=1, le=MAX_ID)]
    event_id: Annotated[
        str,
        Field(
            pattern=EVENT_ID_PATTERN,
            description="The brand's own id of this use; resending it with the same content is answered "
            "`duplicate` with the original receipt, with other content `rejected` (`event_id_conflict`).",
        ),
    ]
    kind: UsageKind
    quantity: Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]
    occurred_at: AwareDatetime
    territory: Annotated[str, Field(pattern=TERRITORY.pattern)]
    media: Medium
    content_sha256: Optional[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]] = None
    content_url: Optional[Annotated[str, Text(2000, min_length=1), Field(pattern=r"^https?://[^\s]+$")]] = None

    @model_validator(mode="after")
    def _content(self) -> UsageEventIn:
        if self.content_sha256 is None and self.content_url is None:
            raise ValueError("content_sha256: give content_sha256 or content_url")
        return self


class UsageIn(BaseModel):
    """A batch of up to 1,000 events; a single event object (without ``events``) is also accepted."""

    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[UsageEventIn], Field(min_length=1, max_length=MAX_BATCH)]

    @model_validator(mode="before")
    @classmethod
    def _single(cls, data: Any) -> Any:
        if isinstance(data, dict) and "events" not in data:
            return {"events": [data]}
        return data
