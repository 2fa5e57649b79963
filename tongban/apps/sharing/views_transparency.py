"""The citizen's "who used my data" page (谁使用了我的数据) and the improper-use report.

Any signed-in user may open the page: it lists only the calls on their own identity number
(and the enterprises they act for); a call that is not theirs is a 404 everywhere.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tongban.apps.sharing import transparency
from tongban.platform.access.decorators import signed_in

PAGE_SIZE = 30
NAV = "personal"


@signed_in
def my_data(request: HttpRequest) -> HttpResponse:
    subjects = transparency.subjects_of(request.user)
    calls = transparency.my_calls(user=request.user, subjects=subjects)
    page = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    call_ids = [call.pk for call in page.object_list]
    owners = transparency.whose(call_ids, subjects)
    reported = dict(
        transparency.my_reports(user=request.user)
        .filter(call_id__in=call_ids)
        .values_list("call_id", "status")
    )
    rows = [
        (
            call,
            transparency.resource_label(call),
            "、".join(owners.get(call.pk, [])),
            call.pk in reported,
        )
        for call in page.object_list
    ]
    return render(
        request,
        "sharing/transparency/my_data.html",
        {
            "has_identity": bool(subjects),
            "show_whose": any(not subject.is_self for subject in subjects),
            "page": page,
            "rows": rows,
            "reports": [
                (report, transparency.resource_label(report.call))
                for report in transparency.my_reports(user=request.user)[:50]
            ],
            "nav_active": NAV,
        },
    )


@signed_in
def my_data_report(request: HttpRequest, call_id: int) -> HttpResponse:
    call = transparency.access_call_for_subject(user=request.user, call_id=call_id)
    errors: list[str] = []
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            transparency.access_report_create(actor=request.user, call_id=call.pk, reason=reason)
        except ValidationError as error:
            errors = [str(message) for message in error.messages]
        else:
            messages.success(request, _("举报已提交，并已转电子监察处理"))
            return redirect("sharing:my_data")
    already = transparency.my_reports(user=request.user).filter(call=call).first()
    return render(
        request,
        "sharing/transparency/report.html",
        {
            "call": call,
            "resource_name": transparency.resource_label(call),
            "already": already,
            "errors": errors,
            "reason": reason,
            "reason_max": transparency.REASON_MAX,
            "nav_active": NAV,
        },
        status=400 if errors else 200,
    )
