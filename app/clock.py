"""The time, as a collaborator: services take ``now`` as an argument; the pages,
commands and jobs that call them read it from the app's ``Clock`` (tests freeze it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(UTC)
