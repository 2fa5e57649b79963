from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from tongban.platform.access.decorators import permission
from tongban.platform.access.permissions import CALENDAR_MANAGE
from tongban.platform.calendar.models import CalendarYear
from tongban.platform.calendar.services import calendar_import_csv, coverage_warnings


@permission(CALENDAR_MANAGE)
def index(request: HttpRequest) -> HttpResponse:
    result = None
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("请选择CSV文件")]
        elif (upload.size or 0) > 1024 * 1024:
            errors = [_("文件过大")]
        else:
            try:
                content = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                errors = [_("文件不是UTF-8编码的CSV")]
            else:
                result = calendar_import_csv(actor=request.user, content=content)
                errors = result.errors
    return render(
        request,
        "calendar/index.html",
        {
            "years": CalendarYear.objects.all(),
            "warnings": coverage_warnings(),
            "result": result,
            "errors": errors,
        },
    )
