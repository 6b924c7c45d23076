"""What the dialogue layer may know of the case database, as plain read-only records.

The gateway builds these (bot/…) and hands them over through `Env` callables, which are only called when a turn
needs them (a progress query, a booking), so an ordinary question costs no database read.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time


@dataclass(frozen=True)
class SlotView:
    """A booking slot of one working day, and how many places are still free."""

    day: date
    start: time
    end: time
    left: int


@dataclass(frozen=True)
class CaseView:
    """One of the citizen's own cases, as the citizen may see it."""

    number: str  # BB20261122-0007
    item_id: str | None
    item_title: str
    state: str  # 待甄别 / 待补正 / 已受理 / 办理中 / 已办结 / 不予受理 / 已终止
    next_step: str  # what happens next, in plain words
    holder: str | None  # who holds it: the unit (and the clerk's surname + 工作人员), never a full name
    due_date: date | None  # the deadline of the current step
    form: str | None  # 现场帮办 / 代办 / 上门帮办 …
    appointment: SlotView | None  # the booked slot, if any (left is 0: not meaningful here)
    rated: bool  # an evaluation exists
    closed: bool  # 已办结 / 不予受理 / 已终止


@dataclass(frozen=True)
class HandoffOutlook:
    """What to tell a citizen who asks for a person: is anyone working now, how many wait before them."""

    open_now: bool  # within the hall's working periods on a working day
    ahead: int  # conversations waiting before this one (green channel counted first)
    answer_by: datetime | None  # outside working hours: by when staff will answer (hall time)
    wait_minutes: int  # how long the citizen is asked to wait before the bot takes over again
