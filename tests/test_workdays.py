"""The hall's working days on real dates: the 2026 arrangement as published by the State Council, weekends,
the hall's own changes, and a year the chinese-calendar package does not know yet."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from dialogs.workdays import Calendar

CALENDAR = Calendar()


@pytest.mark.parametrize("day", [date(2026, 10, d) for d in range(1, 8)])
def test_national_day_2026_is_seven_days_off(day):
    assert not CALENDAR.is_workday(day)
    assert CALENDAR.holiday_name(day) == "国庆节"


@pytest.mark.parametrize("day", [date(2026, 9, 20), date(2026, 10, 10)])
def test_the_national_day_make_up_sunday_and_saturday_2026_are_working_days(day):
    assert day.weekday() >= 5
    assert CALENDAR.is_workday(day)
    assert CALENDAR.holiday_name(day) is None


def test_spring_festival_2026_runs_from_15_to_23_february_with_two_make_up_saturdays():
    assert all(not CALENDAR.is_workday(date(2026, 2, d)) for d in range(15, 24))
    assert CALENDAR.holiday_name(date(2026, 2, 17)) == "春节"
    assert CALENDAR.is_workday(date(2026, 2, 14)) and CALENDAR.is_workday(date(2026, 2, 28))  # Saturdays
    assert CALENDAR.is_workday(date(2026, 2, 24))


def test_an_ordinary_weekend_is_closed_without_a_holiday_name():
    saturday, sunday, monday = date(2026, 3, 14), date(2026, 3, 15), date(2026, 3, 16)
    assert not CALENDAR.is_workday(saturday) and not CALENDAR.is_workday(sunday) and CALENDAR.is_workday(monday)
    assert CALENDAR.holiday_name(saturday) is None
    assert CALENDAR.closed_text(sunday) == "3月15日是周日，不办公。"


def test_the_citizen_is_told_why_the_hall_is_closed():
    assert CALENDAR.closed_text(date(2026, 10, 1)) == "10月1日是国庆节假期，不办公。"
    assert CALENDAR.closed_text(date(2026, 9, 25)) == "9月25日是中秋节假期，不办公。"
    assert CALENDAR.closed_text(date(2026, 10, 10)) is None


def test_five_working_days_from_the_last_day_before_national_day_skip_the_holiday():
    # Wednesday 30 September 2026; the holiday is 1-7 October, 8 and 9 work, 10 (Saturday) is a make-up day.
    assert CALENDAR.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CALENDAR.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CALENDAR.add_workdays(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_zero_working_days_is_today_if_open_else_the_next_open_day():
    assert CALENDAR.add_workdays(date(2026, 3, 16), 0) == date(2026, 3, 16)
    assert CALENDAR.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 8)
    with pytest.raises(ValueError):
        CALENDAR.add_workdays(date(2026, 3, 16), -1)


def test_the_next_working_days_offered_for_booking_start_today_when_open():
    assert CALENDAR.next_workdays(date(2026, 9, 30), 4) == [
        date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    assert CALENDAR.next_workdays(date(2026, 10, 1), 1) == [date(2026, 10, 8)]
    assert CALENDAR.next_workdays(date(2026, 10, 1), 0) == []


def test_working_days_between_two_dates_undo_adding_them():
    start = date(2026, 9, 18)
    for n in range(0, 30):
        end = CALENDAR.add_workdays(start, n) if n else start
        assert CALENDAR.workdays_between(start, end) == n
    assert CALENDAR.workdays_between(date(2026, 10, 1), date(2026, 9, 30)) == 0
    assert CALENDAR.workdays_between(date(2026, 10, 9), date(2026, 9, 30)) == -2
    assert CALENDAR.workdays_between(date(2026, 9, 30), date(2026, 10, 9)) == 2


def test_the_package_knows_2026_but_not_2027():
    assert CALENDAR.known(date(2026, 12, 31))
    assert not CALENDAR.known(date(2027, 1, 4))


def test_a_year_beyond_the_package_falls_back_to_weekdays_minus_fixed_holidays():
    assert CALENDAR.is_workday(date(2027, 1, 4))  # Monday
    assert not CALENDAR.is_workday(date(2027, 1, 9))  # Saturday
    assert not CALENDAR.is_workday(date(2027, 1, 1)) and CALENDAR.holiday_name(date(2027, 1, 1)) == "元旦"
    assert not CALENDAR.is_workday(date(2027, 5, 3)) and CALENDAR.holiday_name(date(2027, 5, 3)) == "劳动节"
    assert not CALENDAR.is_workday(date(2027, 10, 1)) and CALENDAR.holiday_name(date(2027, 10, 1)) == "国庆节"
    assert CALENDAR.is_workday(date(2027, 10, 4))  # Monday: the rest of the week is not known until published
    assert CALENDAR.add_workdays(date(2027, 4, 30), 1) == date(2027, 5, 4)


def test_the_halls_own_changes_win_over_the_official_calendar():
    moving_day, saturday_opening = date(2026, 3, 16), date(2026, 3, 14)
    hall = Calendar(extra_holidays={moving_day}, extra_workdays={saturday_opening})
    assert not hall.is_workday(moving_day) and hall.is_workday(saturday_opening)
    assert hall.closed_text(moving_day) == "3月16日大厅不办公。"
    assert hall.add_workdays(date(2026, 3, 13), 1) == saturday_opening
    assert hall.add_workdays(date(2026, 3, 14), 1) == date(2026, 3, 17)


def test_a_year_the_package_lacks_can_be_filled_in_by_the_hall():
    spring_festival_2027 = frozenset(date(2027, 2, 6) + timedelta(days=i) for i in range(9))
    hall = Calendar(extra_holidays=spring_festival_2027)
    assert not hall.is_workday(date(2027, 2, 8)) and CALENDAR.is_workday(date(2027, 2, 8))


def test_a_date_cannot_be_both_an_extra_holiday_and_an_extra_workday():
    with pytest.raises(ValueError):
        Calendar(extra_holidays={date(2026, 3, 16)}, extra_workdays={date(2026, 3, 16)})


def test_a_calendar_is_immutable_and_compares_by_its_overrides():
    hall = Calendar(extra_holidays=[date(2026, 3, 16)])
    assert hall == Calendar(extra_holidays=frozenset({date(2026, 3, 16)}))
    assert isinstance(hall.extra_holidays, frozenset)
    with pytest.raises(AttributeError):
        hall.extra_holidays = frozenset()  # type: ignore[misc]
