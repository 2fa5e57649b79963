from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tongban.platform.access.decorators import signed_in
from tongban.platform.notify import selectors, services
from tongban.platform.notify.models import Message


def _own_message(request: HttpRequest, pk: int) -> Message:
    message = Message.objects.filter(pk=pk, recipient=request.user).first()  # type: ignore[misc]
    if message is None:
        raise Http404
    return message


@signed_in
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.messages_for(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "notify/inbox.html", {"page": page, "nav_active": "messages"})


@signed_in
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = _own_message(request, pk)
    services.message_mark_read(actor=request.user, message=message)
    return render(request, "notify/detail.html", {"message_obj": message, "nav_active": "messages"})


@signed_in
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    message = _own_message(request, pk)
    services.message_mark_read(actor=request.user, message=message)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "notify/_row.html", {"message_obj": message})
    return redirect("notify:inbox")


@signed_in
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    services.messages_mark_all_read(actor=request.user)
    return redirect("notify:inbox")


@signed_in
def preferences(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if request.method == "POST":
        for code in services.CATEGORIES:
            services.preference_set(
                actor=user,
                category=code,
                email=request.POST.get(f"{code}-email") == "on",
                sms=request.POST.get(f"{code}-sms") == "on",
            )
        return redirect("notify:preferences")
    return render(
        request,
        "notify/preferences.html",
        {"rows": selectors.preferences_for(user), "nav_active": "messages"},
    )
