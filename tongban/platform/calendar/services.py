"""Loading, editing and querying the working-day calendar."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.platform.audit.services import audit_record
from tongban.platform.calendar.models import CalendarDay, CalendarYear, DayKind, Source
from tongban.platform.calendar.workdays import WorkCalendar

RECHECK_SECONDS = 30.0
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_lock = threading.Lock()
_cache: dict[str, Any] = {"calendar": None, "stamp": None, "checked": 0.0}


def _stamp() -> tuple[Any, ...]:
    days = CalendarDay.objects.aggregate(changed=Max("updated_at"), count=Count("pk"))
    years = CalendarYear.objects.aggregate(changed=Max("loaded_at"), count=Count("pk"))
    return (days["changed"], days["count"], years["changed"], years["count"])


def get_calendar(*, refresh: bool = False) -> WorkCalendar:
    """The process's in-memory calendar, rebuilt when the table changed (checked at most
    every 30 seconds, or at once after a change made in this process)."""
    now = time.monotonic()
    with _lock:
        cached: WorkCalendar | None = _cache["calendar"]
        if cached is not None and not refresh and now - _cache["checked"] < RECHECK_SECONDS:
            return cached
        stamp = _stamp()
        _cache["checked"] = now
        if cached is not None and stamp == _cache["stamp"] and not refresh:
            return cached
        kinds = dict(CalendarDay.objects.values_list("date", "kind"))
        years = CalendarYear.objects.values_list("year", flat=True)
        calendar = WorkCalendar(kinds, years, settings.TIME_ZONE)
        _cache.update(calendar=calendar, stamp=stamp)
        return calendar


def invalidate() -> None:
    with _lock:
        _cache.update(calendar=None, stamp=None, checked=0.0)


def add_working_days(start: dt.date | dt.datetime, days: int) -> dt.date:
    return get_calendar().add_working_days(start, days)


def working_days_between(start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> int:
    return get_calendar().working_days_between(start, end)


def working_days_elapsed(start: Any, end: Any, pauses: Any = ()) -> int:
    return get_calendar().working_days_elapsed(start, end, pauses)


def is_workday(day: dt.date | dt.datetime) -> bool:
    return get_calendar().is_workday(day)


def coverage_warnings(today: dt.date | None = None) -> list[str]:
    """Warnings for this year and next when not loaded (limits fall back to Mon–Fri)."""
    today = today or timezone.localdate()
    loaded = set(CalendarYear.objects.values_list("year", flat=True))
    return [
        _("%(year)s 年工作日历尚未载入，期限按周一至周五计算；请导入国务院办公厅公布的节假日安排")
        % {"year": year}
        for year in (today.year, today.year + 1)
        if year not in loaded
    ]


def _weekday_kind(day: dt.date) -> str:
    return DayKind.WORKDAY if day.weekday() < 5 else DayKind.REST


def _write_year(
    year: int, exceptions: dict[dt.date, tuple[str, str]], source: str, actor: Any
) -> int:
    """Write every day of ``year``; days edited by hand are kept."""
    manual = set(
        CalendarDay.objects.filter(date__year=year, source=Source.MANUAL).values_list(
            "date", flat=True
        )
    )
    existing = {day.date: day for day in CalendarDay.objects.filter(date__year=year)}
    day = dt.date(year, 1, 1)
    to_create, to_update = [], []
    while day.year == year:
        kind, name = exceptions.get(day, (_weekday_kind(day), ""))
        if day not in manual:
            row = existing.get(day)
            if row is None:
                to_create.append(
                    CalendarDay(date=day, kind=kind, name=name, source=source, updated_by=actor)
                )
            elif (row.kind, row.name, row.source) != (kind, name, source):
                row.kind, row.name, row.source, row.updated_by = kind, name, source, actor
                row.updated_at = timezone.now()
                to_update.append(row)
        day += dt.timedelta(days=1)
    CalendarDay.objects.bulk_create(to_create)
    CalendarDay.objects.bulk_update(
        to_update, ["kind", "name", "source", "updated_by", "updated_at"]
    )
    CalendarYear.objects.update_or_create(year=year, defaults={"source": source})
    return len(to_create) + len(to_update)


def calendar_seed(*, actor: Any = None) -> list[int]:
    """Load every year the chinese-calendar package knows (2004–2026). Idempotent."""
    import chinese_calendar

    years = sorted(
        {day.year for day in chinese_calendar.holidays}
        | {day.year for day in chinese_calendar.workdays}
    )
    names = {
        "New Year's Day": "元旦",
        "Spring Festival": "春节",
        "Tomb-sweeping Day": "清明节",
        "Labour Day": "劳动节",
        "Dragon Boat Festival": "端午节",
        "Mid-autumn Festival": "中秋节",
        "National Day": "国庆节",
        "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
    }
    with transaction.atomic():
        changed = 0
        for year in years:
            exceptions: dict[dt.date, tuple[str, str]] = {}
            for day, holiday in chinese_calendar.holidays.items():
                if day.year == year:
                    label = names.get(holiday, "")  # the package names holidays in English
                    exceptions[day] = (DayKind.HOLIDAY, label)
            for day, holiday in chinese_calendar.workdays.items():
                if day.year == year and day.weekday() >= 5:
                    label = names.get(holiday, "")  # the package names holidays in English
                    exceptions[day] = (DayKind.MAKEUP_WORKDAY, label)
            changed += _write_year(year, exceptions, Source.PACKAGE, actor)
        audit_record(
            action="calendar.seed",
            actor=actor,
            object_type="workcalendar.year",
            object_label=f"{years[0]}–{years[-1]}",
            detail={"changed_days": changed},
        )
    invalidate()
    return years


@dataclass
class ImportResult:
    year: int | None = None
    days: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


CSV_KINDS = {
    DayKind.HOLIDAY.value,
    DayKind.MAKEUP_WORKDAY.value,
    DayKind.WORKDAY.value,
    DayKind.REST.value,
}


def calendar_import_csv(*, actor: Any, content: str) -> ImportResult:
    """Load one year from CSV ``date,kind,name`` (the year's holidays and make-up days).
    The whole file is checked first; nothing is written if any line is wrong."""
    result = ImportResult()
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    exceptions: dict[dt.date, tuple[str, str]] = {}
    years: set[int] = set()
    for line_number, row in enumerate(reader, start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if line_number == 1 and row[0].strip().lower() == "date":
            continue
        if len(row) < 2:
            result.errors.append(
                _("第%(line)d行：应为“日期,类型,名称”三列") % {"line": line_number}
            )
            continue
        raw_date, kind = row[0].strip(), row[1].strip()
        name = row[2].strip() if len(row) > 2 else ""
        try:
            if not ISO_DATE.fullmatch(raw_date):
                raise ValueError(raw_date)
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            result.errors.append(
                _("第%(line)d行：日期“%(value)s”无效，应为 YYYY-MM-DD")
                % {"line": line_number, "value": raw_date}
            )
            continue
        if kind not in CSV_KINDS:
            result.errors.append(
                _(
                    "第%(line)d行：类型“%(value)s”无效，"
                    "应为 holiday、makeup_workday、workday 或 rest"
                )
                % {"line": line_number, "value": kind}
            )
            continue
        if day in exceptions:
            result.errors.append(
                _("第%(line)d行：日期 %(value)s 重复") % {"line": line_number, "value": raw_date}
            )
            continue
        if years and day.year not in years:
            result.errors.append(
                _("第%(line)d行：日期 %(value)s 不属于 %(year)d 年（一个文件只能包含一个年份）")
                % {"line": line_number, "value": raw_date, "year": min(years)}
            )
            continue
        years.add(day.year)
        exceptions[day] = (kind, name[:50])
    if not exceptions and not result.errors:
        result.errors.append(_("文件中没有任何日期"))
    if result.errors:
        return result
    result.year = years.pop()
    with transaction.atomic():
        result.days = _write_year(result.year, exceptions, Source.CSV, actor)
        audit_record(
            action="calendar.import",
            actor=actor,
            object_type="workcalendar.year",
            object_id=str(result.year),
            object_label=str(result.year),
            detail={"exceptions": len(exceptions), "changed_days": result.days},
        )
    invalidate()
    return result


@transaction.atomic
def calendar_day_set(*, actor: Any, date: dt.date, kind: str, name: str = "") -> CalendarDay:
    """Edit one day by hand (kept by later seeds and imports)."""
    if kind not in CSV_KINDS:
        raise ValueError(kind)
    previous = CalendarDay.objects.filter(date=date).first()
    day, _created = CalendarDay.objects.update_or_create(
        date=date,
        defaults={"kind": kind, "name": name, "source": Source.MANUAL, "updated_by": actor},
    )
    audit_record(
        action="calendar.day.set",
        actor=actor,
        target=day,
        detail={"before": previous.kind if previous else None, "after": kind},
    )
    transaction.on_commit(invalidate)
    return day
