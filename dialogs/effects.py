"""What a turn asks the outside world to do. The gateway carries these out in one database transaction."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Escalate:
    """转人工: put the conversation in the staff queue (until the console exists: record it for staff)."""

    reason: str  # "asked" (转人工 / menu), "misunderstood" (repeated failures)
    item_id: str | None  # the item being discussed, if any
    catalogue_version: str | None
    last_question: str | None


@dataclass(frozen=True)
class KeepMedia:
    """A photo the citizen sent, to keep against their open case (by WeChat media id)."""

    media_id: str
    note: str | None = None


@dataclass(frozen=True)
class ForgetUser:
    """The citizen unfollowed: drop the conversation state (records stay, they are government records)."""


Effect = Escalate | KeepMedia | ForgetUser
