"""Working-hours arithmetic: due times inside a team's week, across weekends and DST changes."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.support import hours
from plugins.support.hours import WeeklyHours

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = tuple((d, 9 * 60, 17 * 60) for d in range(5))  # Mon-Fri 09:00-17:00
ALWAYS = tuple((d, 0, 1440) for d in range(7))


def local(tz, *parts):
    return datetime(*parts, tzinfo=tz).astimezone(UTC)


def test_due_time_skips_the_weekend_and_follows_the_spring_dst_change():
    berlin = WeeklyHours("Europe/Berlin", OFFICE)
    friday = local(BERLIN, 2026, 3, 27, 16, 0)  # CET, UTC+1; clocks go forward on Sunday the 29th
    due = hours.add_working_minutes(berlin, friday, 4 * 60)
    assert due == local(BERLIN, 2026, 3, 30, 12, 0)  # one hour on Friday, three on Monday (CEST)
    assert due == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)


def test_due_time_in_new_york_across_its_own_dst_change():
    new_york = WeeklyHours("America/New_York", OFFICE)
    friday = local(NEW_YORK, 2026, 3, 6, 16, 0)  # EST; DST starts on Sunday March 8
    assert hours.add_working_minutes(new_york, friday, 120) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("day,expected_hours", [((2026, 3, 29), 23), ((2026, 10, 25), 25), ((2026, 6, 1), 24)])
def test_a_whole_day_lasts_what_it_really_lasts(day, expected_hours):
    always = WeeklyHours("Europe/Berlin", ALWAYS)
    start = local(BERLIN, *day)
    end = local(BERLIN, *(start.astimezone(BERLIN) + timedelta(days=1)).date().timetuple()[:3])
    assert hours.working_minutes_between(always, start, end) == expected_hours * 60


def test_shift_over_the_skipped_and_the_repeated_hour():
    night = WeeklyHours("Europe/Berlin", ((6, 60, 240),))  # Sundays 01:00-04:00
    spring = local(BERLIN, 2026, 3, 29)
    autumn = local(BERLIN, 2026, 10, 25)
    assert hours.working_minutes_between(night, spring, spring + timedelta(days=1)) == 120  # 02:00-03:00 never happens
    assert hours.working_minutes_between(night, autumn, autumn + timedelta(days=1)) == 240  # 02:00-03:00 happens twice


def test_without_hours_the_clock_runs_all_the_time():
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert hours.add_working_minutes(None, start, 90) == start + timedelta(minutes=90)
    assert hours.add_working_minutes(WeeklyHours("UTC", ()), start, 90) == start + timedelta(minutes=90)


def test_on_duty_next_start_and_gaps_across_two_teams():
    shanghai = WeeklyHours("Asia/Shanghai", tuple((d, 8 * 60, 20 * 60) for d in range(7)))  # 00:00-12:00 UTC
    london = WeeklyHours("Europe/London", tuple((d, 12 * 60, 22 * 60) for d in range(7)))  # winter: 12:00-22:00 UTC
    monday = datetime(2026, 1, 5, tzinfo=UTC)
    assert hours.on_duty(shanghai, monday + timedelta(hours=3))
    assert not hours.on_duty(shanghai, monday + timedelta(hours=13))
    assert hours.next_start(shanghai, monday + timedelta(hours=13)) == monday + timedelta(hours=24)
    found = hours.gaps([shanghai, london], monday, monday + timedelta(days=1))
    assert found == [(monday + timedelta(hours=22), monday + timedelta(days=1))]


@pytest.mark.parametrize("text,minutes", [("09:30", 570), ("00:00", 0), ("24:00", 1440), ("7:05", 425)])
def test_parse_clock(text, minutes):
    assert hours.parse_clock(text) == minutes


@pytest.mark.parametrize("text", ["", "9", "25:00", "24:01", "12:60", "ab:cd", "12:5", "-1:00"])
def test_parse_clock_refuses_nonsense(text):
    with pytest.raises(ValueError):
        hours.parse_clock(text)


@settings(max_examples=60, deadline=None)
@given(start_minutes=st.integers(min_value=0, max_value=60 * 24 * 400), minutes=st.integers(min_value=0, max_value=60 * 200),
       zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Sydney"]))
def test_adding_then_measuring_gives_back_the_minutes(start_minutes, minutes, zone):
    weekly = WeeklyHours(zone, OFFICE + ((5, 10 * 60, 14 * 60),))
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=start_minutes, seconds=17)
    due = hours.add_working_minutes(weekly, start, minutes)
    assert due >= start
    assert hours.working_minutes_between(weekly, start, due) == minutes
