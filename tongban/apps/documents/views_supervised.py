"""督查督办 pages: the list (tasks I supervise / my department owns), a new task (from a
document, a receipt or a meeting decision), and the task's detail with its owners,
progress reports and the supervisor's or owner's form."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.apps.documents import permissions as p
from tongban.apps.documents import selectors_supervised as selectors
from tongban.apps.documents import supervised
from tongban.platform.access.decorators import permission, signed_in
from tongban.platform.access.services import deny, has_permission
from tongban.platform.orgs.models import Department
from tongban.platform.ui.forms import date_or_none as _day
from tongban.platform.ui.forms import error_lines as _error_lines
from tongban.platform.ui.forms import int_or_none as _number

NAV = "documents"
PAGE_SIZE = 20


@signed_in
def task_list(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not selectors.may_use_tasks(actor):
        deny(actor, p.TASK_REPORT)
    role = request.GET.get("role", "")
    if role not in (selectors.ROLE_SUPERVISOR, selectors.ROLE_OWNER):
        role = ""
    state = request.GET.get("state", "live")
    if state not in selectors.FILTERS:
        state = "live"
    query = request.GET.get("q", "")[:100]
    rows = selectors.task_list_for(actor, role=role, state=state, query=query)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "documents/tasks.html",
        {
            "nav_active": NAV,
            "page": page,
            "role": role,
            "state": state,
            "query": query,
            "may_create": has_permission(actor, p.TASK_SUPERVISE),
            "states": [
                ("live", _("办理中")),
                ("overdue", _("已逾期")),
                ("done", _("已办结/撤销")),
                ("all", _("全部")),
            ],
        },
    )


def _source(actor: Any, post: Any) -> dict[str, Any]:
    """The source fields from the form (a document's public id, a receipt id, or a meeting)."""
    kind = post.get("source_kind", "meeting")
    if kind == "document":
        try:
            public_id = str(uuid.UUID(post.get("source_document", "").strip()))
        except ValueError as bad:
            raise ValidationError({"source": _("请填写有效的发文编号")}) from bad
        document = selectors.source_document_for(actor, public_id)
        if document is None:
            raise ValidationError({"source": _("找不到该发文，或您无权查阅")})
        return {"source_document": document}
    if kind == "receipt":
        receipt = selectors.source_receipt_for(actor, _number(post.get("source_receipt")) or 0)
        if receipt is None:
            raise ValidationError({"source": _("找不到该收文，或您无权查阅")})
        return {"source_receipt": receipt}
    return {"meeting": post.get("meeting", "")}


@permission(p.TASK_SUPERVISE)
def task_new(request: HttpRequest) -> HttpResponse:
    actor = request.user
    supervisors = supervised.supervising_departments(actor)
    if not supervisors:
        deny(actor, p.TASK_SUPERVISE)
    errors: list[str] = []
    posted: dict[str, Any] = {}
    if request.method == "POST":
        posted = request.POST.dict()
        post = request.POST
        supervisor = next(
            (d for d in supervisors if d.pk == _number(post.get("supervisor"))), supervisors[0]
        )
        try:
            task = supervised.task_create(
                actor=actor,
                title=post.get("title", ""),
                requirement=post.get("requirement", ""),
                deadline=_day(post.get("deadline")),
                owners=[n for n in (_number(v) for v in post.getlist("owners")) if n is not None],
                lead_owner=_number(post.get("lead_owner")),
                supervisor=supervisor,
                **_source(actor, post),
            )
        except ValidationError as error:
            errors = list(dict.fromkeys(_error_lines(error)))
        else:
            messages.success(request, _("已立项督办，编号%(number)s") % {"number": task.number})
            return redirect("documents:task_detail", task_id=task.pk)
    else:
        posted = {
            "source_kind": "receipt" if request.GET.get("receipt") else "meeting",
            "source_receipt": request.GET.get("receipt", ""),
        }
        if request.GET.get("document"):
            posted = {"source_kind": "document", "source_document": request.GET["document"]}
    return render(
        request,
        "documents/task_new.html",
        {
            "nav_active": NAV,
            "supervisors": supervisors,
            "departments": Department.objects.filter(is_active=True).order_by("code"),
            "owner_ids": {str(v) for v in request.POST.getlist("owners")},
            "errors": errors,
            "posted": posted,
        },
        status=422 if errors else 200,
    )


def _detail(request: HttpRequest, task: Any, *, errors: list[str] | None = None) -> HttpResponse:
    actor = request.user
    reports = selectors.task_reports(task)
    actions = selectors.task_actions(actor, task)
    return render(
        request,
        "documents/task_detail.html",
        {
            "nav_active": NAV,
            "task": task,
            "owners": selectors.task_owners(task),
            "percent": selectors.latest_percent(reports),
            "reports": reports,
            "actions": actions,
            "my_owners": [
                owner
                for owner in supervised.owner_departments_for(actor, task)
                if owner.completed_at is None
            ]
            if "report" in actions
            else [],
            "errors": errors or [],
            "posted": request.POST if errors else {},
        },
        status=422 if errors else 200,
    )


@signed_in
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    return _detail(request, selectors.access_task_by_id(request.user, task_id))


@require_POST
@signed_in
def task_act(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    actor = request.user
    if action not in ("report", "remind", "close", "cancel"):
        raise Http404
    task = selectors.access_task_by_id(actor, task_id)
    post = request.POST
    try:
        if action == "report":
            department_id = _number(post.get("department"))
            supervised.task_report(
                actor=actor,
                task=task,
                text=post.get("text", ""),
                percent=_number(post.get("percent")) or 0,
                completed=post.get("completed") == "on",
                department=Department.objects.filter(pk=department_id).first()
                if department_id
                else None,
            )
            done = _("已报送进展")
        elif action == "remind":
            count = supervised.task_remind(actor=actor, task=task)
            done = _("已催办%(n)s个责任单位") % {"n": count}
        elif action == "close":
            supervised.task_close(actor=actor, task=task, comment=post.get("comment", ""))
            done = _("督办事项已办结")
        else:
            supervised.task_cancel(actor=actor, task=task, reason=post.get("reason", ""))
            done = _("督办事项已撤销")
    except ValidationError as error:
        return _detail(request, task, errors=list(dict.fromkeys(_error_lines(error))))
    messages.success(request, done)
    return redirect("documents:task_detail", task_id=task.pk)
