from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse

from tongban.platform.access.permissions import CALENDAR_MANAGE
from tongban.platform.audit.admin_base import PlatformModelAdmin
from tongban.platform.calendar.models import CalendarDay, CalendarYear
from tongban.platform.calendar.services import calendar_day_set, coverage_warnings


@admin.register(CalendarDay)
class CalendarDayAdmin(PlatformModelAdmin):
    view_permission = CALENDAR_MANAGE
    manage_permission = CALENDAR_MANAGE
    list_display = ("date", "kind", "name", "source", "updated_at", "updated_by")
    list_filter = ("kind", "source")
    date_hierarchy = "date"
    search_fields = ("name",)
    fields = ("date", "kind", "name")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("date",) if obj is not None else ()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        for warning in coverage_warnings():
            messages.warning(request, warning)
        return super().changelist_view(request, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        calendar_day_set(actor=request.user, date=obj.date, kind=obj.kind, name=obj.name)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CalendarYear)
class CalendarYearAdmin(PlatformModelAdmin):
    view_permission = CALENDAR_MANAGE
    list_display = ("year", "source", "loaded_at")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False
