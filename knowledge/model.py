"""Immutable records of the published catalogue and the hall's own data."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Mapping

SERVICE_FORMS = ("帮办", "代办", "上门服务")


@dataclass(frozen=True, slots=True)
class Item:
    """One service item (事项 or 子项) with its office guide ("八公开" fields where known)."""

    id: str
    name: str
    unit: str
    sub_item: str | None = None
    catalogue_name: str | None = None
    level: str | None = None
    region: str | None = None
    item_type: str | None = None
    categories: tuple[str, ...] = ()
    audience: tuple[str, ...] = ()
    promised_limit: str | None = None
    legal_limit: str | None = None
    conditions: str | None = None
    materials: tuple[str, ...] = ()
    location: str | None = None
    phone: str | None = None
    complaint_phone: str | None = None
    fee: str | None = None
    faq: str | None = None
    visits_required: int | None = None
    online_booking: bool | None = None
    mail_delivery: bool | None = None
    joint_units: str | None = None
    platform: str | None = None
    service_form: str | None = None
    url: str | None = None
    source_file: str = ""

    @property
    def title(self) -> str:
        """The name a citizen reads: the item name plus its sub-item when the name does not already say it."""
        if self.sub_item and self.sub_item not in self.name:
            return f"{self.name}（{self.sub_item}）"
        return self.name


@dataclass(frozen=True, slots=True)
class Catalogue:
    """All items of one published version. `version` is recorded on every answer and case."""

    version: str
    items: tuple[Item, ...]
    by_id: Mapping[str, Item] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", MappingProxyType({item.id: item for item in self.items}))

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str) -> Item | None:
        return self.by_id.get(item_id)


@dataclass(frozen=True, slots=True)
class ListingEntry:
    """One row of the hall's 帮办代办事项清单 (seed 003 附件1), linked to a catalogue item."""

    seq: int
    unit: str
    item_id: str
    item_name: str
    sub_item: str | None
    item_type: str | None
    category: str | None
    promised_limit: str | None
    forms: frozenset[str]  # subset of SERVICE_FORMS: which of 帮办 / 代办 / 上门服务 the hall offers
    note: str | None = None


@dataclass(frozen=True, slots=True)
class UnitContact:
    """A unit's published contacts (000/002 附件1): 预约电话, 办理人员, 邮寄地址, 收件人, own window if any."""

    unit: str
    booking_phone: str | None = None
    staff: tuple[str, ...] = ()
    mail_address: str | None = None
    recipient: str | None = None
    address: str | None = None  # None: the hall's address
    hours: str | None = None  # None: the hall's hours


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the hall works: staff answer 转人工 and bookings are taken, on working days (hall.toml [schedule]).

    `periods` are (start, end) times of a working day; booking slots of `slot_minutes` tile them, each taking
    `slot_capacity` people; bookings are offered up to `booking_days` working days ahead. A 转人工 nobody takes
    within `handoff_wait_minutes` is handed back to the bot. `extra_holidays` / `extra_workdays` override the
    national calendar (a local closure, or the next year's holidays before the calendar package knows them).
    """

    periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(17)))
    slot_minutes: int = 30
    slot_capacity: int = 3
    booking_days: int = 10
    handoff_wait_minutes: int = 10
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def is_open_at(self, moment: time) -> bool:
        return any(start <= moment < end for start, end in self.periods)

    def slots(self) -> tuple[tuple[time, time], ...]:
        """The booking slots of one working day, in order."""
        found: list[tuple[time, time]] = []
        for start, end in self.periods:
            cursor = datetime.combine(date.min, start)
            stop = datetime.combine(date.min, end)
            while cursor + timedelta(minutes=self.slot_minutes) <= stop:
                following = cursor + timedelta(minutes=self.slot_minutes)
                found.append((cursor.time(), following.time()))
                cursor = following
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Hall:
    """The service hall running this assistant, with the units stationed in it."""

    name: str
    address: str
    hours: str
    phone: str
    latitude: float | None = None
    longitude: float | None = None
    units: tuple[UnitContact, ...] = ()
    demo: bool = False  # sample data shipped with the project, to be replaced by the hall's own
    schedule: Schedule = Schedule()

    def unit(self, name: str) -> UnitContact | None:
        return next((u for u in self.units if u.unit == name), None)


@dataclass(frozen=True, slots=True)
class HallData:
    """The hall plus its published 事项清单, keyed by catalogue item id."""

    hall: Hall
    listing: Mapping[str, ListingEntry]

    def entry(self, item_id: str) -> ListingEntry | None:
        return self.listing.get(item_id)
