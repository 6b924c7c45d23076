"""Which days the hall works: statutory holidays and make-up working days (调休), plus the hall's own changes.

The official dates come from the `chinese-calendar` package, which holds each year's published arrangement
(2004 up to the year it was released for) and raises NotImplementedError beyond it. For a year it does not know,
the calendar falls back to Monday to Friday minus the holidays fixed to a date (元旦 1 Jan, 劳动节 1–3 May,
国庆节 1–3 Oct); the moving ones (春节, 清明, 端午, 中秋) and all 调休 are then missing. Until the package is
upgraded, the hall should add that year's published holidays as `extra_holidays` and its make-up working days
as `extra_workdays`; `known(d)` tells whether the official data covered a date.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

import chinese_calendar

if TYPE_CHECKING:
    from knowledge.model import Schedule

# The package's English holiday names (chinese_calendar.Holiday values) in Chinese.
_CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}

# Used only for years the package does not know yet.
_FIXED_HOLIDAYS = {(1, 1): "元旦", (5, 1): "劳动节", (5, 2): "劳动节", (5, 3): "劳动节",
                   (10, 1): "国庆节", (10, 2): "国庆节", (10, 3): "国庆节"}

_WEEKDAY_NAMES = "一二三四五六日"
_ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=8192)  # a few years of days: counting working days over long spans stays cheap
def _official(d: date) -> tuple[bool, str | None] | None:
    """(is a holiday, its English name) from the package, or None when the package has no data for that year."""
    try:
        return chinese_calendar.get_holiday_detail(d)
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class Calendar:
    """The hall's working days. `extra_holidays` and `extra_workdays` are the hall's own changes (a closure for
    moving house, a Saturday opening, or a year the package does not know yet) and win over everything else."""

    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def __init__(self, extra_holidays: Iterable[date] = frozenset(), extra_workdays: Iterable[date] = frozenset()):
        holidays, workdays = frozenset(extra_holidays), frozenset(extra_workdays)
        both = holidays & workdays
        if both:
            raise ValueError(f"dates both extra holidays and extra workdays: {sorted(both)}")
        object.__setattr__(self, "extra_holidays", holidays)
        object.__setattr__(self, "extra_workdays", workdays)

    def known(self, d: date) -> bool:
        """Whether the official holiday arrangement for d's year is in the package."""
        return _official(d) is not None

    def is_workday(self, d: date) -> bool:
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        official = _official(d)
        if official is not None:
            return not official[0]
        return d.weekday() < 5 and (d.month, d.day) not in _FIXED_HOLIDAYS

    def holiday_name(self, d: date) -> str | None:
        """The Chinese name of the statutory holiday d falls in ("国庆节"), or None (a working day, an ordinary
        weekend, or a closure of the hall's own)."""
        if self.is_workday(d) or d in self.extra_holidays:
            return None
        official = _official(d)
        if official is not None:
            return _CHINESE_NAMES.get(official[1], official[1]) if official[1] else None
        return _FIXED_HOLIDAYS.get((d.month, d.day))

    def closed_text(self, d: date) -> str | None:
        """Why the hall is closed on d, for the citizen ("10月1日是国庆节假期，不办公。"), or None if it is open."""
        if self.is_workday(d):
            return None
        name = self.holiday_name(d)
        if name:
            return f"{d.month}月{d.day}日是{name}假期，不办公。"
        if d.weekday() >= 5 and d not in self.extra_holidays:
            return f"{d.month}月{d.day}日是周{_WEEKDAY_NAMES[d.weekday()]}，不办公。"
        return f"{d.month}月{d.day}日大厅不办公。"

    def add_workdays(self, start: date, n: int) -> date:
        """The n-th working day after start (start itself not counted). n=0: start if it is a working day,
        otherwise the next one. "5个工作日" from a Friday application: add_workdays(friday, 5)."""
        if n < 0:
            raise ValueError("n must be 0 or more")
        day = start
        if n == 0:
            while not self.is_workday(day):
                day += _ONE_DAY
            return day
        while n:
            day += _ONE_DAY
            n -= self.is_workday(day)
        return day

    def next_workdays(self, start: date, count: int) -> list[date]:
        """The first `count` working days from start on, start included if it is one (booking slots to offer)."""
        days: list[date] = []
        day = start
        while len(days) < count:
            if self.is_workday(day):
                days.append(day)
            day += _ONE_DAY
        return days

    def workdays_between(self, a: date, b: date) -> int:
        """Working days after a up to and including b, so workdays_between(a, add_workdays(a, n)) == n.
        Negative when b is before a."""
        if b < a:
            return -self.workdays_between(b, a)
        return self._workdays_before(b + _ONE_DAY) - self._workdays_before(a + _ONE_DAY)

    def _workdays_before(self, d: date) -> int:
        """Working days from 1 January of d's year up to the day before d, plus those of the years before it back
        to a fixed start; only differences of this are meaningful."""
        total = sum(_year_counts(self, year)[-1] for year in range(_EPOCH_YEAR, d.year))
        return total + _year_counts(self, d.year)[d.timetuple().tm_yday - 1]


_EPOCH_YEAR = 2000


@lru_cache(maxsize=256)
def _year_counts(calendar: Calendar, year: int) -> tuple[int, ...]:
    """counts[i]: working days among the first i days of `year` (counts[-1]: the whole year)."""
    counts = [0]
    day = date(year, 1, 1)
    while day.year == year:
        counts.append(counts[-1] + calendar.is_workday(day))
        day += _ONE_DAY
    return tuple(counts)


def is_open(schedule: "Schedule", calendar: Calendar, now: datetime) -> bool:
    """Whether the hall is open at `now` (hall-local): a working day, within one of its working periods."""
    return calendar.is_workday(now.date()) and schedule.is_open_at(now.time())


def next_opening(periods: "Iterable[tuple[time, time]]", calendar: Calendar, now: datetime) -> datetime | None:
    """When the hall next opens after `now` (hall-local, aware): the start of its next working period."""
    periods = tuple(periods)
    day = now.date()
    for _ in range(60):
        if calendar.is_workday(day):
            for start, _end in periods:
                opening = datetime.combine(day, start, now.tzinfo)
                if opening > now:
                    return opening
        day += _ONE_DAY
    return None
