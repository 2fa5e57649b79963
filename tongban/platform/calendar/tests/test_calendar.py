from __future__ import annotations

import datetime as dt

import pytest

from tongban.platform.audit.models import AuditEntry
from tongban.platform.calendar import services
from tongban.platform.calendar.models import CalendarDay, CalendarYear, DayKind, Source
from tongban.platform.calendar.workdays import WorkCalendar

D = dt.date
TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def seeded(db):
    services.calendar_seed()
    yield services.get_calendar(refresh=True)
    services.invalidate()


def test_spring_festival_2026(seeded):
    for day in [
        D(2026, 2, 16),
        D(2026, 2, 17),
        D(2026, 2, 18),
        D(2026, 2, 19),
        D(2026, 2, 20),
        D(2026, 2, 23),
    ]:
        assert not seeded.is_workday(day), day
    assert CalendarDay.objects.get(date=D(2026, 2, 16)).name == "春节"
    # make-up Saturdays before and after the holiday
    assert seeded.is_workday(D(2026, 2, 14))
    assert seeded.is_workday(D(2026, 2, 28))
    assert CalendarDay.objects.get(date=D(2026, 2, 14)).kind == DayKind.MAKEUP_WORKDAY
    # accepted Friday 13 Feb: 1st working day after is the make-up Saturday 14 Feb,
    # the 2nd is Tuesday 24 Feb (15–23 Feb are holidays and the weekend)
    assert seeded.add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert seeded.add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)
    # a 20-working-day limit from acceptance on Monday 9 Feb 2026: 10–14 Feb (5, with the
    # make-up Saturday), 24–28 Feb (10), 2–6 Mar (15), 9–13 Mar (20)
    assert seeded.add_working_days(D(2026, 2, 9), 20) == D(2026, 3, 13)


def test_national_day_2026_makeup_days(seeded):
    assert seeded.is_workday(D(2026, 9, 20))  # Sunday, make-up
    assert seeded.is_workday(D(2026, 10, 10))  # Saturday, make-up
    for day in range(1, 8):
        if D(2026, 10, day).weekday() < 5:
            assert not seeded.is_workday(D(2026, 10, day))
    # accepted Wednesday 30 Sep: the next working day is Thursday 8 Oct
    assert seeded.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert seeded.working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3  # 8, 9, 10


def test_datetimes_are_read_in_beijing_time(seeded):
    late_evening_utc = dt.datetime(2026, 2, 13, 17, 0, tzinfo=dt.UTC)  # 01:00 on 14 Feb
    assert seeded.add_working_days(late_evening_utc, 1) == D(2026, 2, 24)


def test_pauses_are_subtracted_once_even_when_they_overlap():
    calendar = WorkCalendar({}, [])  # plain Mon–Fri
    start, end = D(2030, 3, 1), D(2030, 3, 29)  # Friday to Friday
    assert calendar.working_days_between(start, end) == 20
    pauses = [(D(2030, 3, 8), D(2030, 3, 15)), (D(2030, 3, 11), D(2030, 3, 18))]
    # merged pause (8 Mar, 18 Mar]: 11–15 Mar and 18 Mar are six working days
    assert calendar.working_days_elapsed(start, end, pauses) == 20 - 6
    open_pause = [(D(2030, 3, 22), None)]
    assert calendar.working_days_elapsed(start, end, open_pause) == 20 - 5


@pytest.mark.django_db
def test_an_unknown_year_counts_weekdays_and_warns():
    services.invalidate()
    calendar = services.get_calendar(refresh=True)
    assert calendar.is_workday(D(2027, 2, 8))  # Monday: no data, so a workday
    assert not calendar.is_workday(D(2027, 2, 6))
    warnings = services.coverage_warnings(D(2026, 11, 23))
    assert len(warnings) == 2
    assert "2027" in warnings[1]


@pytest.mark.django_db
def test_csv_import_of_a_year_the_package_does_not_know(client):
    content = "date,kind,name\n2027-02-08,holiday,春节\n2027-02-06,makeup_workday,春节\n"
    result = services.calendar_import_csv(actor=None, content=content)
    assert result.ok
    assert result.year == 2027
    assert CalendarYear.objects.get(year=2027).source == Source.CSV
    assert CalendarDay.objects.filter(date__year=2027).count() == 365
    calendar = services.get_calendar(refresh=True)
    assert not calendar.is_workday(D(2027, 2, 8))
    assert calendar.is_workday(D(2027, 2, 6))
    assert AuditEntry.objects.filter(action="calendar.import").count() == 1
    assert "2027" not in " ".join(services.coverage_warnings(D(2026, 11, 23)))


@pytest.mark.django_db
def test_a_bad_csv_writes_nothing_and_names_the_lines():
    content = (
        "date,kind,name\n2027-02-08,holiday,春节\n2027-02-30,holiday,x\n"
        "2027-03-01,party,x\n2027-02-08,holiday,dup\n2028-01-01,holiday,元旦\n"
    )
    result = services.calendar_import_csv(actor=None, content=content)
    assert not result.ok
    assert result.errors[0].startswith("第3行")
    assert result.errors[1].startswith("第4行")
    assert result.errors[2].startswith("第5行")
    assert result.errors[3] == "第6行：日期 2028-01-01 不属于 2027 年（一个文件只能包含一个年份）"
    assert len(result.errors) == 4
    assert CalendarDay.objects.count() == 0
    assert CalendarYear.objects.count() == 0


@pytest.mark.django_db
def test_seeding_is_idempotent_and_keeps_manual_edits():
    services.calendar_seed()
    count = CalendarDay.objects.count()
    services.calendar_day_set(actor=None, date=D(2026, 3, 2), kind=DayKind.HOLIDAY, name="防汛停工")
    services.calendar_seed()
    assert CalendarDay.objects.count() == count
    assert CalendarDay.objects.get(date=D(2026, 3, 2)).source == Source.MANUAL
    assert not services.get_calendar(refresh=True).is_workday(D(2026, 3, 2))
    assert CalendarYear.objects.filter(year__gte=2004, year__lte=2026).count() == 23


@pytest.mark.django_db
def test_the_calendar_page_imports_and_lists_errors_per_line(client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from tests import factories
    from tongban.platform.access.models import Scope
    from tongban.platform.access.permissions import CALENDAR_MANAGE

    clerk = factories.staff("clerk")
    client.force_login(clerk)
    assert client.get(reverse("calendar:index")).status_code == 403
    manager = factories.staff(
        "manager", role_obj=factories.role("cal", [CALENDAR_MANAGE]), scope=Scope.ALL
    )
    client.force_login(manager)
    bad = SimpleUploadedFile("2027.csv", b"date,kind,name\n2027-13-01,holiday,x\n")
    response = client.post(reverse("calendar:index"), {"file": bad})
    assert response.status_code == 200
    assert "第2行：日期“2027-13-01”无效，应为 YYYY-MM-DD" in response.content.decode()
    assert CalendarDay.objects.count() == 0
    good = SimpleUploadedFile("2027.csv", "date,kind,name\n2027-01-01,holiday,元旦\n".encode())
    response = client.post(reverse("calendar:index"), {"file": good})
    assert "2027 年工作日历已导入" in response.content.decode()
    entry = AuditEntry.objects.get(action="calendar.import")
    assert entry.actor_id == manager.pk
