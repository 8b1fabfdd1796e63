"""The work calendar: official holidays and 调休, working-time arithmetic, unknown years, admin entry."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from changxin.core import workcalendar
from changxin.core.models import AuditEntry, CalendarDay, CalendarYear, Role, User
from changxin.core.workcalendar import (
    WorkCalendar,
    add_working_time,
    is_workday,
    office_periods,
    seed_from_chinese_calendar,
    working_days_between,
    working_time_between,
)

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def calendar(db):
    assert seed_from_chinese_calendar([2024, 2025, 2026]) == [2024, 2025, 2026]
    workcalendar.calendar_changed()
    return WorkCalendar.from_database()


def test_seed_is_idempotent_and_keeps_only_exceptions(calendar):
    count = CalendarDay.objects.count()
    seed_from_chinese_calendar([2024, 2025, 2026])
    assert CalendarDay.objects.count() == count
    # stored days are holidays or 调休 weekend workdays, never an ordinary weekday workday
    for day in CalendarDay.objects.all():
        assert not day.is_workday or day.date.weekday() >= 5


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-10-01", False),  # 国庆节, Wednesday
        ("2025-10-08", False),  # last day of the 2025 National Day holiday
        ("2025-10-09", True),
        ("2025-09-28", True),  # 调休: a Sunday that is a working day
        ("2025-10-11", True),  # 调休 Saturday
        ("2025-09-27", False),  # ordinary Saturday
        ("2025-09-29", True),  # ordinary Monday
        ("2026-01-01", False),  # 元旦
        ("2026-02-14", True),  # 调休 Saturday before the Spring Festival
    ],
)
def test_known_days(calendar, day, expected):
    assert is_workday(dt.date.fromisoformat(day)) is expected


@pytest.mark.parametrize(
    ("start", "amount", "expected"),
    [
        # across a weekend: Friday 16:00 + 2 h = 1 h on Friday + 1 h on Monday
        ("2025-09-12 16:00", {"hours": 2}, "2025-09-15 10:00"),
        # the lunch break does not count
        ("2025-09-15 11:00", {"hours": 2}, "2025-09-15 14:00"),
        # across National Day 2025 (Oct 1-8 off)
        ("2025-09-30 16:00", {"hours": 2}, "2025-10-09 10:00"),
        ("2025-09-30 10:00", {"days": 1}, "2025-10-09 10:00"),
        # into a 调休 working Sunday
        ("2025-09-26 16:00", {"hours": 2}, "2025-09-28 10:00"),
        # starting outside office hours counts from the next opening
        ("2025-09-13 20:00", {"hours": 1}, "2025-09-15 10:00"),
        # 7 working days from a Monday morning: the next Wednesday, same time
        ("2025-09-15 10:00", {"days": 7}, "2025-09-24 10:00"),
    ],
)
def test_add_working_time_examples(calendar, start, amount, expected):
    answer = add_working_time(at(start), **amount)
    assert answer.value == at(expected)
    assert not answer.is_estimate


def test_working_time_between_examples(calendar):
    assert working_time_between(at("2025-09-12 16:00"), at("2025-09-15 10:00")).value == dt.timedelta(hours=2)
    assert working_time_between(at("2025-09-15 10:00"), at("2025-09-12 16:00")).value == -dt.timedelta(
        hours=2
    )
    assert working_days_between(at("2025-09-30 10:00"), at("2025-10-09 10:00")).value == pytest.approx(1)


def test_adding_nothing_inside_office_hours_stays_put(calendar):
    for moment in ("2025-09-15 09:00", "2025-09-15 12:00", "2025-09-15 13:00", "2025-09-15 17:00"):
        assert add_working_time(at(moment)).value == at(moment)
    assert add_working_time(at("2025-09-15 12:30")).value == at("2025-09-15 13:00")
    assert add_working_time(at("2025-09-15 17:01")).value == at("2025-09-16 09:00")


def test_negative_amounts_are_refused(calendar):
    with pytest.raises(ValueError):
        add_working_time(at("2025-09-15 10:00"), hours=-1)


def test_unknown_year_falls_back_to_weekends_and_says_so(calendar):
    # 2031 is not in the chinese-calendar package; Oct 1 2031 is a Wednesday
    answer = add_working_time(at("2031-09-30 16:00"), hours=2)
    assert answer.value == at("2031-10-01 10:00")
    assert answer.is_estimate and answer.fallback_years == frozenset({2031})
    friday = add_working_time(at("2031-10-03 16:00"), hours=2)
    assert friday.value == at("2031-10-06 10:00") and friday.is_estimate
    assert working_time_between(at("2031-10-03 16:00"), at("2031-10-06 10:00")).is_estimate
    # a known year is not an estimate
    assert not add_working_time(at("2025-09-30 16:00"), hours=2).is_estimate


def test_admin_enters_a_new_years_schedule(client, calendar):
    admin = User.objects.create_user("caladmin", password="x", role=Role.ADMIN)
    client.force_login(admin)
    data = {
        "year": "2031",
        "notice": "国务院办公厅关于2031年部分节假日安排的通知",
        "days-TOTAL_FORMS": "2",
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2031-10-01",
        "days-0-is_workday": "",
        "days-0-name": "国庆节",
        "days-1-date": "2031-09-28",  # a Sunday made a working day
        "days-1-is_workday": "on",
        "days-1-name": "国庆节调休",
    }
    response = client.post(reverse("admin:core_calendaryear_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    year = CalendarYear.objects.get(year=2031)
    assert year.source == CalendarYear.Source.ADMIN and year.entered_by == admin
    assert AuditEntry.objects.filter(object_id="2031", actor=admin).exists()
    # the inline rows are saved (a district admin is not a superuser) and audited one by one
    assert CalendarDay.objects.filter(year=year).count() == 2
    assert AuditEntry.objects.filter(actor=admin, detail="admin inline", action="create").count() == 2

    # the change is visible at once (the cached snapshot was invalidated)
    assert is_workday(dt.date(2031, 10, 1)) is False
    assert is_workday(dt.date(2031, 9, 28)) is True
    answer = add_working_time(at("2031-09-30 16:00"), hours=2)
    assert answer.value == at("2031-10-02 10:00")
    assert not answer.is_estimate
    # the package never overwrites an administrator's year
    seed_from_chinese_calendar()
    assert CalendarYear.objects.get(year=2031).source == CalendarYear.Source.ADMIN


def test_calendar_admin_is_closed_to_unit_staff(client, calendar):
    officer = User.objects.create_user("calofficer", password="x", role=Role.OFFICER)
    client.force_login(officer)
    assert client.get(reverse("admin:core_calendaryear_changelist")).status_code == 403


# --- properties --------------------------------------------------------------------------------

starts = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2026, 10, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=TZ)
)
amounts = st.integers(min_value=0, max_value=20 * 7 * 60)  # minutes, up to 20 working days
PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def in_office_hours(cal: WorkCalendar, moment: dt.datetime) -> bool:
    moment = moment.astimezone(TZ)
    return cal.is_workday(moment.date()) and any(a <= moment.time() <= b for a, b in office_periods())


@PROPERTY
@given(start=starts, minutes=amounts)
def test_add_then_between_round_trips(calendar, start, minutes):
    end = calendar.add_working_time(start, hours=minutes / 60).value
    assert calendar.working_time_between(start, end).value == dt.timedelta(minutes=minutes)


@PROPERTY
@given(start=starts, x=amounts, y=amounts)
def test_add_is_monotonic(calendar, start, x, y):
    small, large = sorted((x, y))
    assert (
        calendar.add_working_time(start, hours=small / 60).value
        <= calendar.add_working_time(start, hours=large / 60).value
    )


@PROPERTY
@given(a=starts, b=starts, minutes=amounts)
def test_later_start_never_gives_an_earlier_deadline(calendar, a, b, minutes):
    early, late = sorted((a, b))
    assert (
        calendar.add_working_time(early, hours=minutes / 60).value
        <= calendar.add_working_time(late, hours=minutes / 60).value
    )


@PROPERTY
@given(start=starts, minutes=amounts)
def test_results_land_inside_office_hours_on_working_days(calendar, start, minutes):
    assert in_office_hours(calendar, calendar.add_working_time(start, hours=minutes / 60).value)


@PROPERTY
@given(start=starts, x=amounts, y=amounts)
@example(start=at("2025-09-15 11:00"), x=60, y=0)  # lands exactly at the lunch break
@example(start=at("2025-09-15 16:00"), x=60, y=0)  # lands exactly at closing time
@example(start=at("2025-09-30 16:00"), x=60, y=60)  # closing time before a holiday week
def test_add_is_additive(calendar, start, x, y):
    step = calendar.add_working_time(calendar.add_working_time(start, hours=x / 60).value, hours=y / 60).value
    assert step == calendar.add_working_time(start, hours=(x + y) / 60).value


@PROPERTY
@given(start=starts, days=st.integers(min_value=0, max_value=15))
def test_days_are_office_days(calendar, start, days):
    by_days = calendar.add_working_time(start, days=days).value
    by_hours = calendar.add_working_time(start, hours=days * 7).value
    assert by_days == by_hours
